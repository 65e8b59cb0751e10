// ropecheck._core: the C++ side of the Python package (python/ropecheck/).  Specs, the exact
// reference, the contract presets, the error model's pair bound, and the gate campaign run on a
// Python callable.
//
// A Python kernel reaches the judge as gate/vectors.cpp's adapters do: an ABI 2 descriptor whose
// entry points are ours (the contract's accuracy fields, from a preset or the user's fields),
// reaching the session through a global; apply2 gathers each call's vectors (strided buffers)
// into contiguous numpy arrays, hands them to the Python side (ropecheck/_check.py: _Invoker),
// and scatters what it returns into the call's output buffers.  gate::run_campaign runs it in
// this process (isolation = false, jobs = 1), so the sweep, catalogue, generated cases,
// shrinking and counterexample files are `ropecheck check`'s; nothing is judged here.
//
// A Python exception, a timeout or a wrong shape/dtype reaches apply2 as an error string from
// the invoker and leaves it as a C++ exception: the runner reports it as a kernel crash (the
// exit-3 class, properties/runner.cpp), with the traceback as its reason.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "gate/campaign.hpp"
#include "impl/abi.hpp"
#include "impl/kernels/common.hpp"
#include "impl/kernels/scalar_f32_hf.hpp"
#include "impl/kernels/scalar_f64.hpp"
#include "impl/kernels/table_bf16.hpp"
#include "impl/kernels/table_f16.hpp"
#include "impl/kernels/table_f32.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/c_spec.hpp"
#include "properties/case.hpp"
#include "properties/catalogue.hpp"
#include "properties/counterexample.hpp"
#include "properties/gate.hpp"
#include "properties/judge.hpp"
#include "properties/runner.hpp"
#include "properties/spec_cache.hpp"
#include "reference/error_model.hpp"
#include "reference/exact_reference.hpp"
#include "reference/rope_spec.hpp"

namespace py = pybind11;
using namespace ropecheck;

