#include "fuzz/fuzz_common.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "impl/abi.hpp"
#include "impl/kernels/common.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/edge_positions.hpp"

namespace ropecheck::fuzz {

namespace {

// head_dim: selector < 128 gives 128 (the common LLM head); the rest cover small, odd-pair,
// non-power-of-two and the largest (256) heads.
constexpr int kHeadDims[] = {64, 256, 2, 4, 6, 8, 10, 16, 32, 48, 80, 96, 112, 120, 160, 192, 200, 250, 254, 18, 34, 66, 130, 64};
constexpr double kBases[] = {1e4, 5e5, 1e6, 1e4, 1.5e5, 100, 1e7, 1e9};
// L0 / max_position_embeddings.  Table kernels build a cos/sin table of this many rows per
// spec (a cache miss costs ~10 µs per row), so mostly short ones; the positions themselves
// go far beyond (edge positions up to 2^63-1 are computed off the table).
constexpr int64_t kContexts[] = {1024, 512, 256, 2048, 1024, 512, 4096, 8192};
constexpr int kMagnitudeExp[] = {4, 0, 10, 20, 60, 120, 1100, 2};

double special_value(uint8_t b) {
  static const double kSpecial[] = {
      0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, -7.0,
      0x1p-149, -0x1p-149,            // smallest f32 subnormal
      0x1.fffffcp-127, 0x1p-126,      // largest f32 subnormal, smallest normal
      0x1p-24, 0x1p-14, 0x1.ffcp-15,  // f16: smallest subnormal, smallest normal, largest subnormal
      65504.0, 65520.0, -65504.0,     // f16 max, first value that rounds to f16 Inf
      0x1p127, 0x1.fffffep127,        // f32 huge and max (they overflow any rotation)
      0x1p-1074, 0x1p-1022,           // f64 subnormal, smallest normal
      std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      0.1, 3.141592653589793, 1e-30, 1e30, 0x1p100, 0x1p-100,
      0x1.000002p0, 0x1.fffffep-1, 0x1.8p0, 0x1p20, 0x1p24 + 2, -0x1.5555555555555p-2,
  };
  constexpr size_t n = sizeof kSpecial / sizeof kSpecial[0];
  return kSpecial[b % n];
}

struct KernelState {
  bool init = false;
  std::vector<const rc_kernel_desc*> list;
  std::vector<std::string> plugins;  // per kernel of `list`: "" built-in, else the plugin's path
  impl::KernelSet set;               // keeps the plugins of the environment loaded
  std::unique_ptr<props::Judge> judge;
  bool any_abi2 = false;             // decoder_reads_calls()
};
KernelState& kernel_state() {
  static KernelState s;
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= s.size();) {
    const size_t end = std::min(s.find(sep, at), s.size());
    if (end > at) out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

[[noreturn]] void refuse_environment(const std::string& why) {
  std::fprintf(stderr, "ropecheck fuzz: %s\n", why.c_str());
  std::exit(2);
}

// The set of the environment (target_kernels() above says which).
void load_environment_kernels(KernelState& st) {
  const char* plugins = std::getenv("ROPECHECK_FUZZ_PLUGIN");
  const char* names = std::getenv("ROPECHECK_FUZZ_KERNEL");
  st.set = impl::KernelSet::with_builtins();
  const size_t n_builtin = st.set.all().size();
  for (const std::string& p : split(plugins ? plugins : "", ':')) {
    try {
      impl::load_plugin(st.set, p);
    } catch (const impl::PluginCrashed& e) {  // crashed or hung while loading: exit 3, as every command
      std::fprintf(stderr, "ropecheck fuzz: CRASH: %s\n", e.what());
      std::exit(3);
    } catch (const std::exception& e) {
      refuse_environment(e.what());
    }
  }
  std::vector<const impl::Kernel*> chosen;
  for (const std::string& name : split(names ? names : "", ',')) {
    const impl::Kernel* k = st.set.find(name);
    if (k == nullptr) refuse_environment("no kernel named '" + name + "' (ROPECHECK_FUZZ_KERNEL)");
    chosen.push_back(k);
  }
  if (chosen.empty()) {
    const size_t from = st.set.all().size() > n_builtin ? n_builtin : 0;
    for (size_t i = from; i < st.set.all().size(); ++i) chosen.push_back(&st.set.all()[i]);
  }
  set_target_kernels(chosen);
}

}  // namespace

// ---- spec -------------------------------------------------------------------------------

int head_dim_of(const SpecChoice& s) {
  if (s.head_dim < 128) return 128;
  return kHeadDims[(s.head_dim - 128) % (sizeof kHeadDims / sizeof kHeadDims[0])];
}

int rotary_dim_of(const SpecChoice& s) {
  const int hd = head_dim_of(s);
  int rd = hd;
  if (s.rotary >= 232) {
    rd = 2 * (1 + (s.rotary - 232) % (hd / 2));  // any even width
  } else if (s.rotary >= 208) {
    rd = std::max(2, hd / 4 / 2 * 2);           // a quarter (GPT-NeoX 20B style)
  } else if (s.rotary >= 160) {
    rd = std::max(2, hd / 2 / 2 * 2);           // a half (Phi, ChatGLM)
  }
  const auto type = static_cast<RopeType>(s.type);
  if ((type == RopeType::kNtk || type == RopeType::kDynamic) && rd < 4 && hd >= 4) rd = 4;
  return rd;
}

std::optional<RopeSpec> make_spec(const SpecChoice& c) {
  RopeSpec s;
  s.type = static_cast<RopeType>(c.type);
  s.layout = c.layout ? Layout::kInterleaved : Layout::kHalfSplit;
  s.head_dim = head_dim_of(c);
  s.rotary_dim = rotary_dim_of(c);
  s.base = kBases[c.base % 8];
  const int64_t L0 = kContexts[c.context % 8];
  s.max_position_embeddings = L0;
  const uint8_t* p = c.p;
  switch (s.type) {
    case RopeType::kDefault:
      if (p[0] >= 8) {
        // Gemma 4's proportional: the rotary width chosen becomes the turning share (a quarter
        // with rotary 208..231: Gemma 4's 0.25), the pairing runs over the whole head.
        s.type = RopeType::kProportional;
        s.rope_angles = s.rotary_dim / 2;
        s.rotary_dim = s.head_dim;
        s.factor = std::array<double, 8>{1, 1, 1, 1, 2, 8, 0.5, 1}[p[1] % 8];
      }
      break;
    case RopeType::kLinear: {
      constexpr double f[] = {2, 4, 8, 0.5, 0.25, 16, 64, 3, 1, 1.5, 2, 4, 8, 32, 10, 40};
      s.factor = f[p[0]];
      break;
    }
    case RopeType::kNtk: {
      constexpr double f[] = {2, 4, 8, 1, 16, 64, 1.5, 32, 2, 4, 8, 3, 5, 10, 20, 40};
      s.factor = f[p[0]];
      break;
    }
    case RopeType::kDynamic: {
      constexpr double f[] = {2, 4, 8, 16, 1, 1.5, 32, 3, 2, 4, 8, 16, 1.25, 6, 2, 4};
      s.factor = f[p[0]];
      const int64_t seq[] = {L0 / 2, L0, L0 + 1, 4 * L0, 16 * L0, L0 - 1, 2 * L0, L0};
      s.seq_len = seq[p[1] % 8];
      break;
    }
    case RopeType::kYarn: {
      constexpr double f[] = {4, 16, 32, 40, 2, 64, 1.5, 8, 4, 16, 32, 40, 0.5, 16, 32, 40};
      s.factor = f[p[0]];
      s.original_max_position_embeddings = L0;
      s.max_position_embeddings = L0 * std::array<int64_t, 4>{1, 2, 4, 1}[p[1] % 4];
      s.beta_fast = std::array<double, 4>{32, 16, 64, 32}[p[2] % 4];
      s.beta_slow = std::array<double, 4>{1, 2, 0.5, 1}[p[3] % 4];
      // The correction range's discontinuities (error_model.hpp yarn_range_warning): a beta
      // whose correction dim x = d ln(L0/(2 pi beta))/(2 ln b) is an integer k to within
      // rounding (truncate then floors/ceils either way), or beta_slow one ulp below beta_fast
      // (high - low within rounding of 0); and swapped betas (the ramp reversed).
      const auto beta_at = [&](double k) {
        return static_cast<double>(L0) / (2 * M_PI) * std::pow(s.base, -2.0 * k / s.rotary_dim);
      };
      const auto dim_of = [&](double beta) {
        return s.rotary_dim * std::log(static_cast<double>(L0) / (2 * M_PI * beta)) / (2 * std::log(s.base));
      };
      if (p[2] == 14) s.beta_fast = beta_at(std::round(dim_of(32)));
      if (p[2] == 15) s.beta_fast = 1;  // below or at beta_slow: a reversed or empty ramp
      if (p[3] == 13) s.beta_slow = beta_at(std::round(dim_of(1)));
      if (p[3] == 14) s.beta_slow = std::nextafter(s.beta_fast, 0.0);
      s.truncate = p[4] % 3 != 2;
      switch (p[5]) {
        case 10: s.mscale = 1; break;
        case 11: s.mscale = 0.707; s.mscale_all_dim = 1; break;
        case 12: s.mscale = 1; s.mscale_all_dim = 1; break;
        case 13: s.mscale = 1; s.mscale_all_dim = 0.8; break;
        case 14: s.attention_factor = 1.3; break;
        case 15: s.attention_factor = 0.5; break;
        default: break;
      }
      break;
    }
    case RopeType::kLlama3: {
      s.factor = std::array<double, 4>{8, 32, 4, 8}[p[0] % 4];
      s.original_max_position_embeddings = std::array<int64_t, 4>{8192, 4096, L0, 8192}[p[1] % 4];
      s.low_freq_factor = p[2] % 2 ? 2.0 : 1.0;
      s.high_freq_factor = s.low_freq_factor + (p[3] % 2 ? 1.0 : 3.0);
      if (p[3] == 15) s.high_freq_factor = s.low_freq_factor;  // Llama 4: no smooth band
      s.max_position_embeddings = s.original_max_position_embeddings;
      break;
    }
    case RopeType::kLongrope: {
      s.original_max_position_embeddings = L0;
      s.max_position_embeddings = L0 * std::array<int64_t, 4>{2, 4, 8, 2}[p[0] % 4];
      s.factor = static_cast<double>(s.max_position_embeddings / L0);
      s.seq_len = std::array<int64_t, 4>{L0, L0 + 1, L0 / 2, s.max_position_embeddings}[p[1] % 4];
      const size_t pairs = static_cast<size_t>(s.pairs());
      for (size_t j = 0; j < pairs && 2 * j + 1 < c.longrope.size(); ++j) {
        // Exact in binary32, as HF stores them; long factors grow to 64.
        s.short_factor.push_back(1.0 + c.longrope[2 * j] / 32.0);
        s.long_factor.push_back(1.0 + c.longrope[2 * j + 1]);
      }
      if (p[2] == 15) s.attention_factor = 1.1;
      break;
    }
    case RopeType::kProportional:  // never SpecChoice::type: reached through kDefault above
    case RopeType::kNone:          // never SpecChoice::type either (the committed corpus's encoding)
      return std::nullopt;
  }
  try {
    validate(s);
  } catch (const SpecError&) {
    return std::nullopt;
  }
  return s;
}

std::string unreachable_reason(const rc_kernel_desc& d) {
  if (!(d.layouts & (RC_LAYOUT_BIT(static_cast<int>(Layout::kHalfSplit)) |
                     RC_LAYOUT_BIT(static_cast<int>(Layout::kInterleaved))))) {
    return "it declares neither the half_split nor the interleaved layout";
  }
  auto fits = [](int v, int lo, int hi, int multiple) { return v >= lo && v <= hi && v % std::max(1, multiple) == 0; };
  std::set<int> head_dims;
  bool any_type = false;
  for (int type = 0; type <= static_cast<int>(RopeType::kLongrope); ++type) {
    // Proportional comes through the default type's selectors (make_spec); its rotary_dim is
    // head_dim, which the full-width choice below covers.
    const uint32_t reached = RC_SCALING_BIT(type) | (type == 0 ? RC_SCALING_BIT(RC_ROPE_PROPORTIONAL) : 0u);
    if (!(d.scalings & reached)) continue;
    any_type = true;
    SpecChoice c;
    c.type = static_cast<uint8_t>(type);
    for (int h = 0; h < 256; ++h) {
      c.head_dim = static_cast<uint8_t>(h);
      const int hd = head_dim_of(c);
      head_dims.insert(hd);
      if (!fits(hd, d.head_dim_min, d.head_dim_max, d.head_dim_multiple)) continue;
      for (int r = 0; r < 256; ++r) {
        c.rotary = static_cast<uint8_t>(r);
        if (fits(rotary_dim_of(c), d.rotary_dim_min, d.rotary_dim_max, d.rotary_dim_multiple)) return "";
      }
    }
  }
  if (!any_type) return "it declares none of the rope types the fuzzers generate";
  std::ostringstream os;
  os << "its declared head_dim range [" << d.head_dim_min << ", " << d.head_dim_max << "]";
  if (d.head_dim_multiple > 1) os << " (multiples of " << d.head_dim_multiple << ")";
  bool hd_ok = false;
  for (int hd : head_dims) hd_ok = hd_ok || fits(hd, d.head_dim_min, d.head_dim_max, d.head_dim_multiple);
  if (hd_ok) {
    os.str("");
    os << "its declared rotary_dim range [" << d.rotary_dim_min << ", " << d.rotary_dim_max << "]";
    if (d.rotary_dim_multiple > 1) os << " (multiples of " << d.rotary_dim_multiple << ")";
    os << " fits none of the rotary widths the fuzzers generate for its head_dims (the full head, a half, a "
          "quarter, 2..48)";
    return os.str();
  }
  os << " contains none of the head_dims the fuzzers generate (";
  const char* sep = "";
  for (int hd : head_dims) {
    os << sep << hd;
    sep = ", ";
  }
  os << ")";
  return os.str();
}

size_t value_bytes(uint8_t format) {
  switch (format) {
    case 1:
    case 2: return 2;
    case 3: return 8;
    case 4: return 1;
    default: return 4;
  }
}

// ---- kernels -----------------------------------------------------------------------------

const std::vector<const rc_kernel_desc*>& target_kernels() {
  KernelState& st = kernel_state();
  if (!st.init) {
    st.init = true;
    load_environment_kernels(st);
  }
  return st.list;
}

const std::string& target_plugin(size_t n) {
  target_kernels();
  return kernel_state().plugins.at(n);
}

std::vector<std::string> target_plugins() {
  target_kernels();
  std::vector<std::string> out;
  for (const std::string& p : kernel_state().plugins) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

void set_target_kernels(const std::vector<const impl::Kernel*>& kernels) {
  KernelState& st = kernel_state();
  st.init = true;
  st.list.clear();
  st.plugins.clear();
  st.any_abi2 = false;
  for (const impl::Kernel* k : kernels) {
    st.list.push_back(k->desc);
    st.plugins.push_back(k->origin == "built-in" ? "" : k->origin);
    st.any_abi2 = st.any_abi2 || impl::calls_beyond_abi1(*k->desc);
  }
  st.judge.reset();
}

bool decoder_reads_calls() {
  target_kernels();
  return kernel_state().any_abi2;
}

props::Judge& fuzz_judge() {
  KernelState& st = kernel_state();
  if (!st.judge) {
    props::Judge::Options o;
    o.capacity = 2048;
    o.spot_check_every = 1000;
    o.first_spot_check_on_one_pair = true;
    st.judge = std::make_unique<props::Judge>(o);
  }
  return *st.judge;
}

// ---- decoding ----------------------------------------------------------------------------

std::vector<int64_t> decoder_edge_positions(const RopeSpec& spec) {
  // Every input decodes its positions through this list (some 200 positions): the spec's part
  // is kept per (L0, max_position_embeddings), the only parts of a spec it depends on.
  static std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> memo;
  const auto key = std::make_pair(spec.type != RopeType::kDefault ? spec.effective_original_max() : -1,
                                  spec.max_position_embeddings);
  auto hit = memo.find(key);
  if (hit == memo.end()) {
    if (memo.size() > 4096) memo.clear();
    hit = memo.emplace(key, props::edge_positions(spec, INT64_MAX)).first;
  }
  std::vector<int64_t> e = hit->second;
  for (const rc_kernel_desc* d : target_kernels()) {
    e.push_back(d->max_position);
    if (d->max_position < INT64_MAX) e.push_back(d->max_position + 1);  // must be refused
  }
  std::sort(e.begin(), e.end());
  e.erase(std::unique(e.begin(), e.end()), e.end());
  return e;
}

namespace {

int64_t decode_position(const PositionChoice& p, const std::vector<int64_t>& edges) {
  const int64_t edge = edges[p.edge % edges.size()];
  switch (p.mode) {
    case 4:
    case 5: {
      int64_t t = 0;
      if (__builtin_add_overflow(edge, static_cast<int64_t>(p.delta), &t)) t = INT64_MAX;
      return std::max<int64_t>(t, 0);
    }
    case 6:
      return static_cast<int64_t>(p.raw & ((uint64_t{1} << p.width) - 1));
    case 7: {
      int64_t t;
      std::memcpy(&t, &p.raw, sizeof t);  // any int64, negative ones included: must be refused
      return t;
    }
    default:
      return edge;
  }
}

double decode_value(const uint8_t* b, const ValueChoice& v) {
  double x = 0;
  switch (v.format) {
    case 1: {
      uint16_t h;
      std::memcpy(&h, b, 2);
      x = impl::f16_to_f32(h);
      break;
    }
    case 2: {
      uint16_t h;
      std::memcpy(&h, b, 2);
      x = impl::bf16_to_f32(h);
      break;
    }
    case 3:
      std::memcpy(&x, b, 8);
      break;
    case 4:
      x = special_value(b[0]);
      break;
    default: {
      float f;
      std::memcpy(&f, b, 4);
      x = f;
      break;
    }
  }
  if (!std::isfinite(x)) {
    // Most inputs have hundreds of values: a NaN pattern in any of them would send nearly
    // every input to the NaN property, so they are kept only when the input asks for them.
    if (v.nonfinite == 0) return x;
    return std::copysign(1.0 + b[0] / 256.0, std::signbit(x) ? -1.0 : 1.0);
  }
  const int e = kMagnitudeExp[v.magnitude];
  if (x != 0 && std::ilogb(x) >= e) x = std::ldexp(x, e - 1 - std::ilogb(x));  // keeps the significand
  return x;
}

uint64_t splitmix64(uint64_t& z) {
  uint64_t w = (z += 0x9E3779B97F4A7C15ull);
  w = (w ^ (w >> 30)) * 0xBF58476D1CE4E5B9ull;
  w = (w ^ (w >> 27)) * 0x94D049BB133111EBull;
  return w ^ (w >> 31);
}

// The call part of a choice (CallChoice) on a case whose spec, v1 heads and v1 positions are
// set: q and k heads, how positions are passed, the decode batch's tokens and every value
// (the first values, then those of the call part, repeated as needed).
void apply_call(const CaseChoice& c, const std::vector<int64_t>& edges, props::Case& k) {
  const CallChoice& call = c.call;
  const int64_t q = call_q_heads(c), kv = call_kv_heads(c);
  k.n_heads = q + kv;
  k.n_kv_heads = kv;
  k.separate_kv = kv > 0 && call.separate == 1;
  k.position_dtype = call.position_dtype == 1 ? RC_DTYPE_I32 : call.position_dtype == 2 ? RC_DTYPE_I64 : 0;
  // A decode batch: one token per sequence, each at a position of its own in [0, limit] (an
  // edge position at most limit one time in four); limit is the smallest max_position of the
  // target kernels for half the choices (every kernel can be judged on the whole batch), else
  // an edge position (each kernel's max_position and max_position + 1 among them).
  const int extra = kDecodeTokens[call.decode % 8];
  if (extra > 0) {
    int64_t smallest_max = INT64_MAX;
    for (const rc_kernel_desc* d : target_kernels()) smallest_max = std::min(smallest_max, d->max_position);
    const int64_t limit = std::max<int64_t>(
        0, call.decode_limit % 2 == 0 ? smallest_max : edges[(call.decode_limit / 2) % edges.size()]);
    const size_t below = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), limit) - edges.begin());
    uint64_t z = call.decode_seed;
    for (int i = 0; i < extra; ++i) {
      const uint64_t r = splitmix64(z);
      if ((r & 3) == 0 && below > 0) {
        k.positions.push_back(std::max<int64_t>(0, edges[(r >> 2) % below]));
      } else {
        k.positions.push_back(static_cast<int64_t>((r >> 2) % (static_cast<uint64_t>(limit) + 1)));
      }
    }
  }
  const size_t vb = value_bytes(c.values.format);
  const size_t n1 = c.raw.size() / vb, n2 = call.raw.size() / vb;
  k.x.resize(static_cast<size_t>(k.n_tokens() * k.n_heads * k.spec.head_dim));
  for (size_t i = 0; i < k.x.size(); ++i) {
    const size_t at = n1 + n2 == 0 ? 0 : i % (n1 + n2);
    k.x[i] = n1 + n2 == 0 ? 0.0
             : at < n1    ? decode_value(&c.raw[at * vb], c.values)
                          : decode_value(&call.raw[(at - n1) * vb], c.values);
  }
}

}  // namespace

