// Golden vectors: the recording and replay adapters and the two campaigns (see vectors.hpp).
#include "gate/vectors.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "impl/abi.hpp"
#include "impl/kernels/common.hpp"
#include "properties/case.hpp"
#include "properties/judge.hpp"
#include "properties/runner.hpp"
#include "properties/spec_cache.hpp"
#include "reference/exact_reference.hpp"

namespace ropecheck::gate {

const std::map<std::string, std::string>& live_only_properties() {
  static const std::map<std::string, std::string> live = {
      {"kernelIsDeterministic",
       "a replay answers the same call the same way by construction: determinism needs a live kernel"},
  };
  return live;
}

namespace {

using json = nlohmann::ordered_json;

// A kernel call as both ABIs make it: the ABI 1 arguments become a q-only call.
struct CallView {
  const rc_spec* spec;
  int64_t n_tokens;
  // Position rows: rc_spec.n_axes for a multi-axis spec (only a kernel declaring
  // RC_FEATURE_MULTI_AXIS is given one), else 1.
  int64_t axes() const { return spec->n_axes > 1 ? spec->n_axes : 1; }
  const void* positions;
  int32_t position_dtype;
  rc_tensor q, k;
  int32_t inverse, rotary_offset, n_threads;
  int64_t seq_len;  // rc_call.seq_len (0 in an ABI 1 call)
};

// The session the adapters' entry points reach (one per process, see vectors.hpp).
struct Session {
  enum class Mode { kRecord, kReplay } mode = Mode::kRecord;
  const rc_kernel_desc* inner = nullptr;  // kRecord: the kernel that answers
  rc_kernel_desc adapter{};
  int32_t in_dtype = 0, out_dtype = 0;
  VectorCases* file = nullptr;          // kRecord: what is recorded
  const VectorCases* source = nullptr;  // kReplay: what answers
  std::unordered_map<std::string, size_t> index;  // call key -> index into file->calls
  std::map<std::string, size_t> spec_index;       // spec key -> index into file->call_specs
  std::string property;                           // the property being judged (before_case)
  RopeSpec current_spec;                          // the spec of the case being judged
  // kReplay: calls answered / not in the file, per property of the current unit.
  std::map<std::string, std::pair<uint64_t, std::string>> unit_misses;  // property -> (count, first)
  uint64_t answered = 0, missed = 0;
  std::vector<size_t>* trace = nullptr;  // kReplay: the file indices of the calls looked up
  std::string first_missed;              // kReplay: the first call not in the file, described
  // kRecord, a cache-reading contract: per call spec, the cache rows read so far (cos, sin).
  std::map<size_t, std::map<int64_t, std::pair<std::vector<unsigned char>, std::vector<unsigned char>>>> cache_rows;
  // The report's sweeps call from several threads at once: one call at a time through here.
  std::mutex mutex;
};
Session* g_session = nullptr;

size_t elem_size(int32_t dtype) { return props::dtype_size(dtype); }

void put(std::string& k, int64_t v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); }

// The positions as int64, whatever dtype they were passed as (every axis's row, axis-major).
std::vector<int64_t> positions_of(const CallView& c) {
  std::vector<int64_t> p(static_cast<size_t>(std::max<int64_t>(0, c.n_tokens) * c.axes()));
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] = c.position_dtype == RC_DTYPE_I32 ? static_cast<const int32_t*>(c.positions)[i]
                                            : static_cast<const int64_t*>(c.positions)[i];
  }
  return p;
}

// Copies the vectors of a call between the strided buffers and the logical order (per token,
// q's heads then k's), `es` bytes per element.
template <class F>
void for_each_vector(const CallView& c, F&& f) {
  const int64_t hd = c.spec->head_dim;
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    int64_t logical = t * (c.q.n_heads + (c.k.in ? c.k.n_heads : 0));
    for (int g = 0; g < 2; ++g) {
      const rc_tensor& tensor = g == 0 ? c.q : c.k;
      if (g == 1 && tensor.in == nullptr) break;
      for (int64_t h = 0; h < tensor.n_heads; ++h, ++logical) {
        f(tensor, t * tensor.token_stride + h * tensor.head_stride, t * tensor.out_token_stride + h * tensor.out_head_stride,
          logical * hd, hd);
      }
    }
  }
}