namespace {

// ------------------------------------------------------------------ contracts ----------

int32_t dtype_of(const std::string& s, const char* field) {
  for (int32_t d : {RC_DTYPE_F32, RC_DTYPE_F64, RC_DTYPE_F16, RC_DTYPE_BF16, RC_DTYPE_F64X2, RC_DTYPE_I64, RC_DTYPE_I32}) {
    if (s == impl::dtype_name(d)) return d;
  }
  throw py::value_error(std::string("contract field ") + field + ": unknown dtype '" + s +
                        "' (f32, f64, f16, bf16, f64x2, i64, i32)");
}

template <class F>
int32_t enum_of(const std::string& s, const char* field, int32_t lo, int32_t hi, F name_of) {
  std::string known;
  for (int32_t v = lo; v <= hi; ++v) {
    if (s == name_of(v)) return v;
    known += (known.empty() ? "" : ", ") + std::string(name_of(v));
  }
  throw py::value_error(std::string("contract field ") + field + ": unknown value '" + s + "' (" + known + ")");
}

// The fields of a contract as the Python side sees them (ropecheck.Contract): the descriptor's
// accuracy contract and what it declares, names for enums.
py::dict contract_dict(const rc_kernel_desc& d) {
  const rc_accuracy& a = d.accuracy;
  py::dict c;
  c["in_dtype"] = impl::dtype_name(d.in_dtype);
  c["out_dtype"] = impl::dtype_name(d.out_dtype);
  c["max_position"] = d.max_position;
  c["angle_recipe"] = impl::angle_recipe_name(a.angle_recipe);
  c["angle_dtype"] = impl::dtype_name(a.angle_dtype);
  c["position_dtype"] = impl::dtype_name(a.position_dtype);
  c["sincos_dtype"] = impl::dtype_name(a.sincos_dtype);
  c["compute_dtype"] = impl::dtype_name(a.compute_dtype);
  c["output_rounding"] = impl::rounding_name(a.output_rounding);
  c["angle_unit_roundoff"] = a.angle_unit_roundoff;
  c["theta_rel_error"] = a.theta_rel_error;
  c["angle_product_error"] = a.angle_product_error;
  c["reduced_angle_abs_error"] = a.reduced_angle_abs_error;
  c["sincos_ulp"] = a.sincos_ulp;
  c["attention_rel_error"] = a.attention_rel_error;
  c["theta_rel_error_per_pair"] = impl::theta_error_per_pair_of(d);
  c["cache"] = impl::cache_convention_name(impl::cache_of(d));
  c["cache_dtype"] = impl::cache_of(d) == RC_CACHE_NONE ? "f32" : impl::dtype_name(impl::cache_dtype_of(d));
  c["inverse"] = impl::has_feature(d, RC_FEATURE_INVERSE);
  c["description"] = d.description ? d.description : "";
  return c;
}

// A descriptor from Python's contract fields; the adapter's entry points are set by the caller.
rc_kernel_desc desc_from_dict(const py::dict& c) {
  auto str = [&](const char* k) { return py::cast<std::string>(c[k]); };
  auto num = [&](const char* k) { return py::cast<double>(c[k]); };
  rc_kernel_desc d{};
  d.abi_version = RC_ABI_2;
  d.in_dtype = dtype_of(str("in_dtype"), "in_dtype");
  d.out_dtype = dtype_of(str("out_dtype"), "out_dtype");
  d.layouts = RC_LAYOUT_ALL;
  d.scalings = RC_SCALING_ALL;
  // The adapter copies every call's vectors into fresh arrays: both placements reach the Python
  // kernel the same way.
  d.placement = RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE;
  d.max_position = py::cast<int64_t>(c["max_position"]);
  d.head_dim_min = 2;
  d.head_dim_max = 4096;
  d.head_dim_multiple = 1;
  d.rotary_dim_min = 2;
  d.rotary_dim_max = 4096;
  d.rotary_dim_multiple = 2;
  rc_accuracy& a = d.accuracy;
  a.angle_recipe = enum_of(str("angle_recipe"), "angle_recipe", RC_ANGLE_F32_INVFREQ_F32_PRODUCT, RC_ANGLE_OTHER,
                           impl::angle_recipe_name);
  a.angle_dtype = dtype_of(str("angle_dtype"), "angle_dtype");
  a.position_dtype = dtype_of(str("position_dtype"), "position_dtype");
  a.sincos_dtype = dtype_of(str("sincos_dtype"), "sincos_dtype");
  a.compute_dtype = dtype_of(str("compute_dtype"), "compute_dtype");
  a.output_rounding = enum_of(str("output_rounding"), "output_rounding", RC_ROUND_NONE, RC_ROUND_OTHER, impl::rounding_name);
  a.angle_unit_roundoff = num("angle_unit_roundoff");
  a.theta_rel_error = num("theta_rel_error");
  a.angle_product_error = num("angle_product_error");
  a.reduced_angle_abs_error = num("reduced_angle_abs_error");
  a.sincos_ulp = num("sincos_ulp");
  a.attention_rel_error = num("attention_rel_error");
  d.features = RC_FEATURE_Q_ONLY | RC_FEATURE_QK | (py::cast<bool>(c["inverse"]) ? RC_FEATURE_INVERSE : 0u);
  d.position_dtypes = RC_POSITIONS_I64;
  d.cache = enum_of(str("cache"), "cache", RC_CACHE_NONE, RC_CACHE_REPEAT_INTERLEAVED, impl::cache_convention_name);
  d.cache_dtype = dtype_of(str("cache_dtype"), "cache_dtype");
  d.theta_rel_error_per_pair = num("theta_rel_error_per_pair");
  return d;
}

// Presets: the accuracy contracts of the built-in kernels (impl/kernels/*.hpp, never a copy of
// their numbers), and the cos/sin-cache consumer of vLLM-style kernels.
std::vector<std::pair<std::string, rc_kernel_desc>> presets() {
  std::vector<std::pair<std::string, rc_kernel_desc>> p;
  auto from = [&](const char* name, const rc_kernel_desc& k, const char* what) {
    rc_kernel_desc d = k;
    d.description = what;
    p.emplace_back(name, d);
  };
  from("hf_fp32", impl::kScalarF32HfKernel,
       "HuggingFace recipe: fp32 inv_freq = 1/base^(2j/d), fp32 positions and product t*inv_freq, fp32 cos/sin, fp32 "
       "rotation (built-in scalar_f32_hf's contract)");
  from("fp64", impl::kScalarF64Kernel, "binary64 throughout (built-in scalar_f64's contract)");
  from("position_exact_f32", impl::kTableF32Kernel,
       "position-exact angle (double-double theta, exact reduction), fp32 cos/sin and rotation (built-in table_f32's "
       "contract)");
  from("bf16", impl::kTableBF16Kernel,
       "bf16 in/out, position-exact angle, fp32 compute, one rounding to bf16 (built-in table_bf16's contract)");
  from("f16", impl::kTableF16Kernel,
       "f16 in/out, position-exact angle, fp32 compute, one rounding to f16 (built-in table_f16's contract)");
  // Consumers of a cos/sin cache ropecheck builds from exact math, correctly rounded to the
  // cache dtype: no angle is formed, the kernel is judged on x*cos - y*sin in the tensors' dtype.
  for (int32_t conv : {RC_CACHE_COS_SIN_HALVES, RC_CACHE_FULL_WIDTH, RC_CACHE_REPEAT_INTERLEAVED}) {
    for (int32_t dt : {RC_DTYPE_F32, RC_DTYPE_BF16, RC_DTYPE_F16}) {
      rc_kernel_desc d = impl::kTableF32Kernel;
      d.abi_version = RC_ABI_2;
      d.in_dtype = d.out_dtype = dt;
      d.max_position = impl::kMaxCacheRows - 1;
      d.accuracy.angle_recipe = RC_ANGLE_TABLE;
      d.accuracy.position_dtype = RC_DTYPE_I64;
      d.accuracy.sincos_dtype = dt;
      d.accuracy.compute_dtype = dt;  // torch arithmetic in the tensors' dtype
      d.accuracy.output_rounding = RC_ROUND_NONE;
      d.accuracy.theta_rel_error = d.accuracy.angle_product_error = d.accuracy.reduced_angle_abs_error = 0;
      d.accuracy.sincos_ulp = 0.5;           // the cache's one rounding
      d.accuracy.attention_rel_error = 0.5;  // a is in the cache's values, rounded with them
      d.cache = conv;
      d.cache_dtype = dt;
      d.description = "reads a cos/sin cache (the convention and dtype named), rotation in the tensors' dtype";
      p.emplace_back(std::string("cache:") + impl::cache_convention_name(conv) + ":" + impl::dtype_name(dt), d);
    }
  }
  return p;
}

// ------------------------------------------------------------------ the session ----------

struct Session {
  rc_kernel_desc desc{};
  std::string name, description, origin;
  py::object invoker;  // _Invoker: (spec_index, positions, q, k, cos, sin, inverse, rotary_offset) -> (q, k) | str
  std::vector<RopeSpec> specs;
  std::vector<std::string> spec_keys;
  std::string property;  // the property being judged (before_case), for the Python side's note
  bool interrupted = false;  // KeyboardInterrupt: every later call is refused, the check ends
};
Session* g_session = nullptr;

class SessionScope {
 public:
  explicit SessionScope(Session& s) { g_session = &s; }
  ~SessionScope() { g_session = nullptr; }
  SessionScope(const SessionScope&) = delete;
  SessionScope& operator=(const SessionScope&) = delete;
};

const char* numpy_dtype(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return "float32";
    case RC_DTYPE_F64: return "float64";
    case RC_DTYPE_F16: return "float16";
    case RC_DTYPE_BF16: return "uint16";  // bf16 bit patterns (ropecheck.torch_kernel views them as bfloat16)
    default: return "float64";
  }
}

