// cases.npz and outputs.npz (see vectors_file.hpp; the layout is reports/VECTORS.md's).
#include "gate/vectors_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "gate/npz.hpp"
#include "impl/abi.hpp"
#include "impl/registry.hpp"
#include "properties/case.hpp"
#include "properties/runner.hpp"
#include "properties/spec_cache.hpp"

namespace ropecheck::gate {

namespace {

using json = nlohmann::ordered_json;
using npz::Array;
using npz::Dtype;

[[noreturn]] void fail(const std::string& file, const std::string& array, const std::string& rule) {
  throw npz::NpzError(file + ":" + array, rule);
}

Dtype npz_dtype(int32_t rc_dtype) {
  switch (rc_dtype) {
    case RC_DTYPE_F64: return Dtype::kF64;
    case RC_DTYPE_F32: return Dtype::kF32;
    case RC_DTYPE_F16: return Dtype::kF16;
    default: return Dtype::kU16;  // bf16: the raw bits (numpy has no bfloat16)
  }
}

// The cache arrays' dtype: the contract's cache_dtype, f32 (empty) when it reads no cache.
Dtype cache_npz_dtype(const VectorCases& c) { return c.cache != RC_CACHE_NONE ? npz_dtype(c.cache_dtype) : Dtype::kF32; }
size_t cache_es(const VectorCases& c) { return props::dtype_size(c.cache != RC_CACHE_NONE ? c.cache_dtype : RC_DTYPE_F32); }

// Two FNV-1a passes with different offsets: 128 bits against mix-ups and edits (not against
// an adversary: it is no cryptographic hash).
struct Hash {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  void add(const void* p, size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      a = (a ^ c[i]) * 0x100000001b3ull;
      b = (b ^ c[i]) * 0x00000100000001b3ull + 0x9E3779B97F4A7C15ull;
    }
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }
};

// Over every array but cases_hash, in name order: name, dtype, shape, data.
std::vector<uint64_t> content_hash(const std::vector<Array>& arrays) {
  std::vector<const Array*> sorted;
  for (const Array& x : arrays) {
    if (x.name != "cases_hash") sorted.push_back(&x);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Array* l, const Array* r) { return l->name < r->name; });
  Hash h;
  for (const Array* x : sorted) {
    h.add(x->name);
    h.add(std::string(npz::descr(x->dtype)));
    for (int64_t s : x->shape) h.add(&s, sizeof s);
    h.add(x->data.data(), x->data.size());
  }
  return {h.a, h.b};
}

std::string hex(const std::vector<uint64_t>& h) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h[0]), static_cast<unsigned long long>(h[1]));
  return buf;
}

json spec_json(const RopeSpec& s) { return json::parse(spec_to_json_text(s, -1)); }

// The arrays of an archive by name, each taken once; unknown members refused at the end.
struct Members {
  std::map<std::string, Array> by_name;
  const std::string& file;
  Members(std::vector<Array> arrays, const std::string& f) : file(f) {
    for (Array& a : arrays) by_name.emplace(a.name, std::move(a));
  }
  // The array `name`, of `dtype`, 1-d of `length` elements (-1: any), or 2-d [length, cols].
  const Array& get(const std::string& name, Dtype dtype, int64_t length = -1, int64_t cols = 0) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) fail(file, name, "missing (is this a file of `ropecheck vectors`?)");
    const Array& a = it->second;
    if (a.dtype != dtype) fail(file, name, std::string("dtype ") + npz::descr(a.dtype) + ", must be " + npz::descr(dtype));
    const size_t dims = cols > 0 ? 2 : 1;
    if (a.shape.size() != dims || (length >= 0 && a.shape[0] != length) || (cols > 0 && a.shape[1] != cols)) {
      std::string want = "(" + (length >= 0 ? std::to_string(length) : std::string("n")) + (cols > 0 ? ", " + std::to_string(cols) + ")" : ",)");
      std::string got = "(";
      for (size_t i = 0; i < a.shape.size(); ++i) got += (i ? ", " : "") + std::to_string(a.shape[i]);
      fail(file, name, "shape " + got + (a.shape.size() == 1 ? ",)" : ")") + ", must be " + want);
    }
    taken.insert(name);
    return a;
  }
  void no_others() const {
    for (const auto& [name, a] : by_name) {
      if (!taken.count(name)) fail(file, name, "an array this file must not hold (misspelt?)");
    }
  }
  std::set<std::string> taken;
};