VectorCall call_of(const CallView& c, int32_t in_dtype) {
  VectorCall v;
  v.n_tokens = c.n_tokens;
  v.positions = positions_of(c);
  v.position_dtype = c.position_dtype;
  v.q_heads = c.q.n_heads;
  v.k_heads = c.k.in ? c.k.n_heads : 0;
  v.strides[0] = c.q.token_stride;
  v.strides[1] = c.q.head_stride;
  v.strides[2] = c.k.in ? c.k.token_stride : 0;
  v.strides[3] = c.k.in ? c.k.head_stride : 0;
  v.in_place = c.q.in == c.q.out;
  v.inverse = c.inverse != 0;
  v.rotary_offset = c.rotary_offset;
  v.n_threads = c.n_threads;
  v.seq_len = c.seq_len;
  const size_t es = elem_size(in_dtype);
  v.x.resize(static_cast<size_t>(c.n_tokens * v.heads() * c.spec->head_dim) * es);
  for_each_vector(c, [&](const rc_tensor& t, int64_t in_off, int64_t, int64_t logical, int64_t hd) {
    std::memcpy(v.x.data() + static_cast<size_t>(logical) * es, static_cast<const char*>(t.in) + static_cast<size_t>(in_off) * es,
                static_cast<size_t>(hd) * es);
  });
  for (size_t i = 0; i < v.x.size() / es; ++i) {
    if (!std::isfinite(props::load_element(v.x.data(), i, in_dtype))) v.nonfinite = true;
  }
  return v;
}

// The content key of a call: what must be equal for a recorded answer to answer it.
std::string call_key(const std::string& spec_key, const VectorCall& v) {
  std::string k = spec_key;
  k.push_back('\0');
  for (int64_t f : {v.n_tokens, static_cast<int64_t>(v.positions.size()), static_cast<int64_t>(v.position_dtype), v.q_heads, v.k_heads,
                    v.strides[0], v.strides[1], v.strides[2], v.strides[3], static_cast<int64_t>(v.in_place),
                    static_cast<int64_t>(v.inverse), static_cast<int64_t>(v.rotary_offset), static_cast<int64_t>(v.n_threads), v.seq_len}) {
    put(k, f);
  }
  for (int64_t p : v.positions) put(k, p);
  k.append(reinterpret_cast<const char*>(v.x.data()), v.x.size());
  return k;
}

std::string describe_call(const VectorCall& v) {
  std::ostringstream os;
  const auto n = static_cast<size_t>(v.n_tokens);
  const size_t axes = n > 0 ? v.positions.size() / n : 1;
  os << n << " token(s), " << v.q_heads << " q + " << v.k_heads << " k head(s), t = [";
  for (size_t i = 0; i < n && i < 4; ++i) {
    os << (i ? ", " : "");
    for (size_t a = 0; a < axes; ++a) os << (a ? ":" : "") << format_position(v.positions[a * n + i]);  // t:h:w
  }
  os << (n > 4 ? ", ...]" : "]") << (v.inverse ? ", inverse" : "") << (v.in_place ? ", in place" : "");
  if (v.seq_len != 0) os << ", seq_len " << v.seq_len;
  return os.str();
}

size_t add_spec(Session& s, const RopeSpec& spec) {
  const std::string key = props::spec_cache_key(spec);
  if (auto it = s.spec_index.find(key); it != s.spec_index.end()) return it->second;
  CallSpec cs;
  cs.spec = spec;
  const ref::ExactReference exact(cs.spec);
  for (int j = 0; j < cs.spec.pairs(); ++j) cs.inv_freq.push_back(exact.theta(j));
  cs.attention_factor = exact.attention_factor();
  s.file->call_specs.push_back(std::move(cs));
  s.spec_index.emplace(key, s.file->call_specs.size() - 1);
  return s.file->call_specs.size() - 1;
}

// The index of a call's spec, and of the spec its frequencies follow (seq_len > 0: the same
// spec at that length).
std::pair<size_t, size_t> spec_index(Session& s, const rc_spec* spec, int64_t seq_len) {
  const std::string key = impl::spec_key(*spec);
  size_t index;
  if (auto it = s.spec_index.find(key); it != s.spec_index.end()) {
    index = it->second;
  } else {
    // A spec first seen in a call: the case being judged has it (before_case set it), or its
    // other layout (interleavedEqualsPermutedHalfSplit calls the kernel with both).
    RopeSpec other = s.current_spec;
    other.layout = other.layout == Layout::kInterleaved ? Layout::kHalfSplit : Layout::kInterleaved;
    if (props::spec_cache_key(s.current_spec) == key) {
      index = add_spec(s, s.current_spec);
    } else if (props::spec_cache_key(other) == key) {
      index = add_spec(s, other);
    } else {
      throw std::logic_error("vectors: a call's spec is neither the judged case's nor its other layout");
    }
  }
  if (seq_len <= 0) return {index, index};
  RopeSpec at_length = s.file->call_specs[index].spec;
  at_length.seq_len = seq_len;
  return {index, add_spec(s, at_length)};
}

