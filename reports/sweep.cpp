#include "reports/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

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

double Cell::rms() const { return n ? std::sqrt(sum_sq / static_cast<double>(n)) : 0.0; }
void Cell::add(const Worst& w) {
  ++n;
  sum_sq += w.ulps * w.ulps;
  max = sticky_max(max, w.ulps);
  max_bound_ulps = sticky_max(max_bound_ulps, w.bound_ulps);
  max_ratio = sticky_max(max_ratio, w.bound > 0 ? w.err / w.bound : (w.err == 0 ? 0.0 : w.err > 0 ? INFINITY : NAN));
  if (worse(w, worst)) worst = w;
}
void Cell::merge(const Cell& o) {
  n += o.n;
  sum_sq += o.sum_sq;
  max = sticky_max(max, o.max);
  max_bound_ulps = sticky_max(max_bound_ulps, o.max_bound_ulps);
  max_ratio = sticky_max(max_ratio, o.max_ratio);
  if (worse(o.worst, worst)) worst = o.worst;
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

namespace {

SweepResult sweep(const rc_kernel_desc& kernel, const RopeSpec& spec, const std::string& spec_label,
                  const std::shared_ptr<const ref::FastOracle>& oracle, const SweepOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  SweepResult res;
  res.kernel = kernel.name;
  res.spec_label = spec_label;
  res.spec = spec;
  res.in_dtype = kernel.in_dtype;
  res.out_dtype = kernel.out_dtype;
  res.max_position = kernel.max_position;
  res.seed = options.seed;
  const int pairs = spec.pairs();
  for (int j = 0; j < pairs; ++j) res.theta.push_back(oracle->theta(j));

  const props::KernelRunner runner(kernel, spec);
  {
    props::Case probe;
    probe.spec = spec;
    probe.positions = {0};
    probe.x.assign(static_cast<size_t>(spec.head_dim), 0.0);
    res.skipped = runner.unsupported_reason(probe);
    if (!res.skipped.empty()) return res;
  }
  res.samples = sweep_positions(options.positions, spec, kernel.max_position);
  res.pairs = sweep_pairs(pairs, options.pair_limit);
  std::vector<char> measured(static_cast<size_t>(pairs), 0);
  for (int j : res.pairs) measured[static_cast<size_t>(j)] = 1;

  const props::RecipeView recipe(runner, oracle->exact());
  res.exact.available = true;
  res.exact.note = "against exact mathematics (FastOracle, worst cases re-judged by the ExactReference)";
  res.recipe.available = recipe.available();
  res.recipe.note = recipe.note();
  if (recipe.kind() == props::RecipeView::Kind::kInferred) {
    for (int j = 0; j < pairs; ++j) res.theta_hat.push_back(recipe.theta_hat(j));
  }
  const bool recipe_inferred = recipe.kind() == props::RecipeView::Kind::kInferred;
  res.exact.init(pairs, res.samples.size());
  res.recipe.init(pairs, res.samples.size());

  const size_t n_samples = res.samples.size();
  const size_t chunk = static_cast<size_t>(std::max(1, options.chunk));
  const size_t n_chunks = (n_samples + chunk - 1) / chunk;
  const int n_threads = static_cast<int>(std::clamp<size_t>(static_cast<size_t>(std::max(1, options.threads)), 1,
                                                            std::max<size_t>(1, n_chunks)));
  const int fbands = frequency_band_count(pairs);
  std::vector<View> ex(static_cast<size_t>(n_threads)), rc(static_cast<size_t>(n_threads));
  std::vector<std::string> errors(static_cast<size_t>(n_threads));
  std::vector<std::exception_ptr> thrown(static_cast<size_t>(n_threads));  // ropecheck's own

  auto work = [&](int w) {
    View& E = ex[static_cast<size_t>(w)];
    View& R = rc[static_cast<size_t>(w)];
    E.init(pairs, 0);
    R.init(pairs, 0);
    const props::Context ctx{runner, *oracle};
    for (size_t ci = static_cast<size_t>(w); ci < n_chunks; ci += static_cast<size_t>(n_threads)) {
      const size_t first = ci * chunk, last = std::min(n_samples, first + chunk);
      props::Case c;
      c.spec = spec;
      c.positions.assign(res.samples.begin() + static_cast<std::ptrdiff_t>(first),
                         res.samples.begin() + static_cast<std::ptrdiff_t>(last));
      c.x.reserve((last - first) * static_cast<size_t>(spec.head_dim));
      for (size_t s = first; s < last; ++s) {
        const std::vector<double> x = sweep_input(runner, options.seed, static_cast<int64_t>(s));
        c.x.insert(c.x.end(), x.begin(), x.end());
      }
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
          long double yr[2];
          recipe.rotate_pair(m.t, m.pair, w8.x[0], w8.x[1], yr);
          w8.ref[0] = static_cast<double>(yr[0]);
          w8.ref[1] = static_cast<double>(yr[1]);
          w8.err = static_cast<double>(std::hypot(w8.y[0] - yr[0], w8.y[1] - yr[1]));
          w8.bound = recipe.bound(m.r);
          w8.ulps = ref::ulps_of_pair_norm(w8.err, m.r, kernel.out_dtype);
          w8.bound_ulps = ref::ulps_of_pair_norm(w8.bound, m.r, kernel.out_dtype);
          record(R, res.recipe, m, w8);
        }
        return true;
      };
      if (auto v = props::measure_agreement(ctx, c, visit, &out)) {
        errors[static_cast<size_t>(w)] = std::string(v->failed() ? "kernel failed: " : "skipped: ") + v->reason +
                                         (v->detail.empty() ? "" : "\n" + v->detail);
        return;
      }
      if (options.progress) options.progress(static_cast<int64_t>(last - first));
    }
  };
  // Nothing may escape a worker thread (that would terminate the process): a kernel that
  // throws is a finding of that run; any other exception is rethrown here, after the join.
  auto worker = [&](int w) {
    try {
      work(w);
    } catch (const props::KernelThrew& e) {
      errors[static_cast<size_t>(w)] = std::string("kernel failed: crash: ") + e.what();
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
  for (const std::string& e : errors) {
    if (!e.empty()) {
      res.skipped = e;
      return res;
    }
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
  if (recipe.kind() == props::RecipeView::Kind::kSameAsExact) {
    const std::string note = res.recipe.note;
    res.recipe = res.exact;
    res.recipe.note = note;
  }

  // Re-judge every reported worst case of the exact view with the ExactReference: the same
  // harness (measure_agreement) on the one-position case, through a CheckedOracle that
  // compares every call of the fast oracle with the exact one (throws OracleMismatch).
  const ref::CheckedOracle checked(oracle, 1);
  const props::Context cctx{runner, checked};
  std::vector<const Worst*> to_check;
  for (const Cell& cell : res.exact.cells) {
    if (cell.worst.valid) to_check.push_back(&cell.worst);
  }
  for (const Worst* w : to_check) {
    props::Case c;
    c.spec = spec;
    c.positions = {w->t};
    c.x = sweep_input(runner, options.seed, w->sample);
    bool found = false;
    auto visit = [&](const props::PairMeasurement& m) {
      if (m.pair != w->pair) return true;
      found = true;
      if (!same(m.ulps, w->ulps) || !same(m.err, w->err)) {
        throw std::logic_error("report: re-measuring " + res.kernel + " at t=" + std::to_string(w->t) + " pair " +
                               std::to_string(w->pair) + " alone gives " + std::to_string(m.ulps) +
                               " ulp, the sweep gave " + std::to_string(w->ulps) + " (kernel not batch-invariant?)");
      }
      return false;
    };
    if (auto v = props::measure_agreement(cctx, c, visit)) {
      throw std::logic_error("report: re-measuring a worst case failed: " + v->reason);
    }
    if (!found) throw std::logic_error("report: re-measured worst case not visited");
  }
  res.spot_checks = checked.spot_checks();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace

SweepResult run_sweep(const rc_kernel_desc& kernel, const RopeSpec& spec, const std::string& spec_label,
                      const std::shared_ptr<const ref::FastOracle>& oracle, const SweepOptions& options) {
  try {
    return sweep(kernel, spec, spec_label, oracle, options);
  } catch (const props::KernelThrew& e) {  // e.g. while the recipe view infers theta-hat
    SweepResult res;
    res.kernel = kernel.name;
    res.spec_label = spec_label;
    res.spec = spec;
    res.skipped = std::string("kernel failed: crash: ") + e.what();
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