int refuse(const rc_call* call, int status, const std::string& why) {
  if (call->reason != nullptr && call->reason_size > 0) {
    std::snprintf(call->reason, static_cast<size_t>(call->reason_size), "%s", why.c_str());
  }
  return status;
}

// A [n_tokens, n_heads, head_dim] array of the tensor's input vectors (contiguous).
py::array gather(const rc_tensor& t, int64_t n_tokens, int64_t head_dim, int32_t dtype) {
  const size_t es = props::dtype_size(dtype);
  py::array a(py::dtype(numpy_dtype(dtype)), std::vector<py::ssize_t>{n_tokens, t.n_heads, head_dim});
  char* dst = static_cast<char*>(a.mutable_data());
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < t.n_heads; ++h) {
      std::memcpy(dst + static_cast<size_t>((k * t.n_heads + h) * head_dim) * es,
                  static_cast<const char*>(t.in) + static_cast<size_t>(k * t.token_stride + h * t.head_stride) * es,
                  static_cast<size_t>(head_dim) * es);
    }
  }
  return a;
}

// Writes the invoker's (already checked: shape, dtype, C-contiguous) answer to the call's outputs.
void scatter(const py::array& a, const rc_tensor& t, int64_t n_tokens, int64_t head_dim, int32_t dtype) {
  const size_t es = props::dtype_size(dtype);
  const char* src = static_cast<const char*>(a.data());
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < t.n_heads; ++h) {
      std::memcpy(static_cast<char*>(t.out) + static_cast<size_t>(k * t.out_token_stride + h * t.out_head_stride) * es,
                  src + static_cast<size_t>((k * t.n_heads + h) * head_dim) * es, static_cast<size_t>(head_dim) * es);
    }
  }
}