int refuse(const CallView& c, char* reason, int32_t reason_size, int status, const std::string& why) {
  (void)c;
  if (reason != nullptr && reason_size > 0) std::snprintf(reason, static_cast<size_t>(reason_size), "%s", why.c_str());
  return status;
}

// The cache rows a call reads (its positions on every axis inside [0, cache_rows)), kept once
// per spec: rotary_dim elements of each table's row as the kernel was given them.
void record_cache_rows(Session& s, size_t spec, const rc_spec& cspec, const rc_call& call, const std::vector<int64_t>& positions) {
  const size_t es = elem_size(s.inner->cache_dtype);
  const auto row_bytes = static_cast<size_t>(cspec.rotary_dim) * es;
  CallSpec& cs = s.file->call_specs[spec];
  cs.cache_rows = call.cache_rows;
  auto& rows = s.cache_rows[spec];
  for (int64_t p : positions) {
    if (p < 0 || p >= call.cache_rows || rows.count(p)) continue;
    const auto at = static_cast<size_t>(p * call.cache_row_stride) * es;
    const auto* cos = static_cast<const unsigned char*>(call.cos) + at;
    std::vector<unsigned char> sin;
    if (impl::cache_of(*s.inner) != RC_CACHE_COS_SIN_HALVES) {
      const auto* sp = static_cast<const unsigned char*>(call.sin) + at;
      sin.assign(sp, sp + row_bytes);
    }
    rows.emplace(p, std::make_pair(std::vector<unsigned char>(cos, cos + row_bytes), std::move(sin)));
  }
}

// Both adapters' apply: record (call the inner kernel, keep inputs and answer) or replay.
int adapter_apply(const CallView& c, void* handle, const rc_call* call2, char* reason, int32_t reason_size,
                  const int64_t* positions1, const void* in1, void* out1) {
  Session& s = *g_session;
  const std::lock_guard<std::mutex> lock(s.mutex);
  VectorCall v = call_of(c, s.in_dtype);
  if (s.mode == Session::Mode::kRecord) {
    int status;
    if (const rc_apply2_fn apply2 = impl::apply2_of(*s.inner)) {
      status = apply2(c.spec, handle, call2);
    } else {
      status = s.inner->apply(c.spec, handle, positions1, c.n_tokens, c.q.n_heads, c.q.token_stride, c.q.head_stride, in1, out1);
    }
    const std::string key = call_key(impl::spec_key(*c.spec), v);
    if (s.index.count(key)) return status;  // the same call again: its first answer is kept
    const auto [spec, freq_spec] = spec_index(s, c.spec, v.seq_len);
    v.spec = static_cast<int32_t>(spec);
    v.freq_spec = static_cast<int32_t>(freq_spec);
    v.status = status;
    if (call2 != nullptr && call2->cos != nullptr) record_cache_rows(s, spec, *c.spec, *call2, v.positions);
    if (status == RC_OK) {
      const size_t es = elem_size(s.out_dtype);
      v.y.resize(v.x.size() / elem_size(s.in_dtype) * es);
      for_each_vector(c, [&](const rc_tensor& t, int64_t, int64_t out_off, int64_t logical, int64_t hd) {
        std::memcpy(v.y.data() + static_cast<size_t>(logical) * es, static_cast<const char*>(t.out) + static_cast<size_t>(out_off) * es,
                    static_cast<size_t>(hd) * es);
      });
    }
    s.index.emplace(key, s.file->calls.size());
    s.file->calls.push_back(std::move(v));
    return status;
  }
  // Replay.
  const auto it = s.index.find(call_key(impl::spec_key(*c.spec), v));
  if (it == s.index.end()) {
    ++s.missed;
    if (s.first_missed.empty()) s.first_missed = describe_call(v);
    auto& m = s.unit_misses[s.property];
    if (m.first++ == 0) m.second = describe_call(v);
    return refuse(c, reason, reason_size, RC_ERR_UNSUPPORTED, "ropecheck: this call is not in the golden-vector cases file");
  }
  ++s.answered;
  if (s.trace) s.trace->push_back(it->second);
  const VectorCall& r = s.source->calls[it->second];
  if (r.status != RC_OK) return refuse(c, reason, reason_size, r.status, "refused in the outputs file (status " + std::to_string(r.status) + ")");
  const size_t es = elem_size(s.out_dtype);
  for_each_vector(c, [&](const rc_tensor& t, int64_t, int64_t out_off, int64_t logical, int64_t hd) {
    std::memcpy(static_cast<char*>(t.out) + static_cast<size_t>(out_off) * es, r.y.data() + static_cast<size_t>(logical) * es,
                static_cast<size_t>(hd) * es);
  });
  return RC_OK;
}

