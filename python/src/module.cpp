// ropecheck._core: the C++ side of the Python package (python/ropecheck/).  Specs, the exact
// reference, the contract presets, the error model's pair bound, and the gate campaign run on a
// Python callable through the adapter descriptor (adapter.hpp): gate::run_campaign runs it in
// this process (isolation = false, jobs = 1), so the sweep, catalogue, generated cases,
// shrinking and counterexample files are `ropecheck check`'s; nothing is judged here.
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

#include "adapter.hpp"
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
using python::Session;
using python::SessionScope;
using python::make_adapter;

namespace {

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

// The campaign `ropecheck check` runs, on one kernel, in this process: the kernel lives in this
// interpreter (isolate=True puts it in a worker process, on the Python side).
gate::CampaignOptions in_process(const impl::Kernel& kernel, const std::vector<RopeSpec>& specs,
                                 const std::vector<std::string>& properties, int cases, double budget_seconds,
                                 uint64_t seed, const std::string& out_dir) {
  gate::CampaignOptions o;
  o.kernels = {&kernel};
  o.specs = specs;
  o.generated_specs = false;
  o.properties = properties;
  o.cases = cases;
  o.budget_seconds = budget_seconds;  // used when cases < 0
  o.seed = seed;
  o.isolation = false;
  o.jobs = 1;
  o.out_dir = out_dir;
  return o;
}

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
  gate::CampaignOptions o = in_process(kernel, specs, properties, cases, budget_seconds, seed, out_dir);
  o.shrink_seconds = shrink_seconds;
  o.many_tokens = many_tokens;
  o.replay_command = replay_command;
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

// The built-in kernel the benchmark runs, and the head vectors it was given (its calls counted
// through a copy of its descriptor whose entry points count, then call the kernel's).
const rc_kernel_desc* g_counted = nullptr;
uint64_t g_counted_vectors = 0;
int counting_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                   int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  g_counted_vectors += static_cast<uint64_t>(n_tokens * n_heads);
  return g_counted->apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
}
int counting_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  g_counted_vectors += static_cast<uint64_t>(call->n_tokens * (call->q.n_heads + (call->k.in ? call->k.n_heads : 0)));
  if (call->k.in == nullptr || impl::has_feature(*g_counted, RC_FEATURE_QK)) return g_counted->apply2(spec, handle, call);
  // A q/k call to a q-only kernel (run_builtin_check's qk): q, then k as a q-only call of its own
  // (what an engine does with such a kernel), so the campaign's cases are the Python adapter's.
  rc_call one = *call;
  one.k = rc_tensor{};
  if (const int status = g_counted->apply2(spec, handle, &one); status != RC_OK) return status;
  one.q = call->k;
  return g_counted->apply2(spec, handle, &one);
}

// The same campaign on a built-in kernel (the C path of python/bench/bench_python_vs_c.py).  qk:
// the kernel is given the q/k calls the Python adapter declares (RC_FEATURE_QK), each answered
// as two of its own q-only calls, so both paths judge the same cases.  cases < 0: generated cases
// for budget_seconds, as run_check (the same cases in the same order, as far as each path gets).
py::dict run_builtin_check(const std::string& kernel_name, const std::vector<RopeSpec>& specs,
                           const std::vector<std::string>& properties, int cases, uint64_t seed, const std::string& out_dir,
                           bool qk, double budget_seconds) {
  const impl::KernelSet set = impl::KernelSet::with_builtins();
  const impl::Kernel* kernel = set.find(kernel_name);
  if (kernel == nullptr) throw py::value_error("no built-in kernel '" + kernel_name + "'");
  rc_kernel_desc counting = *kernel->desc;
  if (impl::apply2_of(counting)) {
    counting.apply2 = counting_apply2;
    if (qk) counting.features |= RC_FEATURE_QK;  // as the Python adapter declares
  } else {
    if (qk) throw py::value_error("qk: '" + kernel_name + "' is an ABI 1 kernel");
    counting.apply = counting_apply;
  }
  // The layouts of the checked specs only, as the Python adapter declares them (make_adapter):
  // the one property that turns on other layouts (interleavedEqualsPermutedHalfSplit) is then
  // not applicable on either path.
  counting.layouts = 0;
  for (const RopeSpec& sp : specs) counting.layouts |= RC_LAYOUT_BIT(static_cast<int>(sp.layout));
  g_counted = kernel->desc;
  g_counted_vectors = 0;
  const impl::Kernel counted{&counting, kernel->origin};
  gate::CampaignOptions o = in_process(counted, specs, properties, cases, budget_seconds, seed, out_dir);
  o.many_tokens = false;
  const gate::CampaignResult r = gate::run_campaign(o);
  py::dict d;
  d["exit_code"] = r.tally.exit_code();
  d["seconds"] = r.seconds;
  d["vectors"] = g_counted_vectors;
  py::dict checked;  // property -> cases judged
  if (const auto row = r.cells.find(kernel_name); row != r.cells.end()) {
    for (const auto& [p, c] : row->second) checked[p.c_str()] = c.checked;
  }
  d["checked"] = checked;
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
  rc_kernel_desc d = python::desc_from_dict(contract);
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
      // Multi-axis specs: positions come as [n_axes, n_tokens]; pair j turns by the position of
      // axis axis_of_pair[j] (M-RoPE's sections, N-D RoPE's axes).
      .def_property_readonly("n_axes", &RopeSpec::n_axes)
      .def_readonly("mrope_section", &RopeSpec::mrope_section)
      .def_readonly("mrope_interleaved", &RopeSpec::mrope_interleaved)
      .def_readonly("axes_dims", &RopeSpec::axes_dims)
      .def_readonly("axes_dealt", &RopeSpec::axes_dealt)
      .def_property_readonly("axis_of_pair",
                             [](const RopeSpec& s) {
                               std::vector<int> a(static_cast<size_t>(s.pairs()));
                               for (int j = 0; j < s.pairs(); ++j) a[static_cast<size_t>(j)] = s.axis_of_pair(j);
                               return a;
                             })
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
    for (const auto& [name, desc] : python::presets()) d[name.c_str()] = python::contract_dict(desc);
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
  m.def("run_builtin_check", &run_builtin_check, py::arg("kernel"), py::arg("specs"), py::arg("properties"),
        py::arg("cases"), py::arg("seed"), py::arg("out_dir"), py::arg("qk") = false,
        py::arg("budget_seconds") = 20.0);
}