template <class T>
std::vector<T> values(const Array& a) {
  std::vector<T> v(a.data.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), a.data.data(), v.size() * sizeof(T));
  return v;
}

// Offsets must start at 0, never decrease, and end at `total`.
void check_offsets(const std::vector<int64_t>& off, int64_t total, const std::string& file, const std::string& name) {
  if (off.empty() || off.front() != 0 || off.back() != total) {
    fail(file, name, "must start at 0 and end at " + std::to_string(total) + " (the data's length)");
  }
  for (size_t i = 1; i < off.size(); ++i) {
    if (off[i] < off[i - 1]) fail(file, name, "decreases at index " + std::to_string(i));
  }
}

// The cos/sin cache rows (a contract reading a cache; else every array empty and no rows).
void read_cache(Members& m, VectorCases& c, const std::string& file) {
  const auto n_specs = static_cast<int64_t>(c.call_specs.size());
  const auto rows = values<int64_t>(m.get("spec_cache_rows", Dtype::kI64, n_specs));
  const auto pos = values<int64_t>(m.get("cache_position", Dtype::kI64));
  const auto off = values<int64_t>(m.get("cache_position_offset", Dtype::kI64, n_specs + 1));
  check_offsets(off, static_cast<int64_t>(pos.size()), file, "cache_position_offset");
  int64_t elements = 0;
  for (int64_t i = 0; i < n_specs; ++i) {
    const auto k = static_cast<size_t>(i);
    elements += (off[k + 1] - off[k]) * c.call_specs[k].spec.rotary_dim;
  }
  const Array& cos = m.get("cache_cos", cache_npz_dtype(c), elements);
  const bool two_tables = c.cache != RC_CACHE_NONE && c.cache != RC_CACHE_COS_SIN_HALVES;
  const Array& sin = m.get("cache_sin", cache_npz_dtype(c), two_tables ? elements : 0);
  const size_t es = cache_es(c);
  size_t at = 0;
  for (int64_t i = 0; i < n_specs; ++i) {
    const auto k = static_cast<size_t>(i);
    CallSpec& cs = c.call_specs[k];
    const std::string spec = "spec " + std::to_string(i);
    if (rows[k] < 0 || (c.cache == RC_CACHE_NONE && rows[k] != 0)) {
      fail(file, "spec_cache_rows", spec + ": " + std::to_string(rows[k]) + (c.cache == RC_CACHE_NONE ? " rows for a contract without a cache" : " < 0"));
    }
    cs.cache_rows = rows[k];
    cs.cache_positions.assign(pos.begin() + off[k], pos.begin() + off[k + 1]);
    for (size_t r = 0; r < cs.cache_positions.size(); ++r) {
      const int64_t p = cs.cache_positions[r];
      if (p < 0 || p >= cs.cache_rows || (r > 0 && p <= cs.cache_positions[r - 1])) {
        fail(file, "cache_position", spec + ": row " + std::to_string(p) + " is outside [0, spec_cache_rows) or not ascending");
      }
    }
    const auto bytes = static_cast<size_t>((off[k + 1] - off[k]) * cs.spec.rotary_dim) * es;
    cs.cache_cos.assign(cos.data.begin() + static_cast<std::ptrdiff_t>(at), cos.data.begin() + static_cast<std::ptrdiff_t>(at + bytes));
    if (two_tables) {
      cs.cache_sin.assign(sin.data.begin() + static_cast<std::ptrdiff_t>(at), sin.data.begin() + static_cast<std::ptrdiff_t>(at + bytes));
    }
    at += bytes;
    // a·cos and a·sin of an exact angle: finite.
    for (const auto& [name, table] : {std::make_pair("cache_cos", &cs.cache_cos), std::make_pair("cache_sin", &cs.cache_sin)}) {
      for (size_t e = 0; e < table->size() / es; ++e) {
        if (!std::isfinite(props::load_element(table->data(), e, c.cache_dtype))) fail(file, name, spec + " holds a NaN or Inf");
      }
    }
  }
}

}  // namespace

std::vector<uint64_t> cases_content_hash(const std::vector<Array>& arrays) { return content_hash(arrays); }