std::optional<Decoded> decode_case(const uint8_t* data, size_t size) {
  Decoded d;
  Reader r(data, size);
  d.choice.with_call = decoder_reads_calls();
  codec(r, d.choice);
  const CaseChoice& c = d.choice;
  std::optional<RopeSpec> spec = make_spec(c.spec);
  if (!spec) return std::nullopt;
  props::Case& k = d.base;
  k.spec = *spec;
  k.n_heads = c.n_heads;
  if (c.head_pad <= 3) {
    k.head_pad = c.head_pad;
    k.token_pad = c.token_pad;
  }
  const std::vector<int64_t> edges = decoder_edge_positions(k.spec);
  for (const PositionChoice& p : c.positions) k.positions.push_back(decode_position(p, edges));
  const size_t vb = value_bytes(c.values.format);
  size_t n = c.raw.size() / vb;
  if (c.with_call) {
    apply_call(c, edges, k);
    n = k.x.size();
  } else {
    k.x.resize(n);
    for (size_t i = 0; i < n; ++i) k.x[i] = decode_value(&c.raw[i * vb], c.values);
  }
  constexpr int kScaleExponents[] = {1, -1, 2, -3, 10, -10, 60, -60};
  k.scale_exponent = kScaleExponents[c.scale_exponent % 8];
  k.poison = n == 0 ? 0 : static_cast<int64_t>(c.poison % n);
  return d;
}