// A read-only view of the cache (no copy: rows are filled lazily, a kernel reads the ones of
// its positions), `cols` elements per row of `row_stride`.
py::object cache_view(const void* base, int64_t rows, int64_t row_stride, int64_t cols, int32_t dtype) {
  if (base == nullptr) return py::none();
  const auto es = static_cast<py::ssize_t>(props::dtype_size(dtype));
  py::array a(py::dtype(numpy_dtype(dtype)), std::vector<py::ssize_t>{rows, cols},
              std::vector<py::ssize_t>{row_stride * es, es}, base, py::none());
  a.attr("flags").attr("writeable") = false;
  return std::move(a);
}

int adapter_apply2(const rc_spec* spec, void* /*handle*/, const rc_call* call) {
  Session& s = *g_session;
  py::gil_scoped_acquire gil;
  if (s.interrupted) return refuse(call, RC_ERR_UNSUPPORTED, "the check was interrupted (KeyboardInterrupt)");
  const std::string key = impl::spec_key(*spec);
  const auto it = std::find(s.spec_keys.begin(), s.spec_keys.end(), key);
  if (it == s.spec_keys.end()) {
    return refuse(call, RC_ERR_SPEC, "the Python kernel is checked on the spec(s) given to ropecheck.check only");
  }
  const int64_t n = call->n_tokens, hd = spec->head_dim;
  py::array_t<int64_t> positions(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = call->position_dtype == RC_DTYPE_I32 ? static_cast<const int32_t*>(call->positions)[i]
                                                          : static_cast<const int64_t*>(call->positions)[i];
    // A Python kernel reads no table out of bounds (an index error is an exception): the
    // adapter refuses positions outside the contract's range on its behalf, so
    // positionsBeyondMaximumAreRefused checks this refusal, not the Python code.
    if (t < 0 || t > s.desc.max_position) {
      return refuse(call, RC_ERR_POSITION, "position outside [0, max_position] of the contract (refused by ropecheck's adapter)");
    }
    positions.mutable_at(i) = t;
  }
  const py::array q = gather(call->q, n, hd, s.desc.in_dtype);
  const py::object k = call->k.in ? py::object(gather(call->k, n, hd, s.desc.in_dtype)) : py::object(py::none());
  py::object cos = py::none(), sin = py::none();
  if (impl::cache_of(s.desc) == RC_CACHE_COS_SIN_HALVES) {
    cos = cache_view(call->cos, call->cache_rows, call->cache_row_stride, spec->rotary_dim, s.desc.cache_dtype);
  } else if (impl::cache_of(s.desc) != RC_CACHE_NONE) {
    cos = cache_view(call->cos, call->cache_rows, call->cache_row_stride, spec->rotary_dim, s.desc.cache_dtype);
    sin = cache_view(call->sin, call->cache_rows, call->cache_row_stride, spec->rotary_dim, s.desc.cache_dtype);
  }
  py::object answer;
  try {
    answer = s.invoker(static_cast<int>(it - s.spec_keys.begin()), positions, q, k, cos, sin, call->inverse != 0,
                       call->rotary_offset);
  } catch (py::error_already_set& e) {
    if (e.matches(PyExc_KeyboardInterrupt)) {
      s.interrupted = true;
      return refuse(call, RC_ERR_UNSUPPORTED, "the check was interrupted (KeyboardInterrupt)");
    }
    throw std::runtime_error(std::string("ropecheck's Python invoker failed (please report): ") + e.what());
  }
  if (py::isinstance<py::str>(answer)) throw std::runtime_error(py::cast<std::string>(answer));
  const auto out = py::cast<py::tuple>(answer);
  if (out.size() == 3) return refuse(call, py::cast<int>(out[1]), py::cast<std::string>(out[2]));  // ropecheck.Refused
  scatter(py::cast<py::array>(out[0]), call->q, n, hd, s.desc.out_dtype);
  if (call->k.in) scatter(py::cast<py::array>(out[1]), call->k, n, hd, s.desc.out_dtype);
  return RC_OK;
}