std::vector<unsigned char> cases_npz(VectorCases& c) {
  json meta;
  meta["format"] = kVectorsFormat;
  meta["version"] = kVectorsVersion;
  meta["kernel"] = c.kernel;
  meta["plugin"] = c.plugin;
  meta["contract"] = json::parse(c.contract_json);
  meta["seed"] = std::to_string(c.seed);
  meta["cases"] = c.cases;
  meta["generated_specs"] = c.generated_specs;
  meta["many_tokens"] = c.many_tokens;
  meta["properties"] = c.properties;
  meta["unit_specs"] = json::array();
  for (const RopeSpec& s : c.unit_specs) meta["unit_specs"].push_back(spec_json(s));
  if (!c.narrow_cases.empty()) {
    meta["narrow_cases"] = json::array();
    for (const Case& n : c.narrow_cases) meta["narrow_cases"].push_back(json::parse(props::case_to_json(n, -1)));
  }
  if (c.report.present) {
    json specs = json::array();
    for (const ReportSpec& s : c.report.specs) {
      json e = {{"label", s.label}, {"origin", s.origin}, {"spec", spec_json(s.spec)}};
      if (s.axis >= 0) e["axis"] = s.axis;  // a multi-axis spec's run of one axis alone
      specs.push_back(std::move(e));
    }
    meta["report"] = {{"positions", c.report.positions_text},
                      {"pairs", c.report.pairs},
                      {"seed", std::to_string(c.report.seed)},
                      {"specs", specs}};
  }
  meta["call_specs"] = json::array();
  for (const CallSpec& s : c.call_specs) meta["call_specs"].push_back(spec_json(s.spec));
  const std::string m = meta.dump();

  std::vector<int64_t> head_dim, rotary_dim, freq_off{0}, q_heads, k_heads, strides, pos, pos_off{0}, x_off{0}, seq_len;
  std::vector<uint8_t> interleaved, in_place, inverse, nonfinite;
  std::vector<double> attention, freq;
  std::vector<int32_t> call_spec, pbits, rotary_offset, n_threads, n_axes, pair_axis, freq_spec;
  std::vector<unsigned char> x, cache_cos, cache_sin;
  std::vector<int64_t> cache_rows, cache_pos, cache_off{0};
  for (const CallSpec& s : c.call_specs) {
    cache_rows.push_back(s.cache_rows);
    cache_pos.insert(cache_pos.end(), s.cache_positions.begin(), s.cache_positions.end());
    cache_off.push_back(static_cast<int64_t>(cache_pos.size()));
    cache_cos.insert(cache_cos.end(), s.cache_cos.begin(), s.cache_cos.end());
    cache_sin.insert(cache_sin.end(), s.cache_sin.begin(), s.cache_sin.end());
    n_axes.push_back(s.spec.n_axes());
    for (int j = 0; j < s.spec.pairs(); ++j) pair_axis.push_back(s.spec.axis_of_pair(j));
    head_dim.push_back(s.spec.head_dim);
    rotary_dim.push_back(s.spec.rotary_dim);
    interleaved.push_back(s.spec.layout == Layout::kInterleaved);
    attention.push_back(s.attention_factor);
    freq.insert(freq.end(), s.inv_freq.begin(), s.inv_freq.end());
    freq_off.push_back(static_cast<int64_t>(freq.size()));
  }
  const size_t es = props::dtype_size(c.in_dtype);
  for (const VectorCall& v : c.calls) {
    call_spec.push_back(v.spec);
    freq_spec.push_back(v.freq_spec);
    seq_len.push_back(v.seq_len);
    q_heads.push_back(v.q_heads);
    k_heads.push_back(v.k_heads);
    strides.insert(strides.end(), v.strides, v.strides + 4);
    pbits.push_back(v.position_dtype == RC_DTYPE_I32 ? 32 : 64);
    in_place.push_back(v.in_place);
    inverse.push_back(v.inverse);
    rotary_offset.push_back(v.rotary_offset);
    n_threads.push_back(v.n_threads);
    nonfinite.push_back(v.nonfinite);
    pos.insert(pos.end(), v.positions.begin(), v.positions.end());
    pos_off.push_back(static_cast<int64_t>(pos.size()));
    x.insert(x.end(), v.x.begin(), v.x.end());
    x_off.push_back(static_cast<int64_t>(x.size() / es));
  }
  const int64_t n = static_cast<int64_t>(c.calls.size());
  std::vector<Array> arrays = {
      Array::of("meta", Dtype::kU8, std::vector<unsigned char>(m.begin(), m.end())),
      Array::of("spec_head_dim", Dtype::kI64, head_dim),
      Array::of("spec_rotary_dim", Dtype::kI64, rotary_dim),
      Array::of("spec_interleaved", Dtype::kU8, interleaved),
      Array::of("spec_attention_factor", Dtype::kF64, attention),
      Array::of("spec_inv_freq", Dtype::kF64, freq),
      Array::of("spec_inv_freq_offset", Dtype::kI64, freq_off),
      Array::of("spec_n_axes", Dtype::kI32, n_axes),
      Array::of("spec_pair_axis", Dtype::kI32, pair_axis),
      Array::of("spec_cache_rows", Dtype::kI64, cache_rows),
      Array::of("cache_position", Dtype::kI64, cache_pos),
      Array::of("cache_position_offset", Dtype::kI64, cache_off),
      Array::of("cache_cos", cache_npz_dtype(c), cache_cos, {static_cast<int64_t>(cache_cos.size() / cache_es(c))}),
      Array::of("cache_sin", cache_npz_dtype(c), cache_sin, {static_cast<int64_t>(cache_sin.size() / cache_es(c))}),
      Array::of("call_spec", Dtype::kI32, call_spec),
      Array::of("call_q_heads", Dtype::kI64, q_heads),
      Array::of("call_k_heads", Dtype::kI64, k_heads),
      Array::of("call_strides", Dtype::kI64, strides, {n, 4}),
      Array::of("call_position_bits", Dtype::kI32, pbits),
      Array::of("call_in_place", Dtype::kU8, in_place),
      Array::of("call_inverse", Dtype::kU8, inverse),
      Array::of("call_rotary_offset", Dtype::kI32, rotary_offset),
      Array::of("call_n_threads", Dtype::kI32, n_threads),
      Array::of("call_seq_len", Dtype::kI64, seq_len),
      Array::of("call_freq_spec", Dtype::kI32, freq_spec),
      Array::of("call_nonfinite", Dtype::kU8, nonfinite),
      Array::of("positions", Dtype::kI64, pos),
      Array::of("positions_offset", Dtype::kI64, pos_off),
      Array::of("x", npz_dtype(c.in_dtype), x, {static_cast<int64_t>(x.size() / es)}),
      Array::of("x_offset", Dtype::kI64, x_off),
  };
  const std::vector<uint64_t> h = content_hash(arrays);
  c.hash = hex(h);
  arrays.insert(arrays.begin() + 1, Array::of("cases_hash", Dtype::kU64, h));
  return npz::write_npz(arrays, true);
}

