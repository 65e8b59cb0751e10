#include "reports/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <thread>

#include "impl/abi.hpp"
#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/edge_positions.hpp"
#include "properties/recipe_view.hpp"
#include "reference/error_model.hpp"
#include "reference/exact_reference.hpp"

namespace ropecheck::report {

namespace {

int ilog2(uint64_t v) { return 63 - __builtin_clzll(v); }

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Worst-case order: larger error first, ties to the earlier sample and lower pair, so the
// choice does not depend on how the work was split between threads.
// max that keeps a NaN (std::max drops it when it comes second): a kernel's NaN output must
// show in every table and make the bound ratio fail, not vanish.
template <class T>
T sticky_max(T a, T b) {
  return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<T>::quiet_NaN() : std::max(a, b);
}

// Equal, or both NaN: a re-measurement that reproduces a NaN reproduces it.
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

bool worse(const Worst& a, const Worst& b) {
  if (!b.valid) return a.valid;
  if (!a.valid) return false;
  if (a.ulps != b.ulps) return a.ulps > b.ulps || (std::isnan(a.ulps) && !std::isnan(b.ulps));
  if (a.sample != b.sample) return a.sample < b.sample;
  return a.pair < b.pair;
}

// The same order by error / bound (the pair most over its bound first).
bool more_over(const Worst& a, const Worst& b) {
  if (!b.valid) return a.valid;
  if (!a.valid) return false;
  const double ra = a.ratio(), rb = b.ratio();
  if (ra != rb) return ra > rb || (std::isnan(ra) && !std::isnan(rb));
  if (a.sample != b.sample) return a.sample < b.sample;
  return a.pair < b.pair;
}

}  // namespace

int position_band(int64_t t) { return t < 16 ? 0 : ilog2(static_cast<uint64_t>(t)) / 4; }
std::string position_band_label(int band) {
  if (band == 0) return "0 - 15";
  return "2^" + std::to_string(4 * band) + " - 2^" + std::to_string(4 * band + 4) + "-1";
}
int frequency_band_count(int pairs) { return std::min(4, pairs); }
int frequency_band(int pair, int pairs) {
  const int n = frequency_band_count(pairs);
  return static_cast<int>(static_cast<int64_t>(pair) * n / pairs);
}
int frequency_band_first(int band, int pairs) {
  const int n = frequency_band_count(pairs);
  return static_cast<int>((static_cast<int64_t>(band) * pairs + n - 1) / n);
}
int position_bin(int64_t t) {
  if (t <= 0) return 0;
  return 1 + static_cast<int>(std::floor(8.0 * std::log2(static_cast<double>(t))));
}
double position_bin_start(int bin) { return bin == 0 ? 0.0 : std::exp2((bin - 1) / 8.0); }
int heat_row(int64_t t) { return t <= 0 ? 0 : 1 + ilog2(static_cast<uint64_t>(t)); }
int hist_bin(double ulps) {
  if (!(ulps > 0)) return 0;
  const double b = std::floor(4.0 * std::log2(ulps)) + 161;  // 2^-40 → bin 1
  return static_cast<int>(std::clamp(b, 1.0, static_cast<double>(kHistBins - 1)));
}
double hist_bin_start(int bin) { return bin == 0 ? 0.0 : std::exp2((bin - 161) / 4.0); }

double Worst::ratio() const { return bound > 0 ? err / bound : (err == 0 ? 0.0 : err > 0 ? INFINITY : NAN); }

double Cell::rms() const { return n ? std::sqrt(sum_sq / static_cast<double>(n)) : 0.0; }
void Cell::add(const Worst& w) {
  ++n;
  sum_sq += w.ulps * w.ulps;
  max = sticky_max(max, w.ulps);
  max_bound_ulps = sticky_max(max_bound_ulps, w.bound_ulps);
  max_ratio = sticky_max(max_ratio, w.ratio());
  if (worse(w, worst)) worst = w;
  if (more_over(w, over)) over = w;
}
void Cell::merge(const Cell& o) {
  n += o.n;
  sum_sq += o.sum_sq;
  max = sticky_max(max, o.max);
  max_bound_ulps = sticky_max(max_bound_ulps, o.max_bound_ulps);
  max_ratio = sticky_max(max_ratio, o.max_ratio);
  if (worse(o.worst, worst)) worst = o.worst;
  if (more_over(o.over, over)) over = o.over;
}

void View::init(int pairs, size_t samples) {
  cells.assign(static_cast<size_t>(kPositionBands * frequency_band_count(pairs)), Cell{});
  overall = Cell{};
  bin_max.assign(kPositionBins, -1);
  bin_bound.assign(kPositionBins, -1);
  heat.assign(static_cast<size_t>(kHeatRows * pairs), -1.0f);
  hist.assign(kHistBins, 0);
  sample_max.assign(samples, -1.0f);
  sample_bound.assign(samples, -1.0f);
}
void View::merge(const View& o) {
  for (size_t i = 0; i < cells.size(); ++i) cells[i].merge(o.cells[i]);
  overall.merge(o.overall);
  for (size_t i = 0; i < bin_max.size(); ++i) {
    bin_max[i] = sticky_max(bin_max[i], o.bin_max[i]);
    bin_bound[i] = sticky_max(bin_bound[i], o.bin_bound[i]);
  }
  for (size_t i = 0; i < heat.size(); ++i) heat[i] = sticky_max(heat[i], o.heat[i]);
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
}

std::vector<double> sweep_input(int32_t in_dtype, int head_dim, uint64_t seed, int64_t sample) {
  const auto hd = static_cast<size_t>(head_dim);
  std::vector<double> x(hd);
  const uint64_t base = splitmix64(seed) ^ (static_cast<uint64_t>(sample) * 0xD1B54A32D192ED03ull);
  for (size_t i = 0; i < hd; ++i) {
    const uint64_t r = splitmix64(base + i);
    x[i] = props::round_to_dtype(static_cast<double>(r >> 11) * 0x1p-52 - 1.0, in_dtype);  // [-1, 1)
  }
  return x;
}

std::vector<int64_t> sweep_positions(const std::vector<int64_t>& requested, const RopeSpec& spec,
                                     int64_t max_position) {
  std::vector<int64_t> p = props::edge_positions(spec, max_position);
  for (int64_t t : requested) {
    if (t >= 0 && t <= max_position) p.push_back(t);
  }
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  return p;
}

std::vector<int> sweep_pairs(int pairs, int pair_limit) {
  std::vector<int> out;
  if (pair_limit <= 0 || pair_limit >= pairs) {
    for (int j = 0; j < pairs; ++j) out.push_back(j);
    return out;
  }
  for (int i = 0; i < pair_limit; ++i) {
    // Evenly spread, first and last pair included (the highest and lowest frequency).
    const int j = pair_limit == 1 ? 0 : static_cast<int>(std::lround(static_cast<double>(i) * (pairs - 1) / (pair_limit - 1)));
    if (out.empty() || out.back() != j) out.push_back(j);
  }
  return out;
}

int64_t sweep_size(const rc_kernel_desc& kernel, const RopeSpec& spec, const SweepOptions& options) {
  return static_cast<int64_t>(sweep_positions(options.positions, spec, kernel.max_position).size());
}

props::Case sweep_call_case(const rc_kernel_desc& kernel, const SweepResult& res, size_t first, size_t last) {
  const RopeSpec& spec = res.spec;
  props::Case c;
  c.spec = spec;
  c.positions.assign(res.samples.begin() + static_cast<std::ptrdiff_t>(first),
                     res.samples.begin() + static_cast<std::ptrdiff_t>(last));
  if (res.axis >= 0 && spec.n_axes() > 1) {  // axis `res.axis` alone at the samples, the others at 0
    std::vector<int64_t> zeros(c.positions.size(), 0);
    c.axis_positions.assign(static_cast<size_t>(spec.n_axes() - 1), zeros);
    if (res.axis > 0) std::swap(c.positions, c.axis_positions[static_cast<size_t>(res.axis - 1)]);
  }
  c.x.reserve((last - first) * static_cast<size_t>(spec.head_dim));
  for (size_t s = first; s < last; ++s) {
    const std::vector<double> x = sweep_input(res.in_dtype, spec.head_dim, res.seed, static_cast<int64_t>(s));
    c.x.insert(c.x.end(), x.begin(), x.end());
  }
  return props::in_call_shape(c, kernel);
}

namespace {

const props::Property& property(const char* id) {
  const props::Property* p = props::find_property(id);
  if (p == nullptr) throw std::logic_error(std::string("report: no property ") + id + " in the catalogue");
  return *p;
}
const props::Property& agreement() { return property("agreesWithExactReferenceWithinContract"); }

// Tokens [from, to) of `c`, with their inputs.
props::Case sub_case(const props::Case& c, int64_t from, int64_t to) {
  props::Case d = c;
  d.positions.assign(c.positions.begin() + from, c.positions.begin() + to);
  for (size_t a = 0; a < c.axis_positions.size(); ++a) {
    d.axis_positions[a].assign(c.axis_positions[a].begin() + from, c.axis_positions[a].begin() + to);
  }
  d.x.assign(c.x.begin() + static_cast<std::ptrdiff_t>(c.at(from, 0, 0)),
             c.x.begin() + static_cast<std::ptrdiff_t>(c.at(to, 0, 0)));
  return d;
}

// The sample of `w` alone (its position and input), in the call shape the kernel takes.
props::Case worst_alone(const rc_kernel_desc& kernel, const SweepResult& res, const Worst& w) {
  const auto s = static_cast<size_t>(w.sample);
  return sweep_call_case(kernel, res, s, s + 1);
}

bool failed_or_internal(const props::Judgement& j) { return j.failed() || j.finding == props::Finding::kInternal; }

RunFinding internal_finding(const std::string& reason, const props::Case& c) {
  props::Judgement j;
  j.finding = props::Finding::kInternal;
  j.property = agreement().id;
  j.reason = reason;
  return {j, c};
}

std::string ulp_text(double ulps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", ulps);
  return buf;
}

// A call of the sweep failed as a whole (a refusal inside the declared range, an out-of-bounds
// write, a throw, a changed pass-through component): measure_agreement does not say at which
// position.  Each position alone is judged first — most such failures belong to one, and a
// one-position case is the counterexample a user wants — then the call itself, which the judge
// confirms (confirm() never answers a failure somebody saw with a pass).
RunFinding judge_failed_call(props::Judge& judge, const rc_kernel_desc& kernel, const props::Case& c,
                             const std::string& seen) {
  for (int64_t k = 0; k < c.n_tokens(); ++k) {
    props::Case one = sub_case(c, k, k + 1);
    props::Judgement j = judge.judge(kernel, agreement(), one);
    if (failed_or_internal(j)) return {std::move(j), std::move(one)};
  }
  return {judge.confirm(kernel, agreement(), c, seen), c};
}

// A measured pair whose value alone differs from its value in the sweep's call: the kernel's
// answer for a position depends on the call it is in (it reads the token index for the
// position, another token's position, ...).  That is the kernel's defect whenever a property
// fails on some case, and the case to save is the smallest that shows it: windows of the
// sweep's call containing the pair's token, 1, 2, 4, ... tokens long (one starting at it, one
// ending at it), each judged for agreement and, from two tokens on, for
// tokensAndHeadsAreIndependent (an output depends on its own position and input only).  Then,
// when the sweep or the lone measurement saw the pair over its bound, the case it saw that on,
// confirmed (never a pass).  When both values are within the bound and no property fails, no
// property of the catalogue is violated: the report says what was seen in a note.
std::optional<RunFinding> judge_batch_dependence(props::Judge& judge, const rc_kernel_desc& kernel,
                                                 const props::Case& call, int64_t k, const Worst& w,
                                                 const props::Case& alone, const props::PairMeasurement& m,
                                                 std::vector<std::string>& notes) {
  const int64_t n_call = call.n_tokens();
  for (int64_t n = 1;; n = std::min(2 * n, n_call)) {
    int64_t last_start = -1;
    for (int64_t start : {std::min(k, n_call - n), std::max<int64_t>(0, k - n + 1)}) {
      if (start == last_start) continue;
      last_start = start;
      props::Case window = sub_case(call, start, start + n);
      for (const char* id : {"agreesWithExactReferenceWithinContract", "tokensAndHeadsAreIndependent"}) {
        if (n < 2 && id[0] == 't') continue;  // one vector: nothing to permute
        props::Judgement j = judge.judge(kernel, property(id), window);
        if (failed_or_internal(j)) return RunFinding{std::move(j), std::move(window)};
      }
    }
    if (n == n_call) break;
  }
  const std::string where = "t = " + std::to_string(w.t) + ", pair " + std::to_string(w.pair);
  const std::string both = ": error " + ulp_text(w.ulps) + " ulp (bound " + ulp_text(w.bound_ulps) +
                           ") in the report sweep's call of " + std::to_string(n_call) + " positions, " +
                           ulp_text(m.ulps) + " ulp (bound " + ulp_text(m.bound_ulps) + ") alone";
  if (!(w.ratio() <= 1)) return RunFinding{judge.confirm(kernel, agreement(), call, where + both), call};
  if (!(m.err <= m.bound)) return RunFinding{judge.confirm(kernel, agreement(), alone, where + both), alone};
  notes.push_back(where + both + ": the kernel's output depends on the call it is in, within its bound both ways; "
                  "no property fails on the cases judged (agreement and tokensAndHeadsAreIndependent on windows "
                  "of that call)");
  return std::nullopt;
}

SweepResult sweep(const rc_kernel_desc& kernel, const RopeSpec& spec, const std::string& spec_label,
                  props::Judge& judge, const SweepOptions& options, int axis) {
  const auto start = std::chrono::steady_clock::now();
  SweepResult res;
  res.kernel = kernel.name;
  res.spec_label = spec_label;
  res.spec = spec;
  res.axis = spec.n_axes() > 1 ? axis : -1;
  res.in_dtype = kernel.in_dtype;
  res.out_dtype = kernel.out_dtype;
  res.max_position = kernel.max_position;
  res.angle_recipe = impl::angle_recipe_name(kernel.accuracy.angle_recipe);
  res.theta_rel_error = kernel.accuracy.theta_rel_error;
  res.theta_rel_error_per_pair = impl::theta_error_per_pair_of(kernel);
  res.seed = options.seed;
  const std::shared_ptr<const ref::FastOracle> oracle = judge.fast_oracle_shared(spec);
  const int pairs = spec.pairs();
  for (int j = 0; j < pairs; ++j) res.theta.push_back(oracle->theta(j));

  const props::KernelRunner& runner = judge.runner(kernel, spec);
  {
    props::Case probe;
    probe.spec = spec;
    probe.positions = {0};
    probe.x.assign(static_cast<size_t>(spec.head_dim), 0.0);
    res.skipped = runner.unsupported_reason(props::in_call_shape(probe, kernel));
    res.refusal = runner.prepare_refusal();
    if (!res.skipped.empty()) return res;
  }
  res.samples = sweep_positions(options.positions, spec, kernel.max_position);
  res.pairs = sweep_pairs(pairs, options.pair_limit);
  if (res.axis >= 0) {  // an axis alone: its pairs (the others turn by 0)
    res.pairs.erase(std::remove_if(res.pairs.begin(), res.pairs.end(), [&](int j) { return spec.axis_of_pair(j) != res.axis; }),
                    res.pairs.end());
  }
  std::vector<char> measured(static_cast<size_t>(pairs), 0);
  for (int j : res.pairs) measured[static_cast<size_t>(j)] = 1;

  // The recipe view calls the kernel to infer θ̂; a kernel that throws there only loses the
  // view: the sweep's own calls meet the throw again, and the judge decides on it.
  // Its calls are recorded: they are answers of the kernel like the sweep's, judged below.
  std::optional<props::RecipeView> recipe_view;
  std::string recipe_threw;
  props::CallLog inference;
  runner.attach_log(&inference);
  try {
    recipe_view.emplace(runner, oracle->exact());
  } catch (const props::KernelThrew& e) {
    recipe_threw = e.what();
  }
  runner.attach_log(nullptr);
  const auto recipe_kind = recipe_view ? recipe_view->kind() : props::RecipeView::Kind::kUnavailable;
  res.exact.available = true;
  res.exact.note = "against exact mathematics (FastOracle, worst cases re-judged by the ExactReference)";
  res.recipe.available = recipe_kind != props::RecipeView::Kind::kUnavailable;
  res.recipe.note = recipe_view ? recipe_view->note() : "cannot infer theta^: the kernel threw: " + recipe_threw;
  const bool recipe_inferred = recipe_kind == props::RecipeView::Kind::kInferred;
  if (recipe_inferred) {
    for (int j = 0; j < pairs; ++j) res.theta_hat.push_back(recipe_view->theta_hat(j));
  }
  res.exact.init(pairs, res.samples.size());
  res.recipe.init(pairs, res.samples.size());

  const size_t n_samples = res.samples.size();
  const size_t chunk = static_cast<size_t>(std::max(1, options.chunk));
  const size_t n_chunks = (n_samples + chunk - 1) / chunk;
  const int n_threads = static_cast<int>(std::clamp<size_t>(static_cast<size_t>(std::max(1, options.threads)), 1,
                                                            std::max<size_t>(1, n_chunks)));
  const int fbands = frequency_band_count(pairs);
  std::vector<View> ex(static_cast<size_t>(n_threads)), rc(static_cast<size_t>(n_threads));
  // A call that failed or was skipped as a whole, per worker (its first: each worker stops there).
  struct FailedCall {
    size_t chunk = SIZE_MAX;
    bool failed = false;  // else skipped
    std::string reason;
  };
  std::vector<FailedCall> failed(static_cast<size_t>(n_threads));
  std::vector<std::exception_ptr> thrown(static_cast<size_t>(n_threads));  // ropecheck's own

  auto work = [&](int w) {
    View& E = ex[static_cast<size_t>(w)];
    View& R = rc[static_cast<size_t>(w)];
    E.init(pairs, 0);
    R.init(pairs, 0);
    const props::Context ctx{runner, *oracle};
    for (size_t ci = static_cast<size_t>(w); ci < n_chunks; ci += static_cast<size_t>(n_threads)) {
      const size_t first = ci * chunk, last = std::min(n_samples, first + chunk);
      failed[static_cast<size_t>(w)].chunk = ci;  // where a throw of the kernel happened
      const props::Case c = sweep_call_case(kernel, res, first, last);
      props::RunOutput out;
      auto record = [&](View& V, View& shared, const props::PairMeasurement& m, const Worst& w8) {
        const size_t s = first + static_cast<size_t>(m.token);
        V.cells[static_cast<size_t>(position_band(m.t) * fbands + frequency_band(m.pair, pairs))].add(w8);
        V.overall.add(w8);
        const auto b = static_cast<size_t>(position_bin(m.t));
        V.bin_max[b] = sticky_max(V.bin_max[b], w8.ulps);
        V.bin_bound[b] = sticky_max(V.bin_bound[b], w8.bound_ulps);
        float& h = V.heat[static_cast<size_t>(heat_row(m.t) * pairs + m.pair)];
        h = sticky_max(h, static_cast<float>(w8.ulps));
        ++V.hist[static_cast<size_t>(hist_bin(w8.ulps))];
        // Each sample belongs to one chunk, hence to one thread: no race.
        shared.sample_max[s] = sticky_max(shared.sample_max[s], static_cast<float>(w8.ulps));
        shared.sample_bound[s] = sticky_max(shared.sample_bound[s], static_cast<float>(w8.bound_ulps));
      };
      auto visit = [&](const props::PairMeasurement& m) {
        if (!measured[static_cast<size_t>(m.pair)]) return true;
        Worst w8;
        w8.valid = true;
        w8.t = m.t;
        w8.sample = static_cast<int64_t>(first) + m.token;
        w8.pair = m.pair;
        w8.r = m.r;
        w8.x[0] = c.x[m.i0];
        w8.x[1] = c.x[m.i1];
        w8.y[0] = out.y[m.i0];
        w8.y[1] = out.y[m.i1];
        w8.ref[0] = m.exact[0];
        w8.ref[1] = m.exact[1];
        w8.err = m.err;
        w8.bound = m.bound;
        w8.ulps = m.ulps;
        w8.bound_ulps = m.bound_ulps;
        record(E, res.exact, m, w8);
        if (recipe_inferred) {
          const props::RecipeView& recipe = *recipe_view;
          long double yr[2];
          recipe.rotate_pair(m.t, m.pair, w8.x[0], w8.x[1], yr);
          w8.ref[0] = static_cast<double>(yr[0]);
          w8.ref[1] = static_cast<double>(yr[1]);
          w8.err = static_cast<double>(std::hypot(w8.y[0] - yr[0], w8.y[1] - yr[1]));
          w8.bound = recipe.bound(m.r, m.t, m.pair, oracle->theta(m.pair));  // the own-recipe property's bound
          w8.ulps = ref::ulps_of_pair_norm(w8.err, m.r, kernel.out_dtype);
          w8.bound_ulps = ref::ulps_of_pair_norm(w8.bound, m.r, kernel.out_dtype);
          record(R, res.recipe, m, w8);
        }
        return true;
      };
      if (auto v = props::measure_agreement(ctx, c, visit, &out)) {
        failed[static_cast<size_t>(w)] = {ci, v->failed(), v->reason};
        return;
      }
      if (options.progress) options.progress(static_cast<int64_t>(last - first));
    }
    failed[static_cast<size_t>(w)].chunk = SIZE_MAX;
  };
  // Nothing may escape a worker thread (that would terminate the process): a kernel that
  // throws fails its call, judged below; any other exception is rethrown here, after the join.
  auto worker = [&](int w) {
    try {
      work(w);
    } catch (const props::KernelThrew& e) {
      failed[static_cast<size_t>(w)].failed = true;
      failed[static_cast<size_t>(w)].reason = std::string("crash: ") + e.what();
    } catch (...) {
      thrown[static_cast<size_t>(w)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < n_threads; ++w) {
    pool.emplace_back([&worker, w] {
      worker(w);
      ref::release_thread_caches();  // the exact reference's per-thread MPFR constants
    });
  }
  worker(0);
  for (auto& th : pool) th.join();
  for (const std::exception_ptr& e : thrown) {
    if (e) std::rethrow_exception(e);
  }
  // The earliest call that failed (each worker stopped at its first, so the smallest of those
  // is the sweep's first, whatever the number of threads).
  const FailedCall* first_failed = nullptr;
  for (const FailedCall& f : failed) {
    if (f.chunk != SIZE_MAX && (!first_failed || f.chunk < first_failed->chunk)) first_failed = &f;
  }
  if (first_failed != nullptr) {
    if (!first_failed->failed) {
      res.skipped = "skipped: " + first_failed->reason;
      return res;
    }
    const size_t first = first_failed->chunk * chunk, last = std::min(n_samples, first + chunk);
    const props::Case c = sweep_call_case(kernel, res, first, last);
    res.finding = judge_failed_call(judge, kernel, c,
                                    "the report sweep's call of " + std::to_string(c.n_tokens()) +
                                        " positions failed: " + first_failed->reason);
    const props::Judgement& j = res.finding->judgement;
    res.skipped = std::string(j.failed() ? "kernel failed: " : "not measured (ropecheck internal error): ") + j.reason;
    return res;
  }
  // Merge in worker order (deterministic for a given thread count).
  std::vector<float> sm = std::move(res.exact.sample_max), sb = std::move(res.exact.sample_bound);
  std::vector<float> rm = std::move(res.recipe.sample_max), rb = std::move(res.recipe.sample_bound);
  res.exact.init(pairs, 0);
  res.recipe.init(pairs, 0);
  for (int w = 0; w < n_threads; ++w) {
    res.exact.merge(ex[static_cast<size_t>(w)]);
    res.recipe.merge(rc[static_cast<size_t>(w)]);
  }
  res.exact.sample_max = std::move(sm);
  res.exact.sample_bound = std::move(sb);
  res.recipe.sample_max = std::move(rm);
  res.recipe.sample_bound = std::move(rb);
  if (recipe_kind == props::RecipeView::Kind::kSameAsExact) {
    const std::string note = res.recipe.note;
    res.recipe = res.exact;
    res.recipe.note = note;
  }

  // Re-measure alone every reported worst case of the exact view and every cell's pair most
  // over its bound: the same harness (measure_agreement) on the one-position case, through a
  // CheckedOracle that compares every call of the fast oracle with the exact one (throws
  // OracleMismatch).  Then the judge decides, smallest position first, on what differs from
  // the sweep or exceeds the bound.
  const ref::CheckedOracle checked(oracle, 1);
  const props::Context cctx{runner, checked};
  std::vector<const Worst*> to_check;
  for (const Cell& cell : res.exact.cells) {
    if (cell.worst.valid) to_check.push_back(&cell.worst);
    if (cell.over.valid && !(cell.over.ratio() <= 1) &&
        (cell.over.sample != cell.worst.sample || cell.over.pair != cell.worst.pair)) {
      to_check.push_back(&cell.over);
    }
  }
  std::stable_sort(to_check.begin(), to_check.end(), [](const Worst* a, const Worst* b) {
    return a->t != b->t ? a->t < b->t : a->pair < b->pair;
  });
  for (const Worst* w : to_check) {
    const props::Case alone = worst_alone(kernel, res, *w);
    std::optional<props::PairMeasurement> lone;
    auto visit = [&](const props::PairMeasurement& m) {
      if (m.pair != w->pair) return true;
      lone = m;
      return false;
    };
    const std::string where = "t = " + std::to_string(w->t) + ", pair " + std::to_string(w->pair);
    // The sweep measured this position in its call; alone, the call may fail, be refused or throw.
    std::string failed_alone;
    try {
      if (auto v = props::measure_agreement(cctx, alone, visit)) failed_alone = v->reason;
    } catch (const props::KernelThrew& e) {
      failed_alone = std::string("crash: ") + e.what();
    }
    if (!failed_alone.empty()) {
      res.finding = RunFinding{judge.confirm(kernel, agreement(), alone, where + " measured alone: " + failed_alone), alone};
      break;
    }
    if (!lone) {
      res.finding = internal_finding("report: the worst case at " + where + " was not measured when re-measured alone", alone);
      break;
    }
    if (!same(lone->ulps, w->ulps) || !same(lone->err, w->err)) {
      const size_t first = static_cast<size_t>(w->sample) / chunk * chunk;
      const props::Case call = sweep_call_case(kernel, res, first, std::min(n_samples, first + chunk));
      res.finding = judge_batch_dependence(judge, kernel, call, w->sample - static_cast<int64_t>(first), *w, alone,
                                           *lone, res.notes);
    } else if (!(w->ratio() <= 1)) {
      res.finding = RunFinding{judge.confirm(kernel, agreement(), alone,
                                             where + ": error " + ulp_text(w->ulps) + " ulp > bound " +
                                                 ulp_text(w->bound_ulps) + " ulp in the report sweep, the same alone"),
                               alone};
    }
    if (res.finding) break;
  }
  // The recipe view's calls, measured like the sweep's on the outputs the kernel gave then (the
  // log replays them); a call answered outside the bound is judged as a failed call.  A kernel
  // wrong only on its first call in a process is caught here (the first is the view's).
  if (!res.finding) {
    inference.mode = props::CallLog::Mode::kReplay;
    runner.attach_log(&inference);
    const props::Context ctx{runner, *oracle};
    for (const props::CallLog::Call& call : inference.calls) {
      const props::Case c = call.as_case(spec);
      std::string seen;
      auto visit = [&](const props::PairMeasurement& m) {
        if (m.err <= m.bound) return true;
        seen = "t = " + std::to_string(m.t) + ", pair " + std::to_string(m.pair) + ": error " + ulp_text(m.ulps) +
               " ulp > bound " + ulp_text(m.bound_ulps) + " ulp";
        return false;
      };
      if (auto v = props::measure_agreement(ctx, c, visit); v && v->failed()) seen = v->reason;
      if (inference.diverged) {
        runner.attach_log(nullptr);
        throw std::logic_error("report: replaying the recipe view's calls called the kernel again");
      }
      if (!seen.empty()) {
        runner.attach_log(nullptr);
        res.finding = judge_failed_call(judge, kernel, c, "the report's call to infer theta^ (x = (1, 0) at powers of two): " + seen);
        break;
      }
    }
    runner.attach_log(nullptr);
  }
  // Every pair over its bound is some cell's `over`, judged above: a run over its bound without
  // a finding would be a pass nobody gave.
  if (!res.finding && !(res.exact.overall.max_ratio <= 1)) {
    props::Case none;
    none.spec = spec;
    res.finding = internal_finding("report: the sweep measured error/bound " + ulp_text(res.exact.overall.max_ratio) +
                                       " for " + res.kernel + " but no judged case confirmed it",
                                   none);
  }
  if (res.exact.overall.worst.valid) res.worst_case = worst_alone(kernel, res, res.exact.overall.worst);
  res.spot_checks = checked.spot_checks();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace

SweepResult run_sweep(const rc_kernel_desc& kernel, const RopeSpec& spec, const std::string& spec_label,
                      props::Judge& judge, const SweepOptions& options, int axis) {
  try {
    return sweep(kernel, spec, spec_label, judge, options, axis);
  } catch (const props::KernelThrew& e) {
    // Every call of the sweep is guarded where it is made, so this is a call nobody expected to
    // throw: a crash of the kernel, with no case to replay (an empty one: none is saved).
    SweepResult res;
    res.kernel = kernel.name;
    res.spec_label = spec_label;
    res.spec = spec;
    res.axis = spec.n_axes() > 1 ? axis : -1;
    props::Judgement j;
    j.finding = props::Finding::kCrash;
    j.property = agreement().id;
    j.reason = std::string("crash: ") + e.what();
    res.finding = RunFinding{j, props::Case{}};
    res.skipped = "kernel failed: " + j.reason;
    return res;
  }
}

std::vector<int64_t> parse_position_sweep(const std::string& text) {
  const size_t c1 = text.find(':');
  if (c1 == std::string::npos) return parse_position_list(text);
  std::vector<std::string> parts;
  size_t at = 0;
  while (true) {
    const size_t c = text.find(':', at);
    parts.push_back(text.substr(at, c == std::string::npos ? std::string::npos : c - at));
    if (c == std::string::npos) break;
    at = c + 1;
  }
  if (parts.size() < 3 || parts.size() > 4) {
    throw SpecError("--positions", "must be A:B:log[:N], A:B:all, A:B:lin:N or a comma list, got \"" + text + "\"");
  }
  const int64_t a = parse_position(parts[0]), b = parse_position(parts[1]);
  if (b < a) throw SpecError("--positions", "the end must not be below the start");
  const std::string& mode = parts[2];
  int64_t n = 4096;
  if (parts.size() == 4) {
    try {
      size_t used = 0;
      n = std::stoll(parts[3], &used);
      if (used != parts[3].size() || n < 2 || n > (int64_t{1} << 26)) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw SpecError("--positions", "the sample count must be an integer in [2, 2^26], got \"" + parts[3] + "\"");
    }
  }
  std::vector<int64_t> out;
  if (mode == "all") {
    if (parts.size() != 3) throw SpecError("--positions", "A:B:all takes no count");
    if (b - a > (int64_t{1} << 26)) throw SpecError("--positions", "A:B:all is limited to 2^26 positions");
    for (int64_t t = a; t <= b; ++t) out.push_back(t);
  } else if (mode == "lin") {
    if (parts.size() != 4) throw SpecError("--positions", "A:B:lin needs a count, e.g. 0:8192:lin:512");
    for (int64_t i = 0; i < n; ++i) {
      out.push_back(a + static_cast<int64_t>(std::llround(static_cast<long double>(b - a) * i / (n - 1))));
    }
  } else if (mode == "log") {
    // Log-spaced between max(a, 1) and b; a itself (e.g. 0) is included.
    out.push_back(a);
    const long double lo = std::log2(static_cast<long double>(std::max<int64_t>(a, 1)));
    const long double hi = std::log2(static_cast<long double>(b));
    for (int64_t i = 0; i < n; ++i) {
      const long double t = std::exp2(lo + (hi - lo) * i / (n - 1));
      out.push_back(std::min<int64_t>(b, static_cast<int64_t>(std::llround(t))));
    }
    out.push_back(b);
  } else {
    throw SpecError("--positions", "mode must be log, all or lin, got \"" + mode + "\"");
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ropecheck::report