// The adapter: the contract's fields, our entry points, the checked specs' shapes declared.
void make_adapter(Session& s, const py::dict& contract) {
  s.desc = desc_from_dict(contract);
  s.desc.name = s.name.c_str();
  s.desc.description = s.description.c_str();
  s.desc.apply2 = adapter_apply2;
  uint32_t layouts = 0, scalings = 0;
  int hd_min = 1 << 30, hd_max = 0, rd_min = 1 << 30, rd_max = 0;
  for (const RopeSpec& sp : s.specs) {
    layouts |= RC_LAYOUT_BIT(static_cast<int>(sp.layout));
    scalings |= RC_SCALING_BIT(static_cast<int>(sp.type));
    hd_min = std::min(hd_min, sp.head_dim);
    hd_max = std::max(hd_max, sp.head_dim);
    rd_min = std::min(rd_min, sp.rotary_dim);
    rd_max = std::max(rd_max, sp.rotary_dim);
    s.spec_keys.push_back(props::spec_cache_key(sp));
  }
  s.desc.layouts = layouts;
  s.desc.scalings = scalings;
  s.desc.head_dim_min = hd_min;
  s.desc.head_dim_max = hd_max;
  s.desc.rotary_dim_min = rd_min;
  s.desc.rotary_dim_max = rd_max;
  if (const impl::DescriptorProblem p = impl::check_descriptor(s.desc); !p.field.empty()) {
    throw py::value_error("contract: " + p.field + ": " + p.rule);
  }
  if (const std::string why = props::implausible_contract(s.desc); !why.empty()) throw py::value_error("contract: " + why);
}

py::dict cell_dict(const gate::Cell& c) {
  py::dict d;
  d["status"] = c.status();
  d["checked"] = c.checked;
  d["skipped"] = c.skipped;
  d["generated"] = c.generated;
  d["reason"] = c.reason;
  d["skip_reason"] = c.skip_reason;
  d["repro_file"] = c.repro;
  d["worst_ratio"] = c.worst_ratio;
  d["worst_capped"] = c.worst_capped;
  return d;
}

py::dict outcome_dict(const gate::PropertyOutcome& o, const std::string& spec_name) {
  py::dict d;
  d["property"] = o.finding_property.empty() ? o.property : o.finding_property;
  d["spec"] = spec_name;
  d["crash"] = o.crash_class;
  d["reason"] = o.reason;
  d["detail"] = o.detail;
  d["ratio"] = o.failure_ratio;
  d["shrink_cut"] = o.shrink_cut;
  if (o.counterexample) {
    d["case"] = props::case_to_json(*o.counterexample, 2);
    d["case_text"] = props::describe(*o.counterexample);
  }
  return d;
}