std::vector<unsigned char> outputs_npz(const VectorCases& c) {
  std::vector<int32_t> status;
  std::vector<unsigned char> y;
  const size_t es = props::dtype_size(c.out_dtype), in_es = props::dtype_size(c.in_dtype);
  for (const VectorCall& v : c.calls) {
    status.push_back(v.status);
    const size_t bytes = v.x.size() / in_es * es;
    if (v.y.size() == bytes) {
      y.insert(y.end(), v.y.begin(), v.y.end());
    } else {
      y.resize(y.size() + bytes, 0);  // a refused call: its outputs are not read
    }
  }
  std::vector<uint64_t> h(2);
  if (c.hash.size() == 32) {
    h[0] = std::stoull(c.hash.substr(0, 16), nullptr, 16);
    h[1] = std::stoull(c.hash.substr(16), nullptr, 16);
  }
  return npz::write_npz({Array::of("cases_hash", Dtype::kU64, h), Array::of("status", Dtype::kI32, status),
                         Array::of("y", npz_dtype(c.out_dtype), y, {static_cast<int64_t>(y.size() / es)})},
                        true);
}

VectorCases read_cases_npz(const unsigned char* bytes, size_t size, const std::string& file) {
  std::vector<Array> arrays = npz::read_npz(bytes, size, file);
  const std::vector<uint64_t> h = content_hash(arrays);
  Members m(std::move(arrays), file);
  VectorCases c;
  // meta first: it says the dtypes.
  const Array& meta_a = m.get("meta", Dtype::kU8);
  json meta;
  try {
    meta = json::parse(std::string(meta_a.data.begin(), meta_a.data.end()), nullptr, true, false);
    if (meta.value("format", "") != kVectorsFormat) fail(file, "meta", std::string("format is not \"") + kVectorsFormat + "\"");
    if (meta.value("version", 0) != kVectorsVersion) {
      fail(file, "meta", "version " + meta.value("version", json(0)).dump() + ", this ropecheck reads version " +
                             std::to_string(kVectorsVersion) + ": write the cases again with this `ropecheck vectors`");
    }
    c.kernel = meta.at("kernel").get<std::string>();
    c.plugin = meta.at("plugin").get<std::string>();
    c.contract_json = meta.at("contract").dump();
    c.seed = std::stoull(meta.at("seed").get<std::string>());
    c.cases = meta.at("cases").get<int>();
    c.generated_specs = meta.at("generated_specs").get<bool>();
    c.many_tokens = meta.at("many_tokens").get<bool>();
    c.properties = meta.at("properties").get<std::vector<std::string>>();
    for (const std::string& p : c.properties) {
      if (!props::find_property(p)) fail(file, "meta", "unknown property '" + p + "' (a file of another ropecheck?)");
    }
    for (const json& s : meta.at("unit_specs")) c.unit_specs.push_back(spec_from_json_text(s.dump(), file + ":meta.unit_specs"));
    for (const json& s : meta.at("call_specs")) {
      CallSpec cs;
      cs.spec = spec_from_json_text(s.dump(), file + ":meta.call_specs");
      c.call_specs.push_back(std::move(cs));
    }
    if (meta.contains("report")) {
      // The positions text is parsed by `report --from` (reports/sweep.hpp), which names
      // meta.report too.
      try {
        const json& r = meta.at("report");
        c.report.present = true;
        c.report.positions_text = r.at("positions").get<std::string>();
        c.report.pairs = r.at("pairs").get<int>();
        if (c.report.pairs < 0) throw std::invalid_argument("pairs < 0");
        c.report.seed = std::stoull(r.at("seed").get<std::string>());
        for (const json& s : r.at("specs")) {
          c.report.specs.push_back({spec_from_json_text(s.at("spec").dump(), "meta.report.specs"), s.at("label").get<std::string>(),
                                    s.at("origin").get<std::string>(), s.contains("axis") ? s.at("axis").get<int>() : -1});
          const ReportSpec& back = c.report.specs.back();
          if (s.contains("axis") && (back.axis < 0 || back.axis >= back.spec.n_axes() || back.spec.n_axes() < 2)) {
            throw std::invalid_argument("spec " + back.label + ": axis " + std::to_string(back.axis) + " is not an axis of a multi-axis spec");
          }
        }
        if (c.report.specs.empty()) throw std::invalid_argument("no specs");
        for (const ReportSpec& s : c.report.specs) {  // labels name the report's files
          if (s.label.empty() || s.label[0] == '.' || s.label.find_first_of("/\\") != std::string::npos) {
            throw std::invalid_argument("label '" + s.label + "' is not a file name");
          }
        }
      } catch (const std::exception& e) {
        fail(file, "meta.report", std::string("not the report section `ropecheck vectors` writes: ") + e.what());
      }
    }
    if (meta.contains("narrow_cases")) {
      for (const json& n : meta.at("narrow_cases")) c.narrow_cases.push_back(props::case_from_json(n.dump()));
      if (c.narrow_cases.empty() || c.properties.size() != 1) fail(file, "meta", "narrow_cases needs cases and one property");
    }
    const json& contract = meta.at("contract");
    for (int32_t d : {RC_DTYPE_F32, RC_DTYPE_F64, RC_DTYPE_F16, RC_DTYPE_BF16}) {
      if (contract.at("in_dtype").get<std::string>() == impl::dtype_name(d)) c.in_dtype = d;
      if (contract.at("out_dtype").get<std::string>() == impl::dtype_name(d)) c.out_dtype = d;
    }
    if (c.in_dtype == 0 || c.out_dtype == 0) fail(file, "meta", "contract.in_dtype / out_dtype is not f32, f64, f16 or bf16");
    const std::string cache = contract.at("cache").get<std::string>();
    c.cache = 0;
    for (int32_t k : {RC_CACHE_NONE, RC_CACHE_COS_SIN_HALVES, RC_CACHE_FULL_WIDTH, RC_CACHE_REPEAT_INTERLEAVED}) {
      if (cache == impl::cache_convention_name(k)) c.cache = k;
    }
    if (c.cache == 0) fail(file, "meta", "contract.cache '" + cache + "' is not a cache convention");
    if (c.cache != RC_CACHE_NONE) {
      const std::string cd = contract.at("cache_dtype").get<std::string>();
      for (int32_t d : {RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16}) {
        if (cd == impl::dtype_name(d)) c.cache_dtype = d;
      }
      if (c.cache_dtype == 0) fail(file, "meta", "contract.cache_dtype '" + cd + "' is not f32, f16 or bf16");
    }
  } catch (const npz::NpzError&) {
    throw;
  } catch (const SpecError& e) {
    fail(file, "meta", std::string("a spec: ") + e.what());
  } catch (const std::exception& e) {
    fail(file, "meta", std::string("not the JSON `ropecheck vectors` writes: ") + e.what());
  }
  const std::vector<uint64_t> recorded = values<uint64_t>(m.get("cases_hash", Dtype::kU64, 2));
  if (recorded != h) {
    fail(file, "cases_hash", "the arrays do not match the recorded hash " + hex(recorded) + " (content hash " + hex(h) +
                                 "): the file was changed after `ropecheck vectors` wrote it");
  }
  c.hash = hex(h);

  const auto n_specs = static_cast<int64_t>(c.call_specs.size());
  const auto head_dim = values<int64_t>(m.get("spec_head_dim", Dtype::kI64, n_specs));
  const auto rotary_dim = values<int64_t>(m.get("spec_rotary_dim", Dtype::kI64, n_specs));
  const auto interleaved = values<uint8_t>(m.get("spec_interleaved", Dtype::kU8, n_specs));
  const auto attention = values<double>(m.get("spec_attention_factor", Dtype::kF64, n_specs));
  const auto freq = values<double>(m.get("spec_inv_freq", Dtype::kF64));
  const auto freq_off = values<int64_t>(m.get("spec_inv_freq_offset", Dtype::kI64, n_specs + 1));
  check_offsets(freq_off, static_cast<int64_t>(freq.size()), file, "spec_inv_freq_offset");
  const auto n_axes = values<int32_t>(m.get("spec_n_axes", Dtype::kI32, n_specs));
  const auto pair_axis = values<int32_t>(m.get("spec_pair_axis", Dtype::kI32, static_cast<int64_t>(freq.size())));
  for (int64_t i = 0; i < n_specs; ++i) {
    CallSpec& s = c.call_specs[static_cast<size_t>(i)];
    const auto k = static_cast<size_t>(i);
    if (head_dim[k] != s.spec.head_dim || rotary_dim[k] != s.spec.rotary_dim ||
        (interleaved[k] != 0) != (s.spec.layout == Layout::kInterleaved)) {
      fail(file, "spec_head_dim", "spec " + std::to_string(i) + " differs from meta.call_specs");
    }
    if (freq_off[k + 1] - freq_off[k] != s.spec.pairs()) {
      fail(file, "spec_inv_freq_offset", "spec " + std::to_string(i) + " must have rotary_dim/2 frequencies");
    }
    if (n_axes[k] != s.spec.n_axes()) {
      fail(file, "spec_n_axes", "spec " + std::to_string(i) + ": " + std::to_string(n_axes[k]) + " axes, meta.call_specs says " +
                                    std::to_string(s.spec.n_axes()));
    }
    for (int j = 0; j < s.spec.pairs(); ++j) {
      if (pair_axis[static_cast<size_t>(freq_off[k] + j)] != s.spec.axis_of_pair(j)) {
        fail(file, "spec_pair_axis", "spec " + std::to_string(i) + ", pair " + std::to_string(j) + ": axis " +
                                         std::to_string(pair_axis[static_cast<size_t>(freq_off[k] + j)]) + ", meta.call_specs says " +
                                         std::to_string(s.spec.axis_of_pair(j)));
      }
    }
    s.inv_freq.assign(freq.begin() + freq_off[k], freq.begin() + freq_off[k + 1]);
    for (double f : s.inv_freq) {
      if (!std::isfinite(f)) fail(file, "spec_inv_freq", "spec " + std::to_string(i) + " has a NaN or Inf frequency");
    }
    if (!std::isfinite(attention[k])) fail(file, "spec_attention_factor", "spec " + std::to_string(i) + " is NaN or Inf");
    s.attention_factor = attention[k];
  }

  read_cache(m, c, file);
  std::vector<std::string> spec_keys;
  for (const CallSpec& cs : c.call_specs) spec_keys.push_back(props::spec_cache_key(cs.spec));
  const int64_t n = m.get("call_spec", Dtype::kI32).shape[0];
  const auto call_spec = values<int32_t>(m.get("call_spec", Dtype::kI32, n));
  const auto q_heads = values<int64_t>(m.get("call_q_heads", Dtype::kI64, n));
  const auto k_heads = values<int64_t>(m.get("call_k_heads", Dtype::kI64, n));
  const auto strides = values<int64_t>(m.get("call_strides", Dtype::kI64, n, 4));
  const auto pbits = values<int32_t>(m.get("call_position_bits", Dtype::kI32, n));
  const auto in_place = values<uint8_t>(m.get("call_in_place", Dtype::kU8, n));
  const auto inverse = values<uint8_t>(m.get("call_inverse", Dtype::kU8, n));
  const auto rotary_offset = values<int32_t>(m.get("call_rotary_offset", Dtype::kI32, n));
  const auto n_threads = values<int32_t>(m.get("call_n_threads", Dtype::kI32, n));
  const auto seq_len = values<int64_t>(m.get("call_seq_len", Dtype::kI64, n));
  const auto freq_spec = values<int32_t>(m.get("call_freq_spec", Dtype::kI32, n));
  const auto nonfinite = values<uint8_t>(m.get("call_nonfinite", Dtype::kU8, n));
  const auto pos = values<int64_t>(m.get("positions", Dtype::kI64));
  const auto pos_off = values<int64_t>(m.get("positions_offset", Dtype::kI64, n + 1));
  check_offsets(pos_off, static_cast<int64_t>(pos.size()), file, "positions_offset");
  const Array& x = m.get("x", npz_dtype(c.in_dtype));
  const auto x_off = values<int64_t>(m.get("x_offset", Dtype::kI64, n + 1));
  check_offsets(x_off, x.shape[0], file, "x_offset");
  m.no_others();
  const size_t es = props::dtype_size(c.in_dtype);
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    const std::string call = "call " + std::to_string(i);
    VectorCall v;
    if (call_spec[k] < 0 || call_spec[k] >= n_specs) fail(file, "call_spec", call + ": no such spec");
    v.spec = call_spec[k];
    const RopeSpec& spec = c.call_specs[static_cast<size_t>(v.spec)].spec;
    v.q_heads = q_heads[k];
    v.k_heads = k_heads[k];
    if (v.q_heads < 1 || v.k_heads < 0 || v.q_heads > (1 << 20) || v.k_heads > (1 << 20)) {
      fail(file, "call_q_heads", call + ": head counts out of range");
    }
    std::copy(strides.begin() + 4 * i, strides.begin() + 4 * i + 4, v.strides);
    if (pbits[k] != 32 && pbits[k] != 64) fail(file, "call_position_bits", call + ": must be 32 or 64");
    v.position_dtype = pbits[k] == 32 ? RC_DTYPE_I32 : RC_DTYPE_I64;
    v.in_place = in_place[k] != 0;
    v.inverse = inverse[k] != 0;
    v.rotary_offset = rotary_offset[k];
    v.n_threads = n_threads[k];
    if (seq_len[k] < 0) fail(file, "call_seq_len", call + ": " + std::to_string(seq_len[k]) + " < 0");
    v.seq_len = seq_len[k];
    if (freq_spec[k] < 0 || freq_spec[k] >= n_specs) fail(file, "call_freq_spec", call + ": no such spec");
    v.freq_spec = freq_spec[k];
    {  // the call's spec itself, or (seq_len > 0) that spec at the call's length
      RopeSpec at_length = spec;
      if (v.seq_len > 0) at_length.seq_len = v.seq_len;
      if (spec_keys[static_cast<size_t>(v.freq_spec)] != props::spec_cache_key(at_length)) {
        fail(file, "call_freq_spec", call + ": spec " + std::to_string(v.freq_spec) + " is not call_spec " + std::to_string(v.spec) +
                                         (v.seq_len > 0 ? " at call_seq_len " + std::to_string(v.seq_len) : std::string("")));
      }
    }
    v.nonfinite = nonfinite[k] != 0;
    v.positions.assign(pos.begin() + pos_off[k], pos.begin() + pos_off[k + 1]);
    // n_axes rows of n_tokens (axis-major) for a multi-axis spec.
    const int64_t axes = spec.n_axes();
    if (static_cast<int64_t>(v.positions.size()) % axes != 0) {
      fail(file, "positions_offset", call + ": " + std::to_string(v.positions.size()) + " positions, not a whole number of rows for " +
                                         std::to_string(axes) + " axes");
    }
    v.n_tokens = static_cast<int64_t>(v.positions.size()) / axes;
    const int64_t want = v.n_tokens * v.heads() * spec.head_dim;
    if (x_off[k + 1] - x_off[k] != want) {
      fail(file, "x_offset", call + ": " + std::to_string(x_off[k + 1] - x_off[k]) + " elements, tokens x heads x head_dim = " +
                                 std::to_string(want));
    }
    v.x.assign(x.data.begin() + x_off[k] * static_cast<int64_t>(es), x.data.begin() + x_off[k + 1] * static_cast<int64_t>(es));
    if (c.cache != RC_CACHE_NONE) {  // every row the call reads is in the file
      const CallSpec& cs = c.call_specs[static_cast<size_t>(v.spec)];
      for (int64_t p : v.positions) {
        if (p >= 0 && p < cs.cache_rows && !std::binary_search(cs.cache_positions.begin(), cs.cache_positions.end(), p)) {
          fail(file, "cache_position", call + " reads cache row " + std::to_string(p) + " of spec " + std::to_string(v.spec) +
                                           ", which the file does not hold");
        }
      }
    }
    if (!v.nonfinite) {
      for (size_t e = 0; e < v.x.size() / es; ++e) {
        if (!std::isfinite(props::load_element(v.x.data(), e, c.in_dtype))) {
          fail(file, "x", call + " holds a NaN or Inf (element " + std::to_string(e) + ") where call_nonfinite allows none");
        }
      }
    }
    c.calls.push_back(std::move(v));
  }
  return c;
}

