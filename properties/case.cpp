#include "properties/case.hpp"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "reference/error_model.hpp"
#include "reference/json_document.hpp"

namespace ropecheck::props {

using json = nlohmann::ordered_json;

std::string hexfloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

namespace {

// The length of one token's values when every token holds the same ones (a many-token call:
// many_tokens_case), else 0.  case_to_json writes such x once, as "x_every_token".
size_t repeated_token_length(const Case& c) {
  const size_t per_token = static_cast<size_t>(c.n_heads * c.spec.head_dim);
  if (c.n_tokens() <= 16 || per_token == 0 || c.x.size() != per_token * static_cast<size_t>(c.n_tokens())) return 0;
  for (size_t i = per_token; i < c.x.size(); ++i) {
    if (std::memcmp(&c.x[i], &c.x[i % per_token], sizeof(double)) != 0) return 0;
  }
  return per_token;
}

// The inverse: x holds one token's values; repeats them for n_tokens tokens.
void repeat_token_values(std::vector<double>& x, size_t n_tokens) {
  const size_t per_token = x.size();
  x.resize(per_token * n_tokens);
  for (size_t i = per_token; i < x.size(); ++i) x[i] = x[i - per_token];
}

}  // namespace

std::string case_to_json(const Case& c, int indent) {
  json j;
  j["spec"] = json::parse(spec_to_json_text(c.spec));
  json pos = json::array();
  for (int64_t t : c.positions) pos.push_back(std::to_string(t));  // "-5" for a negative one
  j["positions"] = pos;
  if (!c.axis_positions.empty()) {
    json axes = json::array();
    for (const std::vector<int64_t>& row : c.axis_positions) {
      json r = json::array();
      for (int64_t t : row) r.push_back(std::to_string(t));
      axes.push_back(r);
    }
    j["axis_positions"] = axes;  // axes 1 .. n_axes-1 (positions is axis 0)
  }
  j["n_heads"] = c.n_heads;
  if (c.n_kv_heads > 0) {
    j["n_kv_heads"] = c.n_kv_heads;
    j["separate_kv"] = c.separate_kv;
  }
  if (c.position_dtype != 0) j["position_dtype"] = c.position_dtype == RC_DTYPE_I32 ? "int32" : "int64";
  j["head_pad"] = c.head_pad;
  j["token_pad"] = c.token_pad;
  j["shift"] = std::to_string(c.shift);
  j["scale_exponent"] = c.scale_exponent;
  j["poison"] = c.poison;
  if (c.inverse) j["inverse"] = true;
  if (c.rotary_offset != 0) j["rotary_offset"] = c.rotary_offset;
  if (c.n_threads != 0) j["n_threads"] = c.n_threads;
  if (c.seq_len != 0) j["seq_len_of_call"] = c.seq_len;  // an integer, as the spec's seq_len
  // Every token with the same values (a call of many tokens, many_tokens_case): written once,
  // as "x_every_token", so that such a case stays a file a person can open.
  const size_t every_token = repeated_token_length(c);
  json x = json::array();
  for (size_t i = 0; i < (every_token > 0 ? every_token : c.x.size()); ++i) x.push_back(hexfloat(c.x[i]));
  j[every_token > 0 ? "x_every_token" : "x"] = x;
  return j.dump(indent);
}

Case case_from_json(const std::string& text) {
  const json j = parse_json_document(text, "case", "case");
  auto need = [&](const char* k) -> const json& {
    if (!j.is_object() || !j.contains(k)) throw SpecError(std::string("case.") + k, "is required");
    return j.at(k);
  };
  Case c;
  c.spec = spec_from_json_text(need("spec").dump(), "case.spec");
  try {
    for (const json& p : need("positions")) c.positions.push_back(parse_signed_position(p.get<std::string>()));
    if (j.contains("axis_positions")) {
      for (const json& row : j.at("axis_positions")) {
        c.axis_positions.emplace_back();
        for (const json& p : row) c.axis_positions.back().push_back(parse_signed_position(p.get<std::string>()));
      }
    }
    auto integer = [&](const char* key) {
      const json& v = need(key);
      if (!v.is_number_integer()) throw SpecError(std::string("case.") + key, "must be an integer, got " + v.dump());
      return v.get<int64_t>();
    };
    c.n_heads = integer("n_heads");
    if (j.contains("n_kv_heads")) c.n_kv_heads = integer("n_kv_heads");
    if (j.contains("separate_kv")) {
      if (!j["separate_kv"].is_boolean()) throw SpecError("case.separate_kv", "must be true or false");
      c.separate_kv = j["separate_kv"].get<bool>();
    }
    if (j.contains("position_dtype")) {
      const json& pd = j["position_dtype"];
      if (pd == "int32") {
        c.position_dtype = RC_DTYPE_I32;
      } else if (pd == "int64") {
        c.position_dtype = RC_DTYPE_I64;
      } else {
        throw SpecError("case.position_dtype", "must be \"int32\" or \"int64\", got " + pd.dump());
      }
    }
    c.head_pad = integer("head_pad");
    c.token_pad = integer("token_pad");
    c.shift = parse_position(need("shift").get<std::string>());
    // Read wide and range-checked: get<int>() wraps 2^40 to 0 silently.
    const json& k = need("scale_exponent");
    if (!k.is_number_integer() || k.get<int64_t>() < kMinScaleExponent || k.get<int64_t>() > kMaxScaleExponent) {
      throw SpecError("case.scale_exponent", "must be an integer in [" + std::to_string(kMinScaleExponent) + ", " +
                                                 std::to_string(kMaxScaleExponent) + "] (2^k a finite, non-zero double), got " +
                                                 k.dump());
    }
    c.scale_exponent = static_cast<int>(k.get<int64_t>());
    c.poison = integer("poison");
    if (j.contains("inverse")) {
      if (!j["inverse"].is_boolean()) throw SpecError("case.inverse", "must be true or false");
      c.inverse = j["inverse"].get<bool>();
    }
    auto optional_int = [&](const char* key, int64_t lo, int64_t hi) -> int32_t {
      if (!j.contains(key)) return 0;
      const json& v = j.at(key);
      if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
        throw SpecError(std::string("case.") + key, "must be an integer in [" + std::to_string(lo) + ", " +
                                                        std::to_string(hi) + "], got " + v.dump());
      }
      return static_cast<int32_t>(v.get<int64_t>());
    };
    c.rotary_offset = optional_int("rotary_offset", 0, 65536);
    c.n_threads = optional_int("n_threads", 0, 1024);
    if (j.contains("seq_len_of_call")) {
      c.seq_len = integer("seq_len_of_call");
      if (c.seq_len < 0) throw SpecError("case.seq_len_of_call", "must be >= 0, got " + std::to_string(c.seq_len));
    }
    const bool every_token = j.is_object() && j.contains("x_every_token") && !j.contains("x");
    for (const json& v : need(every_token ? "x_every_token" : "x")) {
      const std::string s = v.get<std::string>();
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (end == s.c_str() || *end != '\0') throw SpecError("case.x", "bad number \"" + s + "\"");
      c.x.push_back(d);
    }
    if (every_token) {  // the same values for every token (see case_to_json)
      const size_t per_token = c.x.size();
      if (per_token == 0 || c.positions.size() > (size_t{1} << 24)) {
        throw SpecError("case.x_every_token", "must be one token's values, for at most 2^24 tokens");
      }
      repeat_token_values(c.x, c.positions.size());
    }
  } catch (const json::exception& e) {
    throw SpecError("case", std::string("wrong type: ") + e.what());
  }
  if (c.positions.empty()) throw SpecError("case.positions", "must not be empty");
  if (!c.axis_positions.empty()) {
    if (c.axis_positions.size() + 1 != static_cast<size_t>(c.spec.n_axes())) {
      throw SpecError("case.axis_positions", "must hold the axes after the first (" + std::to_string(c.spec.n_axes() - 1) +
                                                 " rows for the spec's " + std::to_string(c.spec.n_axes()) + " axes), got " +
                                                 std::to_string(c.axis_positions.size()));
    }
    for (const std::vector<int64_t>& row : c.axis_positions) {
      if (row.size() != c.positions.size()) {
        throw SpecError("case.axis_positions", "every row must have one position per token (" + std::to_string(c.positions.size()) +
                                                   "), got " + std::to_string(row.size()));
      }
    }
  }
  if (c.n_heads < 1 || c.n_heads > 4096) throw SpecError("case.n_heads", "must be in [1, 4096]");
  if (c.n_kv_heads < 0 || c.n_kv_heads >= c.n_heads || (c.n_kv_heads > 0 && c.n_q_heads() % c.n_kv_heads != 0)) {
    throw SpecError("case.n_kv_heads", "must be 0 (q only) or divide the q heads (n_heads - n_kv_heads)");
  }
  if (c.head_pad < 0 || c.token_pad < 0 || c.head_pad > 4096 || c.token_pad > 4096) {
    throw SpecError("case.head_pad", "paddings must be in [0, 4096]");
  }
  if (int64_t{c.rotary_offset} + c.spec.rotary_dim > c.spec.head_dim) {
    throw SpecError("case.rotary_offset", "rotary_offset + rotary_dim (" + std::to_string(c.rotary_offset) + " + " +
                                               std::to_string(c.spec.rotary_dim) + ") must be at most head_dim (" +
                                               std::to_string(c.spec.head_dim) + ")");
  }
  const size_t want = static_cast<size_t>(c.n_tokens() * c.n_heads * c.spec.head_dim);
  if (c.x.size() != want) {
    throw SpecError("case.x", "must have tokens*heads*head_dim = " + std::to_string(want) +
                                  " values, got " + std::to_string(c.x.size()));
  }
  if (c.poison < 0 || static_cast<size_t>(c.poison) >= c.x.size()) {
    throw SpecError("case.poison", "must index x");
  }
  return c;
}