int64_t call_q_heads(const CaseChoice& c) {
  if (!c.with_call || c.call.kv == 0) return c.n_heads;
  const KvShape& s = kKvShapes[(c.call.kv - 1) % 7];
  return s.q_per_h * c.n_heads + s.q_fixed;
}
int64_t call_kv_heads(const CaseChoice& c) {
  if (!c.with_call || c.call.kv == 0) return 0;
  const KvShape& s = kKvShapes[(c.call.kv - 1) % 7];
  return s.kv_per_h * c.n_heads + s.kv_fixed;
}
int64_t call_tokens(const CaseChoice& c) { return c.n_tokens + (c.with_call ? kDecodeTokens[c.call.decode % 8] : 0); }
size_t call_value_bytes(const CaseChoice& c) {
  const size_t all = static_cast<size_t>(call_tokens(c) * (call_q_heads(c) + call_kv_heads(c)) * head_dim_of(c.spec));
  const size_t first = static_cast<size_t>(c.n_tokens) * c.n_heads * static_cast<size_t>(head_dim_of(c.spec));
  return std::min((all - first) * value_bytes(c.values.format), kMaxCallValueBytes);
}

uint64_t call_key(const rc_kernel_desc& d) {
  return impl::features_of(d) | (uint64_t{impl::position_dtypes_of(d)} << 32);
}