void read_outputs_npz(VectorCases& c, const unsigned char* bytes, size_t size, const std::string& file) {
  Members m(npz::read_npz(bytes, size, file), file);
  const std::vector<uint64_t> h = values<uint64_t>(m.get("cases_hash", Dtype::kU64, 2));
  if (hex(h) != c.hash) {
    fail(file, "cases_hash", "these outputs are for another cases file (they carry " + hex(h) + ", the cases file is " + c.hash +
                                 "): compute them from this cases file and copy its cases_hash");
  }
  const auto n = static_cast<int64_t>(c.calls.size());
  const auto status = values<int32_t>(m.get("status", Dtype::kI32, n));
  const size_t in_es = props::dtype_size(c.in_dtype), es = props::dtype_size(c.out_dtype);
  int64_t total = 0;
  for (const VectorCall& v : c.calls) total += static_cast<int64_t>(v.x.size() / in_es);
  const Array& y = m.get("y", npz_dtype(c.out_dtype), total);
  m.no_others();
  size_t at = 0;
  for (size_t i = 0; i < c.calls.size(); ++i) {
    VectorCall& v = c.calls[i];
    if (status[i] < RC_OK || status[i] > RC_ERR_INTERNAL) {
      fail(file, "status", "call " + std::to_string(i) + ": " + std::to_string(status[i]) + " is not an rc_status (0 answered, 1-6 refused)");
    }
    v.status = status[i];
    const size_t bytes_of_call = v.x.size() / in_es * es;
    v.y.assign(y.data.begin() + static_cast<std::ptrdiff_t>(at), y.data.begin() + static_cast<std::ptrdiff_t>(at + bytes_of_call));
    at += bytes_of_call;
  }
}

}  // namespace ropecheck::gate