// ------------------------------------------------------------------ check and repro ------

py::dict run_check(py::object invoker, const py::dict& contract, const std::string& name, const std::string& origin,
                   const std::vector<RopeSpec>& specs, const std::vector<std::string>& properties, double budget_seconds,
                   int cases, uint64_t seed, const std::string& out_dir, double shrink_seconds, bool many_tokens,
                   const std::string& replay_command) {
  if (specs.empty()) throw py::value_error("no spec to check");
  for (const std::string& p : properties) {
    if (!props::find_property(p)) throw py::value_error("unknown property '" + p + "' (ropecheck.properties())");
  }
  Session s;
  s.name = name;
  s.description = "a Python kernel (" + origin + ")";
  s.origin = origin;
  s.invoker = std::move(invoker);
  s.specs = specs;
  make_adapter(s, contract);
  const SessionScope scope(s);
  const impl::Kernel kernel{&s.desc, origin};
  gate::CampaignOptions o;
  o.kernels = {&kernel};
  o.specs = specs;
  o.generated_specs = false;
  o.properties = properties;
  o.budget_seconds = budget_seconds;
  o.cases = cases;
  o.seed = seed;
  o.isolation = false;  // the kernel lives in this interpreter (isolate=True: a worker process, on the Python side)
  o.jobs = 1;
  o.out_dir = out_dir;
  o.shrink_seconds = shrink_seconds;
  o.many_tokens = many_tokens;
  o.replay_command = replay_command;
  o.before_case = [&s](const props::Case&, const char* property) { s.property = property; };
  gate::CampaignResult r = gate::run_campaign(o);
  if (s.interrupted) throw py::error_already_set((PyErr_SetNone(PyExc_KeyboardInterrupt), py::error_already_set()));

  py::dict d;
  d["exit_code"] = r.tally.exit_code();
  d["crash"] = r.tally.crash;
  d["violation"] = r.tally.violation;
  d["internal"] = r.tally.internal;
  d["output_failed"] = r.tally.output_failed;
  d["nothing_checked"] = r.tally.nothing_checked;
  d["seconds"] = r.seconds;
  d["messages"] = r.messages;
  py::dict table;
  for (const props::Property& p : props::catalogue()) {
    if (!properties.empty() && std::find(properties.begin(), properties.end(), p.id) == properties.end()) continue;
    const auto row = r.cells.find(name);
    gate::Cell c = row == r.cells.end() || !row->second.count(p.id) ? gate::Cell{} : row->second.at(p.id);
    table[p.id] = cell_dict(c);
  }
  if (const auto row = r.cells.find(name); row != r.cells.end()) {
    for (const auto& [p, c] : row->second) {
      if (!table.contains(p)) table[p.c_str()] = cell_dict(c);  // "(kernel call)" and the like
    }
  }
  d["table"] = table;
  py::list failures;
  for (const gate::UnitRun& u : r.units) {
    for (const gate::PropertyOutcome& po : u.result.properties) {
      if (po.failed) failures.append(outcome_dict(po, u.result.spec_name));
    }
  }
  d["failures"] = failures;
  std::vector<std::string> refusals, internal;
  for (const gate::Refusal& f : r.refusals) refusals.push_back(f.spec + ": " + f.reason);
  for (const auto& [k, errs] : r.internal_errors) internal.insert(internal.end(), errs.begin(), errs.end());
  d["refusals"] = refusals;
  d["internal_errors"] = internal;
  d["recipe_notes"] = r.recipe_notes;
  return d;
}