// ABI 2 entry points.
int apply2_tramp(const rc_spec* spec, void* handle, const rc_call* call) {
  const CallView c{spec, call->n_tokens, call->positions, call->position_dtype, call->q, call->k,
                   call->inverse, call->rotary_offset, call->n_threads, call->seq_len};
  return adapter_apply(c, handle, call, call->reason, call->reason_size, nullptr, nullptr, nullptr);
}
int prepare2_tramp(const rc_spec* spec, void** handle, char* reason, int32_t reason_size) {
  const Session& s = *g_session;
  if (s.mode == Session::Mode::kReplay) return RC_OK;
  if (const rc_prepare2_fn p2 = impl::prepare2_of(*s.inner)) return p2(spec, handle, reason, reason_size);
  return s.inner->prepare ? s.inner->prepare(spec, handle) : RC_OK;
}
// ABI 1 entry points (an ABI 1 contract keeps ABI 1: the generators draw ABI 2 shapes only for
// ABI 2 kernels, and the cases must be check's).
int apply1_tramp(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                 int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  rc_tensor q{in, out, n_heads, token_stride, head_stride, token_stride, head_stride};
  const CallView c{spec, n_tokens, positions, RC_DTYPE_I64, q, rc_tensor{}, 0, 0, 0, 0};
  return adapter_apply(c, handle, nullptr, nullptr, 0, positions, in, out);
}
int prepare1_tramp(const rc_spec* spec, void** handle) { return prepare2_tramp(spec, handle, nullptr, 0); }
void release_tramp(void* handle) {
  const Session& s = *g_session;
  if (s.mode == Session::Mode::kRecord && s.inner->release && handle) s.inner->release(handle);
}

// The adapter descriptor: the contract's, with the adapter's entry points.
rc_kernel_desc adapter_of(const rc_kernel_desc& inner) {
  rc_kernel_desc d{};
  // An ABI 1 plugin's descriptor ends at `apply`: nothing beyond it is read.
  std::memcpy(&d, &inner, impl::is_abi2(inner) ? sizeof d : offsetof(rc_kernel_desc, features));
  d.prepare = prepare1_tramp;
  d.release = release_tramp;
  if (impl::is_abi2(inner)) {
    d.apply = nullptr;
    d.prepare = nullptr;
    d.prepare2 = prepare2_tramp;
    d.apply2 = apply2_tramp;
  } else {
    d.apply = apply1_tramp;
  }
  return d;
}

class SessionScope {
 public:
  explicit SessionScope(Session& s) { g_session = &s; }
  ~SessionScope() { g_session = nullptr; }
  SessionScope(const SessionScope&) = delete;
  SessionScope& operator=(const SessionScope&) = delete;
};

std::vector<std::string> judged_properties() {
  std::vector<std::string> p;
  for (const props::Property& prop : props::catalogue()) {
    if (!live_only_properties().count(prop.id)) p.push_back(prop.id);
  }
  return p;
}

// The campaign a file records and replays: the gate's, or (narrow_cases) its candidates alone.
CampaignOptions campaign_options(const impl::Kernel* adapter, const VectorCases& f, Session& s, const std::string& out_dir) {
  CampaignOptions o;
  o.kernels = {adapter};
  o.specs = f.unit_specs;
  o.generated_specs = f.generated_specs;
  o.many_tokens = f.many_tokens;
  o.properties = f.properties;
  o.cases = f.cases;
  o.seed = f.seed;
  if (!f.narrow_cases.empty()) {
    o.specs = {f.narrow_cases.front().spec};
    o.generated_specs = o.many_tokens = false;
    o.cases = 0;
    o.sweep = f.narrow_cases;
  }
  o.isolation = false;  // the adapters live in this process
  o.jobs = 1;
  o.shrink = false;
  o.out_dir = out_dir;
  o.before_case = [&s](const Case& c, const char* property) {
    s.property = property;
    s.current_spec = c.spec;
  };
  return o;
}

}  // namespace