namespace {

constexpr char kNoteMagic[8] = {'r', 'c', 'n', 'o', 't', 'e', '1', '\0'};

class NoteWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  void put_array(const T* p, size_t n) {
    put(static_cast<uint64_t>(n));
    out_.append(reinterpret_cast<const char*>(p), n * sizeof(T));
  }
  void put_text(std::string_view s) { put_array(s.data(), s.size()); }
  template <class T>
  void field(const T& v) { put(v); }
  void field(bool b) { put(static_cast<uint8_t>(b)); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class NoteReader {
 public:
  explicit NoteReader(std::string_view in) : in_(in) {}
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  template <class T>
  std::vector<T> get_array() {
    const uint64_t n = get<uint64_t>();
    if (n > (in_.size() - at_) / sizeof(T)) throw SpecError("case note", "cut short");
    std::vector<T> v(static_cast<size_t>(n));
    if (n > 0) std::memcpy(v.data(), take(v.size() * sizeof(T)), v.size() * sizeof(T));
    return v;
  }
  std::string get_text() {
    const std::vector<char> v = get_array<char>();
    return std::string(v.begin(), v.end());
  }
  template <class T>
  void field(T& v) { v = get<T>(); }
  void field(bool& b) { b = get<uint8_t>() != 0; }
  bool at_end() const { return at_ == in_.size(); }

 private:
  const char* take(size_t n) {
    if (n > in_.size() - at_) throw SpecError("case note", "cut short");
    const char* p = in_.data() + at_;
    at_ += n;
    return p;
  }
  std::string_view in_;
  size_t at_ = 0;
};

// The call's scalar fields, in note order: one list, written and read (C: Case or const Case).
template <class IO, class C>
void note_fields(IO& io, C& c) {
  io.field(c.n_heads);
  io.field(c.n_kv_heads);
  io.field(c.separate_kv);
  io.field(c.position_dtype);
  io.field(c.head_pad);
  io.field(c.token_pad);
  io.field(c.shift);
  io.field(c.scale_exponent);
  io.field(c.poison);
  io.field(c.inverse);
  io.field(c.rotary_offset);
  io.field(c.n_threads);
  io.field(c.seq_len);
}

}  // namespace

std::string case_to_note(const Case& c) {
  NoteWriter w;
  w.put(kNoteMagic);
  w.put_text(spec_to_json_text(c.spec, -1));
  w.put_array(c.positions.data(), c.positions.size());
  w.put(static_cast<uint64_t>(c.axis_positions.size()));
  for (const std::vector<int64_t>& row : c.axis_positions) w.put_array(row.data(), row.size());
  note_fields(w, c);
  const size_t every_token = repeated_token_length(c);
  w.put(static_cast<uint64_t>(c.x.size()));
  w.put_array(c.x.data(), every_token > 0 ? every_token : c.x.size());
  return w.take();
}

Case case_from_note(std::string_view note) {
  NoteReader r(note);
  const auto magic = r.get<std::array<char, sizeof kNoteMagic>>();
  if (std::memcmp(magic.data(), kNoteMagic, sizeof kNoteMagic) != 0) throw SpecError("case note", "not a case note");
  Case c;
  c.spec = spec_from_json_text(r.get_text(), "case note: spec");
  c.positions = r.get_array<int64_t>();
  const uint64_t rows = r.get<uint64_t>();
  if (rows > 64) throw SpecError("case note", "too many axis rows");
  for (uint64_t a = 0; a < rows; ++a) c.axis_positions.push_back(r.get_array<int64_t>());
  note_fields(r, c);
  const uint64_t n_x = r.get<uint64_t>();
  c.x = r.get_array<double>();
  if (!r.at_end()) throw SpecError("case note", "bytes after the case");
  if (n_x != c.x.size()) {  // one token's values, the same for every token
    if (c.x.empty() || n_x % c.x.size() != 0 || n_x / c.x.size() != c.positions.size()) {
      throw SpecError("case note", "x is neither whole nor one token's values");
    }
    repeat_token_values(c.x, c.positions.size());
  }
  return c;
}

void showValue(const Case& c, std::ostream& os) { os << describe(c) << "\n" << case_to_json(c, -1); }

std::string describe(const RopeSpec& s) {
  std::ostringstream os;
  os << to_string(s.type) << "/" << to_string(s.layout) << " d=" << s.rotary_dim << "/" << s.head_dim
     << " base=" << s.base;
  if (s.type != RopeType::kDefault && s.type != RopeType::kNone) os << " s=" << s.factor;
  if (s.type == RopeType::kProportional) os << " rope_angles=" << s.rope_angles;
  // Multi-axis: which pairs belong to which axis ("mrope=16/24/24 chunked", "axes=16/56/56").
  const auto widths = [&os](const std::vector<int>& w) {
    for (size_t a = 0; a < w.size(); ++a) os << (a ? "/" : "") << w[a];
  };
  if (!s.mrope_section.empty()) {
    os << " mrope=";
    widths(s.mrope_section);
    os << (s.mrope_interleaved ? " interleaved" : " chunked");
  }
  if (!s.axes_dims.empty()) {
    os << " axes=";
    widths(s.axes_dims);
    if (s.axes_dealt) os << " dealt";
  }
  return os.str();
}

std::string conditioning_warning(const RopeSpec& spec, const std::vector<const rc_kernel_desc*>& kernels) {
  for (const rc_kernel_desc* k : kernels) {
    const std::string w = ref::yarn_range_warning(spec, k->accuracy.angle_dtype);
    if (!w.empty()) return "spec " + describe(spec) + ": " + w;
  }
  return "";
}

std::string implausible_contract(const rc_kernel_desc& kernel) {
  RopeSpec spec;  // the bound at t = 0 does not depend on the frequencies
  spec.head_dim = spec.rotary_dim = 64;
  const double r = 1.0, theta = 1.0, attention = 1.0;
  const double b = ref::pair_error_bound(kernel, spec, 0, 0, theta, r, attention).bound;
  if (b < kImplausibleContractError * r) return "";
  const rc_accuracy& a = kernel.accuracy;
  std::ostringstream os;
  os << "kernel " << kernel.name << ": its accuracy contract allows an error of " << b
     << " x |x| at position 0 (sincos_ulp " << a.sincos_ulp << ", reduced_angle_abs_error "
     << a.reduced_angle_abs_error << " rad, attention_rel_error " << a.attention_rel_error
     << "); from " << kImplausibleContractError
     << " x |x| up no check could tell a correct kernel from a wrong one. Declare the kernel's real "
        "accuracy (impl/ropecheck_kernel.h, rc_accuracy)";
  return os.str();
}

std::string reject_implausible(const std::vector<const rc_kernel_desc*>& kernels) {
  for (const rc_kernel_desc* k : kernels) {
    if (std::string why = implausible_contract(*k); !why.empty()) return why;
  }
  return "";
}

std::string describe(const Case& c) {
  std::ostringstream os;
  os << describe(c.spec) << " tokens=" << c.n_tokens() << " heads=" << c.n_heads;
  if (c.n_kv_heads > 0) os << " (q " << c.n_q_heads() << ", k " << c.n_kv_heads << (c.separate_kv ? ", separate" : ", packed") << ")";
  if (c.head_pad || c.token_pad) os << " pad=" << c.head_pad << "/" << c.token_pad;
  if (c.position_dtype != 0) os << (c.position_dtype == RC_DTYPE_I32 ? " int32" : " int64") << " positions";
  if (c.rotary_offset) os << " rotary_offset=" << c.rotary_offset;
  if (c.inverse) os << " inverse";
  if (c.n_threads) os << " threads=" << c.n_threads;
  if (c.seq_len) os << " seq_len_of_call=" << c.seq_len;
  // Positions per axis as `ropecheck ref` reads them, "t:h:w" (Qwen-VL's three axes; "h:w" for a
  // 2-D vision rope).
  const size_t axes = c.axis_positions.size() + 1;
  os << (axes == 1 ? " t=[" : axes == 2 ? " h:w=[" : axes == 3 ? " t:h:w=[" : " axes=[");
  for (size_t i = 0; i < c.positions.size(); ++i) {
    if (i == 6) {
      os << ", …";
      break;
    }
    os << (i ? ", " : "") << format_position(c.positions[i]);
    for (const std::vector<int64_t>& row : c.axis_positions) os << ":" << format_position(row[i]);
  }
  os << "]";
  return os.str();
}

std::vector<int64_t> Case::token_axes(size_t k) const {
  std::vector<int64_t> t(static_cast<size_t>(spec.n_axes()));
  for (int a = 0; a < spec.n_axes(); ++a) t[static_cast<size_t>(a)] = position(k, a);
  return t;
}

std::vector<int64_t> Case::all_positions() const {
  std::vector<int64_t> all(positions);
  for (const std::vector<int64_t>& row : axis_positions) all.insert(all.end(), row.begin(), row.end());
  return all;
}

void Case::shift_axes(int64_t d, uint32_t axis_mask) {
  const int n = spec.n_axes();
  const uint32_t every = n >= 32 ? ~0u : (1u << n) - 1;
  if ((axis_mask & every) != every && axis_positions.empty() && n > 1) {
    axis_positions.assign(static_cast<size_t>(n - 1), positions);
  }
  for (int a = 0; a < n; ++a) {
    if (!(axis_mask & (1u << a))) continue;
    std::vector<int64_t>& row = a == 0 ? positions : axis_positions.empty() ? positions : axis_positions[static_cast<size_t>(a - 1)];
    if (a > 0 && axis_positions.empty()) continue;  // text tokens: the one row is every axis
    for (int64_t& t : row) t += d;
  }
}

void Case::set_text_token(size_t k, int64_t t) {
  positions[k] = t;
  for (std::vector<int64_t>& row : axis_positions) row[k] = t;
}

void Case::reorder_positions(const std::vector<size_t>& order) {
  auto reorder = [&](std::vector<int64_t>& row) {
    std::vector<int64_t> out(order.size());
    for (size_t i = 0; i < order.size(); ++i) out[i] = row[order[i]];
    row = std::move(out);
  };
  reorder(positions);
  for (std::vector<int64_t>& row : axis_positions) reorder(row);
}

}  // namespace ropecheck::props