// Replays a saved counterexample on the Python kernel, judged by the exact reference alone (as
// `ropecheck repro` judges a C kernel), in this process.
py::dict run_repro(py::object invoker, const py::dict& contract, const std::string& name, const std::string& path,
                   const std::string& text, const std::string& property_override) {
  const std::optional<props::Counterexample> cx = props::parse_counterexample(text, path);
  if (!cx) throw py::value_error(path + " is not a ropecheck counterexample (JSON)");
  const std::string property_id =
      !property_override.empty() ? property_override : (!cx->differed_on.empty() ? cx->differed_on : cx->property);
  const props::Property* property = props::find_property(property_id);
  if (!property) throw py::value_error("unknown property '" + property_id + "'");
  Session s;
  s.name = name;
  s.description = "a Python kernel";
  s.invoker = std::move(invoker);
  s.specs = {cx->c.spec};
  make_adapter(s, contract);
  if (const std::string why = props::case_unfit_for_kernel(cx->c, s.desc); !why.empty()) throw py::value_error(path + ": " + why);
  const SessionScope scope(s);
  props::Judge judge;
  const props::Judgement j = judge.judge_exact(s.desc, *property, cx->c);
  if (s.interrupted) throw py::error_already_set((PyErr_SetNone(PyExc_KeyboardInterrupt), py::error_already_set()));
  py::dict d;
  d["finding"] = props::to_string(j.finding);
  d["exit_code"] = props::exit_code(j.finding);
  d["property"] = j.property.empty() ? property_id : j.property;
  d["reason"] = j.reason;
  d["detail"] = j.detail;
  d["kernel"] = cx->kernel;
  d["case_text"] = props::describe(cx->c);
  d["case"] = props::case_to_json(cx->c, 2);
  d["saved_finding"] = props::to_string(cx->finding);
  return d;
}

// ------------------------------------------------------------------ reference ------------

RopeSpec spec_from_json(const std::string& text) {
  RopeSpec s = spec_from_json_text(text);
  validate(s);
  return s;
}

py::array_t<double> frequencies(const RopeSpec& spec) {
  const ref::ExactReference exact(spec);
  py::array_t<double> a(spec.pairs());
  for (int j = 0; j < spec.pairs(); ++j) a.mutable_at(j) = exact.theta(j);
  return a;
}

// x: [..., head_dim] float64, positions: one per leading row (broadcast over the middle axes).
py::array_t<double> rotate(const RopeSpec& spec, py::array_t<double, py::array::c_style | py::array::forcecast> x,
                           std::vector<int64_t> positions) {
  const ref::ExactReference exact(spec);
  if (x.ndim() < 1 || x.shape(x.ndim() - 1) != spec.head_dim) {
    throw py::value_error("x must end with the head dimension " + std::to_string(spec.head_dim));
  }
  const py::ssize_t rows = x.ndim() == 1 ? 1 : x.shape(0);
  if (static_cast<py::ssize_t>(positions.size()) != rows) {
    throw py::value_error("positions: expected " + std::to_string(rows) + " (one per row of x), got " +
                          std::to_string(positions.size()));
  }
  const py::ssize_t per_row = x.size() / std::max<py::ssize_t>(1, rows) / spec.head_dim;
  py::array_t<double> out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const double* src = x.data();
  double* dst = out.mutable_data();
  for (py::ssize_t r = 0; r < rows; ++r) {
    for (py::ssize_t v = 0; v < per_row; ++v) {
      const size_t off = static_cast<size_t>((r * per_row + v) * spec.head_dim);
      exact.rotate(positions[static_cast<size_t>(r)], src + off, dst + off, nullptr);
    }
  }
  return out;
}

double score(const RopeSpec& spec, py::array_t<double, py::array::c_style | py::array::forcecast> q, int64_t t,
             py::array_t<double, py::array::c_style | py::array::forcecast> k, int64_t s) {
  if (q.size() != spec.head_dim || k.size() != spec.head_dim) {
    throw py::value_error("q and k must hold head_dim = " + std::to_string(spec.head_dim) + " values");
  }
  return ref::ExactReference(spec).score(q.data(), t, k.data(), s);
}

std::vector<std::string> decimals(const std::vector<double>& v) {
  std::vector<std::string> s;
  for (double x : v) s.push_back(exact_decimal(x));
  return s;
}