std::vector<uint8_t> encode_case(CaseChoice c) {
  Writer w;
  codec(w, c);
  return w.finish();
}

props::Case case_for_kernel(const props::Case& base, const rc_kernel_desc& d) {
  props::Case c = props::in_call_shape(base, d);  // the same rotation asked the way the kernel declares
  for (double& v : c.x) v = props::round_to_dtype(v, d.in_dtype);
  return c;
}

bool all_finite(const props::Case& c) {
  return std::all_of(c.x.begin(), c.x.end(), [](double v) { return std::isfinite(v); });
}

double safe_magnitude(const rc_kernel_desc& d, double a) {
  const double m = std::min({props::largest_finite(d.in_dtype), props::largest_finite(d.out_dtype),
                             props::largest_finite(d.accuracy.compute_dtype)});
  return m / 64 / std::max(1.0, a);
}

// ---- entry and reports ----------------------------------------------------------------------

RunOptions& entry_options() {
  static RunOptions o;
  return o;
}

Result kernels_result(std::vector<uint8_t> checked, std::vector<std::string> skipped) {
  Result r(props::Finding::kPass, "");
  r.checked = std::move(checked);
  r.skipped = std::move(skipped);
  if (std::find(r.checked.begin(), r.checked.end(), 1) != r.checked.end()) return r;
  r.finding = props::Finding::kSkip;
  const auto& kernels = target_kernels();
  r.report = "every kernel skipped the case (";
  for (size_t n = 0; n < kernels.size() && n < r.skipped.size(); ++n) {
    r.report += (n ? "; " : "") + std::string(kernels[n]->name) + ": " + r.skipped[n];
  }
  r.report += ")";
  return r;
}

