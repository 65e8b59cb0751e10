#include "fuzz/decode.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <streambuf>

#include <sys/stat.h>

#include "properties/edge_positions.hpp"

namespace ropecheck::fuzz {

const std::vector<std::string>& fuzz_target_names() {
  static const std::vector<std::string> names = {"differential", "metamorphic", "spec", "descriptor"};
  return names;
}

TargetFn find_target(const std::string& name) {
  if (name == "differential") return fuzz_differential;
  if (name == "metamorphic") return fuzz_metamorphic;
  if (name == "spec") return fuzz_spec;
  if (name == "descriptor") return fuzz_descriptor;
  return nullptr;
}

std::string fuzz_target_from_path(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') + 1);
  for (const std::string& t : fuzz_target_names()) {
    if (base.rfind(t + "-", 0) == 0 || base.rfind("fuzz_" + t, 0) == 0) return t;
  }
  // A file inside fuzz/corpus/<target>/ or a crashes directory named after its target.
  for (const std::string& t : fuzz_target_names()) {
    if (path.find("/" + t + "/") != std::string::npos) return t;
  }
  return "";
}

std::string default_corpus_dir() {
  const std::string d = std::string(ROPECHECK_FUZZ_SOURCE_DIR) + "/corpus";
  struct stat st {};
  return stat(d.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? d : "";
}
std::string default_dict_path() {
  const std::string p = std::string(ROPECHECK_FUZZ_SOURCE_DIR) + "/rope.dict";
  return std::ifstream(p) ? p : "";
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string short_hash(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

props::Finding replay_fuzz_input(const std::string& target, const std::vector<uint8_t>& bytes, std::ostream& out,
                                 const std::string& counterexample_dir) {
  const TargetFn fn = find_target(target);
  if (fn == nullptr) throw std::invalid_argument("unknown fuzz target '" + target + "'");
  out << "fuzz input: target " << target << ", " << bytes.size() << " bytes, kernels:";
  for (const rc_kernel_desc* d : target_kernels()) out << " " << d->name;
  out << "\n";
  if (target == "differential" || target == "metamorphic") {
    if (std::optional<Decoded> d = decode_case(bytes.data(), bytes.size())) {
      // Printed before the run, so a kernel that crashes still leaves the case on screen.
      out << "decoded case: " << props::describe(d->base) << "\ncase JSON (values before rounding to each kernel's dtype): "
          << props::case_to_json(d->base, -1) << "\n";
    }
  }
  if (target == "spec") {
    std::string text(bytes.begin(), bytes.end());
    text = text.substr(0, text.find('\0'));
    out << "input text (" << text.size() << " bytes before any NUL):\n" << text << "\n";
  }
  out << std::flush;
  RunOptions opt;
  opt.trace = &out;
  Result r;
  try {
    r = fn(bytes.data(), bytes.size(), opt);
  } catch (const std::exception& e) {  // the judge catches its own: this is the target's code
    out << kInternalMarker << "\nunexpected exception (a ropecheck bug): " << e.what() << "\n";
    return props::Finding::kInternal;
  }
  switch (r.finding) {
    case props::Finding::kSkip:
      out << "nothing was checked: " << r.report << "\n";
      break;
    case props::Finding::kPass:
      out << "every property checked holds\n";
      break;
    default:
      out << r.report;
      if (r.counterexample && !counterexample_dir.empty()) {
        try {
          std::set<std::string> taken;
          out << kCounterexampleLine << props::save_counterexample(counterexample_dir, *r.counterexample, taken) << "\n";
        } catch (const std::exception& e) {
          out << "the counterexample could not be saved: " << e.what() << "\n";
        }
      }
  }
  return r.finding;
}

namespace {

// An unbuffered stream onto the child's channel: what the child printed is in the pipe before
// the next kernel call, so a crash loses nothing.  (A few KB per replay: one write per insert
// is cheap.)
class ChannelBuf : public std::streambuf {
 public:
  explicit ChannelBuf(const impl::ChildChannel& ch) : ch_(ch) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    return ch_.write(std::string_view(&ch, 1)) ? c : traits_type::eof();
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    return ch_.write(std::string_view(s, static_cast<size_t>(n))) ? n : 0;
  }

 private:
  const impl::ChildChannel& ch_;
};

}  // namespace

impl::ChildOutcome replay_in_child(const std::string& target, const std::vector<uint8_t>& bytes, double timeout_seconds,
                                   std::FILE* echo, const std::string& counterexample_dir) {
  impl::SuperviseOptions opt;
  opt.overall_timeout = timeout_seconds;
  std::string pending;  // echoed up to its last whole line
  if (echo != nullptr) {
    opt.on_output = [&](std::string_view piece) {
      pending.append(piece);
      const size_t nl = pending.rfind('\n');
      if (nl == std::string::npos) return;
      std::fwrite(pending.data(), 1, nl + 1, echo);
      std::fflush(echo);
      pending.erase(0, nl + 1);
    };
  }
  impl::ChildOutcome res = impl::run_supervised(
      [&](const impl::ChildChannel& ch) {
        ChannelBuf buf(ch);
        std::ostream os(&buf);
        try {
          return static_cast<int>(replay_fuzz_input(target, bytes, os, counterexample_dir));
        } catch (const std::exception& e) {
          os << "internal error: " << e.what() << "\n";
          return static_cast<int>(props::Finding::kInternal);
        }
      },
      opt);
  if (echo != nullptr && !pending.empty()) {
    std::fwrite(pending.data(), 1, pending.size(), echo);
    std::fputc('\n', echo);
    std::fflush(echo);
  }
  return res;
}

std::string describe_replay(const impl::ChildOutcome& replay) {
  std::ostringstream os;
  switch (replay.end) {
    case impl::ChildOutcome::End::kVerdict:
      os << "the replay ended with the finding '" << props::to_string(static_cast<props::Finding>(replay.verdict)) << "'";
      break;
    case impl::ChildOutcome::End::kSignal:
      os << "a kernel " << replay.describe();
      break;
    case impl::ChildOutcome::End::kExited:
      os << "the kernel exited the process with status " << replay.exit_status << " (a kernel must return, never exit)";
      break;
    case impl::ChildOutcome::End::kTimeout:
      os << "a kernel hung (no result within " << replay.limit_seconds << " s; killed)";
      break;
    case impl::ChildOutcome::End::kException:
      os << "the replay " << replay.describe();
      break;
    case impl::ChildOutcome::End::kNoChild:
      os << "could not start the replay process: " << replay.error;
      break;
  }
  return os.str();
}

// ---- seeds --------------------------------------------------------------------------------

namespace {

// Deterministic values in [-2, 2) as f32 bit patterns (a fixed LCG; seeds must not change
// between builds).
void fill_f32(std::vector<uint8_t>& raw, size_t n, uint64_t seed) {
  raw.resize(n * 4);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (size_t i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const float f = static_cast<float>(static_cast<double>(s >> 40) * 0x1p-24 * 4.0 - 2.0);
    std::memcpy(&raw[4 * i], &f, 4);
  }
}

// A case at edge position `t` (and 0 for a second token), cycling types and layouts, with
// the type-specific selectors `p`.
CaseChoice edge_case(size_t i, int64_t t, bool special_values, std::array<uint8_t, 6> p = {},
                     std::optional<uint8_t> rotary = std::nullopt) {
  CaseChoice c;
  std::copy(p.begin(), p.end(), c.spec.p);
  c.spec.type = static_cast<uint8_t>(i % 7);
  c.spec.layout = static_cast<uint8_t>((i / 7) % 2);
  c.spec.head_dim = i % 5 == 4 ? static_cast<uint8_t>(128 + i % 23) : 0;  // mostly 128
  c.spec.rotary = rotary.value_or(i % 6 == 5 ? 170 : 0);                   // some partial rotary
  c.spec.base = static_cast<uint8_t>(i % 8);
  c.spec.context = static_cast<uint8_t>(i % 6);
  if (c.spec.type == static_cast<uint8_t>(RopeType::kLongrope)) {
    c.spec.longrope.assign(static_cast<size_t>(rotary_dim_of(c.spec)), 0);
    for (size_t j = 0; j < c.spec.longrope.size(); ++j) c.spec.longrope[j] = static_cast<uint8_t>((j * 7 + i) % 64);
  }
  const std::optional<RopeSpec> spec = make_spec(c.spec);
  if (!spec) return c;
  const std::vector<int64_t> edges = decoder_edge_positions(*spec);
  auto index_of = [&](int64_t v) {
    return static_cast<uint16_t>(std::find(edges.begin(), edges.end(), v) - edges.begin());
  };
  c.n_tokens = 2;
  c.n_heads = static_cast<uint8_t>(1 + i % 2);
  c.head_pad = static_cast<uint8_t>(i % 3 == 2 ? 1 : 7);
  c.token_pad = 2;
  c.positions.assign(2, PositionChoice{});
  c.positions[0].edge = index_of(t);
  c.positions[1].edge = index_of(i % 2 ? 0 : 4096);
  c.values.format = special_values ? 4 : 0;
  c.values.magnitude = 6;
  c.values.nonfinite = special_values ? 0 : 1;
  const size_t n = 2u * c.n_heads * static_cast<size_t>(head_dim_of(c.spec));
  if (special_values) {
    c.raw.resize(n);
    for (size_t k = 0; k < n; ++k) c.raw[k] = static_cast<uint8_t>(k + i);
  } else {
    fill_f32(c.raw, n, i);
  }
  c.property = static_cast<uint8_t>(i % 9);
  c.scale_exponent = static_cast<uint8_t>(i % 8);
  c.poison = static_cast<uint16_t>(i * 37);
  return c;
}

std::vector<uint8_t> text_bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// A descriptor seed that check_descriptor accepts (the order mirrors fuzz_descriptor.cc).
std::vector<uint8_t> valid_descriptor_seed(int32_t in_dtype) {
  Writer w;
  uint8_t yes = 1, zero = 0;
  w.io(yes, uint8_t{0}, uint8_t{255});  // abi: the valid one
  std::vector<uint8_t> name = {'\\', 'Z'};  // ConsumeRandomLengthString: "" (then the fixed name)
  w.bytes(name, 2);
  w.io(zero, uint8_t{0}, uint8_t{6});   // name "fuzzed_kernel"
  w.io(yes, uint8_t{0}, uint8_t{255});  // description
  auto i32 = [&](int32_t v, int32_t lo, int32_t hi) {
    w.io(yes, uint8_t{0}, uint8_t{255});
    w.io(v, lo, hi);
  };
  auto u32 = [&](uint32_t v, uint32_t lo, uint32_t hi) {
    w.io(yes, uint8_t{0}, uint8_t{255});
    w.io(v, lo, hi);
  };
  i32(in_dtype, 0, 7);
  i32(in_dtype, 0, 7);
  u32(3, 0, 4);
  u32(0x7F, 0, 0x80);
  u32(3, 0, 4);
  w.io(yes, uint8_t{0}, uint8_t{255});
  int64_t maxpos = int64_t{1} << 31;
  w.io(maxpos, int64_t{-2}, int64_t{1} << 53);
  i32(2, -1, 300);
  i32(256, -1, 300);
  i32(2, -1, 16);
  i32(2, -1, 300);
  i32(256, -1, 300);
  i32(2, -1, 16);
  i32(2, 0, 6);        // angle recipe
  i32(2, 0, 7);        // angle dtype f64
  i32(6, 0, 7);        // position i64
  i32(in_dtype, 0, 7); // sincos
  i32(in_dtype, 0, 7); // compute
  i32(1, 0, 4);        // output rounding NONE
  for (size_t v : {size_t{4}, size_t{2}, size_t{1}, size_t{0}, size_t{1}, size_t{0}}) {
    w.io(yes, uint8_t{0}, uint8_t{255});  // plausible double
    w.io(v, size_t{0}, size_t{9});        // 0x1p-53, 4, 1, 0, 1, 0
  }
  uint8_t fns = 0;
  w.io(fns, uint8_t{0}, uint8_t{255});
  return w.finish();
}

}  // namespace

// Seeds of the ABI 2 call part (decoder_reads_calls()): q/k calls of every shape in packed and
// separate buffers, int32 and int64 positions, decode batches; at edge positions up to the
// smallest max_position of the target kernels, so that the agreement is judged on them.
std::vector<std::vector<uint8_t>> call_seeds() {
  std::vector<std::vector<uint8_t>> out;
  int64_t max_t = INT64_MAX;
  for (const rc_kernel_desc* d : target_kernels()) max_t = std::min(max_t, d->max_position);
  std::vector<int64_t> ts;
  for (int64_t t : props::listed_edge_positions()) {
    if (t >= 0 && t <= max_t) ts.push_back(t);
  }
  if (ts.empty()) ts.push_back(0);
  for (size_t i = 0; i < 64; ++i) {
    CaseChoice c = edge_case(i, ts[(i * 5) % ts.size()], false);
    const std::optional<RopeSpec> spec = make_spec(c.spec);
    if (!spec) continue;
    const std::vector<int64_t> edges = decoder_edge_positions(*spec);
    c.positions[1].edge = static_cast<uint16_t>(std::find(edges.begin(), edges.end(), ts[(i * 3) % ts.size()]) - edges.begin());
    c.with_call = true;
    c.call.kv = static_cast<uint8_t>(i % 8);
    c.call.separate = static_cast<uint8_t>((i / 8) % 2);
    c.call.position_dtype = static_cast<uint8_t>((i / 2) % 3);
    c.call.decode = static_cast<uint8_t>(i % 3 == 0 ? 2 + (i / 3) % 6 : 0);
    c.call.decode_limit = 0;  // the smallest max_position of the set
    c.call.decode_seed = i * 0x9E3779B97F4A7C15ull;
    fill_f32(c.call.raw, call_value_bytes(c) / 4, 1000 + i);
    out.push_back(encode_case(c));
  }
  return out;
}

std::vector<std::vector<uint8_t>> seed_inputs(const std::string& target) {
  std::vector<std::vector<uint8_t>> out;
  if (target == "differential" || target == "metamorphic") {
    const std::vector<int64_t>& edges = props::listed_edge_positions();
    for (size_t i = 0; i < edges.size(); ++i) out.push_back(encode_case(edge_case(i, edges[i], false)));
    // Special values (±0, subnormals, NaN, Inf, huge, 2^k) at a few of them.
    for (size_t i = 0; i < edges.size(); i += 3) out.push_back(encode_case(edge_case(i + 1, edges[i], true)));
    // YaRN specs at the discontinuities of the correction range (make_spec's selectors: p[0]
    // 12 = factor 1/2; p[2] 14 = low, p[3] 13 = high within rounding of an integer; p[3] 14 =
    // beta_slow one ulp below beta_fast; p[2] 15 = beta_fast 1 < beta_slow 2, the ramp reversed;
    // p[4] 2 = not truncated).  i = 11 and 18 give yarn (i % 7 == 4) with head_dim 128, in
    // both layouts.
    for (const std::array<uint8_t, 6>& p : {std::array<uint8_t, 6>{0, 0, 0, 13, 0, 0},
                                            std::array<uint8_t, 6>{12, 0, 14, 0, 0, 0},
                                            std::array<uint8_t, 6>{1, 0, 0, 14, 2, 0},
                                            std::array<uint8_t, 6>{1, 0, 14, 13, 0, 0},
                                            std::array<uint8_t, 6>{1, 0, 15, 1, 2, 0}}) {
      for (const int64_t t : {int64_t{4097}, (int64_t{1} << 31) - 1}) {
        for (const size_t i : {size_t{11}, size_t{18}}) out.push_back(encode_case(edge_case(i, t, false, p)));
      }
    }
    // Gemma 4's proportional (default with p[0] >= 8; rotary 208 = a quarter of the head turns,
    // p[1] 4 = factor 2): i = 0 and 7 give the default type in both layouts, head_dim 128.
    for (const std::array<uint8_t, 6>& p : {std::array<uint8_t, 6>{8, 0, 0, 0, 0, 0},
                                            std::array<uint8_t, 6>{8, 4, 0, 0, 0, 0}}) {
      for (const int64_t t : {int64_t{4097}, (int64_t{1} << 31) - 1}) {
        for (const size_t i : {size_t{0}, size_t{7}}) out.push_back(encode_case(edge_case(i, t, false, p, 208)));
      }
    }
    // llama3 with low_freq_factor == high_freq_factor (Llama 4: no smooth band; make_spec's
    // p[3] 15).  i = 5 and 12 give llama3 (i % 7 == 5), in both layouts.
    for (const int64_t t : {int64_t{8193}, (int64_t{1} << 31) - 1}) {
      for (const size_t i : {size_t{5}, size_t{12}}) {
        out.push_back(encode_case(edge_case(i, t, false, std::array<uint8_t, 6>{0, 0, 0, 15, 0, 0})));
      }
    }
    if (decoder_reads_calls()) {
      for (std::vector<uint8_t>& s : call_seeds()) out.push_back(std::move(s));
    }
  } else if (target == "spec") {
    for (const char* s : {
             R"({"head_dim": 128, "base": 10000})",
             R"({"head_dim": 64, "rotary_dim": 32, "base": 1e6, "layout": "interleaved", "max_position_embeddings": 2048})",
             R"({"head_dim": 128, "base": 500000, "max_position_embeddings": 131072, "scaling": {"type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}})",
             R"({"head_dim": 128, "base": 10000, "max_position_embeddings": 65536, "scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 4096, "beta_fast": 32, "beta_slow": 1, "mscale": 1, "mscale_all_dim": 0, "truncate": false}})",
             R"({"head_dim": 8, "base": 10000, "max_position_embeddings": 8192, "seq_len": 8193, "scaling": {"type": "longrope", "short_factor": [1, 1.5], "long_factor": [2, 4], "original_max_position_embeddings": 4096}})",
             R"({"head_dim": 16, "base": 10000, "max_position_embeddings": 4096, "seq_len": 9000, "scaling": {"type": "dynamic", "factor": 2}})",
             R"({"rope_theta": 1000000.0, "hidden_size": 3584, "num_attention_heads": 28, "max_position_embeddings": 32768, "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}})",
             R"({"rope_theta": 10000.0, "head_dim": 80, "partial_rotary_factor": 0.4, "max_position_embeddings": 2048})",
             R"({"head_dim": 128, "base": NaN})",
             R"({"head_dim": 1e400})",
             R"({"head_dim": 128, "rotary_dim": 127})",
             R"({"head_dim": 128, "scaling": {"type": "ntk", "factor": -1}})",
         }) {
      out.push_back(text_bytes(s));
    }
    // With a NUL and a position: 2^63-1 (all bits of the int64), and 2^31.
    std::vector<uint8_t> a = text_bytes(R"({"head_dim": 128, "base": 10000})");
    a.push_back(0);
    for (int k = 0; k < 8; ++k) a.push_back(0xFF);
    out.push_back(a);
    std::vector<uint8_t> b = text_bytes(R"({"head_dim": 64, "base": 500000, "scaling": {"type": "linear", "factor": 0.25}})");
    for (int v : {0, 0, 0, 0, 0x80, 0, 0, 0, 0}) b.push_back(static_cast<uint8_t>(v));
    out.push_back(b);
  } else if (target == "descriptor") {
    for (int32_t dt : {RC_DTYPE_F32, RC_DTYPE_F64, RC_DTYPE_F16, RC_DTYPE_BF16}) out.push_back(valid_descriptor_seed(dt));
    out.push_back(std::vector<uint8_t>(64, 0));
    out.push_back(std::vector<uint8_t>(128, 0xFF));
    out.push_back(std::vector<uint8_t>(96, 0x01));
  }
  return out;
}

}  // namespace ropecheck::fuzz