// Bound on |y - y_exact| of every pair at every position for a pair of input norm `norm`.
py::array_t<double> bound(const RopeSpec& spec, const py::dict& contract, const std::vector<int64_t>& positions,
                          double norm) {
  validate(spec);
  rc_kernel_desc d = desc_from_dict(contract);
  d.name = "contract";
  const ref::ExactReference exact(spec);
  const double a = exact.attention_factor();
  py::array_t<double> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(positions.size()), spec.pairs()});
  for (size_t i = 0; i < positions.size(); ++i) {
    for (int j = 0; j < spec.pairs(); ++j) {
      out.mutable_at(static_cast<py::ssize_t>(i), j) = ref::pair_bound(d, spec, j, positions[i], exact.theta(j), a * norm, a);
    }
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "ropecheck's C++ core (use the ropecheck package)";
  py::register_exception<SpecError>(m, "SpecError", PyExc_ValueError);

  py::class_<RopeSpec>(m, "Spec")
      .def_readonly("name", &RopeSpec::name)
      .def_readonly("head_dim", &RopeSpec::head_dim)
      .def_readonly("rotary_dim", &RopeSpec::rotary_dim)
      .def_readonly("base", &RopeSpec::base)
      .def_property_readonly("layout", [](const RopeSpec& s) { return std::string(to_string(s.layout)); })
      .def_property_readonly("rope_type", [](const RopeSpec& s) { return std::string(to_string(s.type)); })
      .def_readonly("factor", &RopeSpec::factor)
      .def_readonly("max_position_embeddings", &RopeSpec::max_position_embeddings)
      .def_readonly("original_max_position_embeddings", &RopeSpec::original_max_position_embeddings)
      .def_readonly("seq_len", &RopeSpec::seq_len)
      .def_property_readonly("pairs", &RopeSpec::pairs)
      .def("to_json", [](const RopeSpec& s) { return spec_to_json_text(s, 2); })
      .def("__repr__", [](const RopeSpec& s) { return "<ropecheck.Spec " + props::describe(s) + ">"; })
      .def(py::pickle([](const RopeSpec& s) { return spec_to_json_text(s, -1); },
                      [](const std::string& t) { return spec_from_json(t); }));

  m.def("spec_from_json", &spec_from_json, "a spec from ropecheck's JSON text");
  m.def("specs_from_hf_config", [](const std::string& text, const std::string& origin) {
    std::vector<RopeSpec> out;
    for (const HfLayerRope& r : ropes_from_hf_config_text(text, origin).ropes) out.push_back(r.spec);
    return out;
  });
  m.def("describe_spec", [](const RopeSpec& s) { return props::describe(s); });
  m.def("default_specs", &props::default_gate_specs);

  m.def("frequencies", &frequencies);
  m.def("frequencies_decimal", [](const RopeSpec& s, int digits) { return ref::ExactReference(s).theta_decimal(digits); });
  m.def("attention_factor", [](const RopeSpec& s) { return ref::ExactReference(s).attention_factor(); });
  m.def("attention_factor_decimal",
        [](const RopeSpec& s, int digits) { return ref::ExactReference(s).attention_factor_decimal(digits); });
  m.def("rotate", &rotate);
  m.def("rotate_decimal", [](const RopeSpec& s, const std::vector<double>& x, int64_t t, int digits) {
    return ref::ExactReference(s).rotate_decimal({t}, decimals(x), digits);
  });
  m.def("score", &score);
  m.def("score_decimal", [](const RopeSpec& s, const std::vector<double>& q, int64_t t, const std::vector<double>& k,
                            int64_t u, int digits) {
    return ref::ExactReference(s).score_decimal(decimals(q), {t}, decimals(k), {u}, digits);
  });

  m.def("presets", [] {
    py::dict d;
    for (const auto& [name, desc] : presets()) d[name.c_str()] = contract_dict(desc);
    return d;
  });
  m.def("bound", &bound);
  m.def("properties", [] {
    std::vector<std::pair<std::string, std::string>> p;
    for (const props::Property& x : props::catalogue()) p.emplace_back(x.id, x.summary);
    return p;
  });
  m.def("run_check", &run_check);
  m.def("run_repro", &run_repro);
}