Result failure_result(const char* target, size_t n, const props::Judgement& j, const props::Case& c,
                      const std::string& extra) {
  const rc_kernel_desc& kernel = *target_kernels().at(n);
  std::ostringstream os;
  if (j.finding == props::Finding::kInternal) {
    os << kInternalMarker << "\ntarget:   " << target << "\nkernel:   " << kernel.name << "\nproperty: " << j.property
       << "\nropecheck itself failed (a bug in ropecheck, please report it with this input): " << j.reason << "\n";
    return Result(j.finding, os.str());
  }
  os << (j.finding == props::Finding::kCrash ? kCrashMarker : kViolationMarker) << "\ntarget:   " << target
     << "\nkernel:   " << kernel.name << " (" << kernel.description << ")\nproperty: " << j.property
     << "\nverdict:  " << j.reason << "\n" << j.detail << "\n" << extra
     << "case (JSON, one line; values already rounded to the kernel's input dtype):\n" << props::case_to_json(c, -1)
     << "\n";
  Result r(j.finding, os.str());
  r.counterexample = props::counterexample_of(j, kernel.name, target_plugin(n), c);
  return r;
}

namespace {

// Appends each kernel's name to $ROPECHECK_FUZZ_CHECKED_LOG the first time something is
// checked on it in this process: a handful of writes per process, whatever the run length.
void log_checked_kernels(const Result& r) {
  static const char* const path = std::getenv(kCheckedLogEnv);
  static std::vector<uint8_t> logged;
  if (path == nullptr || *path == '\0' || r.finding != props::Finding::kPass) return;
  const auto& kernels = target_kernels();
  logged.resize(kernels.size(), 0);
  for (size_t n = 0; n < r.checked.size() && n < kernels.size(); ++n) {
    if (!r.checked[n] || logged[n]) continue;
    logged[n] = 1;
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) continue;
    const std::string line = std::string(kernels[n]->name) + "\n";
    (void)!::write(fd, line.data(), line.size());  // one write: lines of parallel workers do not interleave
    ::close(fd);
  }
}