std::string contract_json(const rc_kernel_desc& d) {
  const rc_accuracy& a = d.accuracy;
  json j;
  j["name"] = d.name;
  j["abi_version"] = d.abi_version;
  j["in_dtype"] = impl::dtype_name(d.in_dtype);
  j["out_dtype"] = impl::dtype_name(d.out_dtype);
  j["layouts"] = d.layouts;
  j["scalings"] = d.scalings;
  j["placement"] = d.placement;
  j["max_position"] = d.max_position;
  j["head_dim"] = {d.head_dim_min, d.head_dim_max, d.head_dim_multiple};
  j["rotary_dim"] = {d.rotary_dim_min, d.rotary_dim_max, d.rotary_dim_multiple};
  j["accuracy"] = {{"angle_recipe", impl::angle_recipe_name(a.angle_recipe)},
                   {"angle_dtype", impl::dtype_name(a.angle_dtype)},
                   {"position_dtype", impl::dtype_name(a.position_dtype)},
                   {"sincos_dtype", impl::dtype_name(a.sincos_dtype)},
                   {"compute_dtype", impl::dtype_name(a.compute_dtype)},
                   {"output_rounding", impl::rounding_name(a.output_rounding)},
                   {"angle_unit_roundoff", props::hexfloat(a.angle_unit_roundoff)},
                   {"theta_rel_error", props::hexfloat(a.theta_rel_error)},
                   {"angle_product_error", props::hexfloat(a.angle_product_error)},
                   {"reduced_angle_abs_error", props::hexfloat(a.reduced_angle_abs_error)},
                   {"sincos_ulp", props::hexfloat(a.sincos_ulp)},
                   {"attention_rel_error", props::hexfloat(a.attention_rel_error)},
                   {"theta_rel_error_per_pair", props::hexfloat(impl::theta_error_per_pair_of(d))}};
  j["features"] = impl::features_of(d);
  j["position_dtypes"] = impl::position_dtypes_of(d);
  j["cache"] = impl::cache_convention_name(impl::cache_of(d));
  if (impl::cache_of(d) != RC_CACHE_NONE) j["cache_dtype"] = impl::dtype_name(d.cache_dtype);
  return j.dump();
}

VectorCases record_vectors(const RecordOptions& opt, CampaignResult* run) {
  const rc_kernel_desc& inner = *opt.kernel->desc;
  VectorCases file;
  file.kernel = inner.name;
  file.plugin = opt.kernel->origin == "built-in" ? "" : opt.kernel->origin;
  file.contract_json = contract_json(inner);
  file.seed = opt.seed;
  file.cases = opt.cases;
  file.generated_specs = opt.generated_specs;
  file.many_tokens = opt.many_tokens;
  file.unit_specs = opt.specs;
  file.properties = judged_properties();
  if (!opt.narrow_cases.empty()) {
    if (live_only_properties().count(opt.narrow_property) || props::find_property(opt.narrow_property) == nullptr) {
      throw SpecError("--narrow", "the failure's property " + opt.narrow_property + " cannot be judged from recorded outputs");
    }
    file.narrow_cases = opt.narrow_cases;
    file.properties = {opt.narrow_property};
    file.cases = 0;
    file.generated_specs = file.many_tokens = false;
    file.unit_specs = {opt.narrow_cases.front().spec};
  }
  file.in_dtype = inner.in_dtype;
  file.out_dtype = inner.out_dtype;
  file.cache = impl::cache_of(inner);
  file.cache_dtype = file.cache != RC_CACHE_NONE ? inner.cache_dtype : 0;

  Session s;
  s.mode = Session::Mode::kRecord;
  s.inner = &inner;
  s.adapter = adapter_of(inner);
  s.in_dtype = inner.in_dtype;
  s.out_dtype = inner.out_dtype;
  s.file = &file;
  const SessionScope scope(s);
  const impl::Kernel adapter{&s.adapter, opt.kernel->origin};
  const CampaignOptions o = campaign_options(&adapter, file, s, opt.out_dir);
  CampaignResult r = run_campaign(o);
  if (opt.also_record) {
    opt.also_record(adapter, [&s](const RopeSpec& spec) {
      s.property.clear();
      s.current_spec = spec;
    });
  }
  for (auto& [spec, rows] : s.cache_rows) {  // ascending positions (std::map)
    CallSpec& cs = file.call_specs[spec];
    for (auto& [p, row] : rows) {
      cs.cache_positions.push_back(p);
      cs.cache_cos.insert(cs.cache_cos.end(), row.first.begin(), row.first.end());
      cs.cache_sin.insert(cs.cache_sin.end(), row.second.begin(), row.second.end());
    }
  }
  if (run) *run = std::move(r);
  return file;
}