[[noreturn]] void report_and_trap(const std::string& report) {
  std::fprintf(stderr, "%s\n", report.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace

int libfuzzer_entry(TargetFn fn, const uint8_t* data, size_t size) {
  Result r;
  try {
    r = fn(data, size, entry_options());
  } catch (const std::exception& e) {  // the judge catches its own: this is the target's code
    report_and_trap(std::string(kInternalMarker) + "\nunexpected exception (a bug in ropecheck, please report it with "
                    "this input): " + e.what());
  }
  if (r.finding == props::Finding::kViolation || r.finding == props::Finding::kCrash ||
      r.finding == props::Finding::kInternal) {
    report_and_trap(r.report);
  }
  log_checked_kernels(r);
  return 0;
}

std::string every_kernel_pair(const props::Case& base, int64_t k, int64_t h, int j) {
  std::ostringstream os;
  props::Judge& judge = fuzz_judge();
  const RopeSpec& s = base.spec;
  const int64_t t = base.positions[static_cast<size_t>(k)];
  const size_t i0 = base.at(k, h, s.first_index(j)), i1 = base.at(k, h, s.second_index(j));
  os << "every kernel at token " << k << " (t=" << t << ") head " << h << " pair " << j << " (components "
     << s.first_index(j) << ", " << s.second_index(j) << "):\n";
  for (const rc_kernel_desc* d : target_kernels()) {
    const props::KernelRunner& runner = judge.runner(*d, s);
    const props::Case c = case_for_kernel(base, *d);
    os << "  " << d->name << ": ";
    if (const std::string why = runner.unsupported_reason(c); !why.empty()) {
      os << "skipped (" << why << ")\n";
      continue;
    }
    props::RunOutput y;
    try {
      y = runner.run(c);
    } catch (const props::KernelThrew& e) {  // another kernel's crash must not hide this report
      os << "threw: " << e.what() << "\n";
      continue;
    }
    if (y.status != 0) {
      os << "refused: " << rc_status_string(y.status) << "\n";
      continue;
    }
    double hi[2], lo[2];
    judge.fast_oracle(s).exact().rotate_pair(t, j, c.x[i0], c.x[i1], hi, lo);
    os << "x = (" << props::hexfloat(c.x[i0]) << ", " << props::hexfloat(c.x[i1]) << ")  y = ("
       << props::hexfloat(y.y[i0]) << ", " << props::hexfloat(y.y[i1]) << ")  exact = (" << props::hexfloat(hi[0] + lo[0])
       << ", " << props::hexfloat(hi[1] + lo[1]) << ")\n";
  }
  return os.str();
}

}  // namespace ropecheck::fuzz