namespace {

// A replay session over `cases` for `contract`, whose contract must be the file's.
void open_replay(Session& s, const VectorCases& cases, const rc_kernel_desc& inner) {
  if (contract_json(inner) != cases.contract_json) {
    throw SpecError("cases.npz:meta", std::string("the contract of ") + inner.name +
                                          " differs from the one the cases were written for: write them again with "
                                          "`ropecheck vectors` (file: " + cases.contract_json + ")");
  }
  s.mode = Session::Mode::kReplay;
  s.adapter = adapter_of(inner);
  s.in_dtype = inner.in_dtype;
  s.out_dtype = inner.out_dtype;
  s.source = &cases;
  std::vector<std::string> spec_keys;
  for (const CallSpec& cs : cases.call_specs) spec_keys.push_back(props::spec_cache_key(cs.spec));
  for (size_t i = 0; i < cases.calls.size(); ++i) {
    s.index.emplace(call_key(spec_keys[static_cast<size_t>(cases.calls[i].spec)], cases.calls[i]), i);
  }
}

}  // namespace

ReplayCounts replay_calls(const VectorCases& cases, const impl::Kernel& contract,
                          const std::function<void(const impl::Kernel& adapter)>& run) {
  Session s;
  open_replay(s, cases, *contract.desc);
  const SessionScope scope(s);
  const impl::Kernel adapter{&s.adapter, contract.origin};
  run(adapter);
  return {s.answered, s.missed, s.first_missed};
}

JudgeResult judge_vectors(const VectorCases& cases, const impl::Kernel& contract, const std::string& out_dir) {
  JudgeResult out;
  Session s;
  open_replay(s, cases, *contract.desc);
  const VectorCases& file = cases;
  const SessionScope scope(s);
  const impl::Kernel adapter{&s.adapter, contract.origin};
  CampaignOptions o = campaign_options(&adapter, file, s, out_dir);
  o.replay_command = "(with a live kernel) ropecheck repro";
  std::map<std::string, std::string> na;  // property -> why (first unit that could not judge it)
  o.after_unit = [&](UnitResult& u) {
    for (PropertyOutcome& p : u.properties) {
      const auto m = s.unit_misses.find(p.property);
      if (m != s.unit_misses.end()) {
        // It needed a call the file does not hold: its failure (the refused call) is not the
        // user's; what it checked before stands.
        const std::string why = "needs a live kernel: " + std::to_string(m->second.first) +
                                " call(s) not in the cases file on spec " + u.spec_name + " (first: " + m->second.second + ")";
        p.failed = false;
        p.crash_class = false;
        p.counterexample.reset();
        p.worst_failure.reset();
        p.reason.clear();
        p.detail.clear();
        p.skip_reason = "not applicable (" + why + ")";
        if (!na.count(p.property)) na[p.property] = why;
        continue;
      }
      if (!p.failed || !p.counterexample) continue;
      // Name the failing case's calls in the file.
      std::vector<size_t> trace;
      s.trace = &trace;
      props::Judge judge;
      const props::Property* prop = props::find_property(p.property);
      if (prop != nullptr) (void)judge.judge(s.adapter, *prop, *p.counterexample);
      s.trace = nullptr;
      std::sort(trace.begin(), trace.end());
      trace.erase(std::unique(trace.begin(), trace.end()), trace.end());
      std::string idx;
      for (size_t i = 0; i < trace.size() && i < 16; ++i) idx += (i ? ", " : "") + std::to_string(trace[i]);
      if (trace.size() > 16) idx += ", ...";
      p.detail += "\n  cases file: call " + (idx.empty() ? std::string("(none)") : idx) +
                  " (index into the call_* arrays; not shrunk: a smaller case is a call the file does not hold)";
    }
    s.unit_misses.clear();
  };
  out.options = o;
  out.result = run_campaign(o);
  for (const auto& [p, why] : live_only_properties()) out.not_applicable.push_back({p, why});
  for (const auto& [p, why] : na) out.not_applicable.push_back({p, why});
  out.answered = s.answered;
  out.missed = s.missed;
  return out;
}

}  // namespace ropecheck::gate
