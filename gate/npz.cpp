// The .npz codec (see npz.hpp).  ZIP: APPNOTE.TXT 6.3 (local file header, central directory,
// end of central directory, ZIP64 end records and extra field 0x0001).  NPY: numpy's
// format.py (magic "\x93NUMPY", version, little-endian header length, a Python dict literal
// with 'descr', 'fortran_order' and 'shape', space-padded so the data starts 64-aligned).
#include "gate/npz.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

namespace ropecheck::npz {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& rule) { throw NpzError(where, rule); }

uint16_t get16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t get64(const unsigned char* p) { return get32(p) | (static_cast<uint64_t>(get32(p + 4)) << 32); }
void put16(std::vector<unsigned char>& b, uint32_t v) {
  b.push_back(static_cast<unsigned char>(v));
  b.push_back(static_cast<unsigned char>(v >> 8));
}
void put32(std::vector<unsigned char>& b, uint32_t v) {
  put16(b, v & 0xFFFF);
  put16(b, v >> 16);
}
void put64(std::vector<unsigned char>& b, uint64_t v) {
  put32(b, static_cast<uint32_t>(v));
  put32(b, static_cast<uint32_t>(v >> 32));
}

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kEnd64LocatorSig = 0x07064b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kEnd64Size = 56, kEnd64LocatorSize = 20;
constexpr uint32_t kMax32 = 0xFFFFFFFFu;

struct DtypeName {
  Dtype dtype;
  const char* descr;
  size_t size;
};
constexpr DtypeName kDtypes[] = {{Dtype::kF64, "<f8", 8}, {Dtype::kF32, "<f4", 4}, {Dtype::kF16, "<f2", 2},
                                 {Dtype::kI64, "<i8", 8}, {Dtype::kI32, "<i4", 4}, {Dtype::kU64, "<u8", 8},
                                 {Dtype::kU16, "<u2", 2}, {Dtype::kU8, "|u1", 1}};

// A byte range of the archive, with the bounds checked on every read.
struct Reader {
  const unsigned char* p;
  size_t n;
  const std::string& file;
  const unsigned char* at(uint64_t off, uint64_t len, const std::string& what) const {
    if (off > n || len > n - off) fail(file, what + " lies beyond the end of the file (truncated?)");
    return p + off;
  }
};

}  // namespace

const char* descr(Dtype d) {
  for (const DtypeName& x : kDtypes) {
    if (x.dtype == d) return x.descr;
  }
  return "?";
}

size_t itemsize(Dtype d) {
  for (const DtypeName& x : kDtypes) {
    if (x.dtype == d) return x.size;
  }
  return 0;
}

int64_t Array::elements() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

uint32_t crc32(const unsigned char* bytes, size_t size) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes a uInt length
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    c = ::crc32(c, bytes, chunk);
    bytes += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(c);
}

std::vector<unsigned char> write_npy(const Array& a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "") + (i + 1 < a.shape.size() ? " " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + descr(a.dtype) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded with spaces to 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  put16(out, static_cast<uint32_t>(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

namespace {

// The Python literals of an NPY header: a dict of str keys to a str, a bool or a tuple of ints.
struct HeaderParser {
  const std::string& s;
  const std::string& where;
  size_t i = 0;
  void space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  }
  bool eat(char c) {
    space();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(where, std::string("the .npy header is not a dict literal (expected '") + c + "')");
  }
  std::string str() {
    space();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) fail(where, "the .npy header: expected a string");
    const char q = s[i++];
    const size_t end = s.find(q, i);
    if (end == std::string::npos) fail(where, "the .npy header: unterminated string");
    std::string v = s.substr(i, end - i);
    i = end + 1;
    return v;
  }
  std::string word() {
    space();
    size_t j = i;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    std::string w = s.substr(i, j - i);
    i = j;
    return w;
  }
  std::vector<int64_t> tuple() {
    expect('(');
    std::vector<int64_t> v;
    while (!eat(')')) {
      const std::string w = word();
      if (w.empty() || w.size() > 12 || w.find_first_not_of("0123456789") != std::string::npos) {
        fail(where, "the .npy header: shape must be a tuple of non-negative integers");
      }
      v.push_back(std::stoll(w));
      if (v.size() > 8) fail(where, "the .npy header: more than 8 dimensions");
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return v;
  }
};

}  // namespace

Array read_npy(const unsigned char* p, size_t n, const std::string& where) {
  static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (n < 10 || std::memcmp(p, kMagic, 6) != 0) fail(where, "not a .npy array (no \\x93NUMPY magic)");
  const int major = p[6];
  size_t hlen = 0, start = 0;
  if (major == 1) {
    hlen = get16(p + 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) fail(where, "truncated .npy header");
    hlen = get32(p + 8);
    start = 12;
  } else {
    fail(where, "unknown .npy format version " + std::to_string(major));
  }
  if (hlen > n - start) fail(where, "the .npy header is longer than the member (truncated?)");
  const std::string header(reinterpret_cast<const char*>(p + start), hlen);
  HeaderParser h{header, where};
  std::string d;
  bool fortran = false, have_descr = false, have_fortran = false, have_shape = false;
  std::vector<int64_t> shape;
  h.expect('{');
  while (!h.eat('}')) {
    const std::string key = h.str();
    h.expect(':');
    if (key == "descr") {
      d = h.str();
      have_descr = true;
    } else if (key == "fortran_order") {
      const std::string w = h.word();
      if (w != "True" && w != "False") fail(where, "the .npy header: fortran_order must be True or False");
      fortran = w == "True";
      have_fortran = true;
    } else if (key == "shape") {
      shape = h.tuple();
      have_shape = true;
    } else {
      fail(where, "the .npy header has an unknown key '" + key + "'");
    }
    if (!h.eat(',')) {
      h.expect('}');
      break;
    }
  }
  if (!have_descr || !have_fortran || !have_shape) fail(where, "the .npy header lacks descr, fortran_order or shape");
  Array a;
  bool known = false;
  for (const DtypeName& x : kDtypes) {
    // numpy writes '|u1' for uint8 and may write '<u1'; bytes have no byte order.
    if (d == x.descr || (x.dtype == Dtype::kU8 && d == "<u1")) {
      a.dtype = x.dtype;
      known = true;
    }
  }
  if (!known) fail(where, "dtype '" + d + "' is not one golden vectors use (little-endian f8, f4, f2, i8, i4, u8, u2, u1)");
  if (fortran && shape.size() > 1) fail(where, "Fortran-order arrays are not read: save with numpy.ascontiguousarray");
  a.shape = shape;
  uint64_t count = 1;
  for (int64_t s : shape) {
    if (s != 0 && count > kMaxMemberBytes / static_cast<uint64_t>(s)) fail(where, "the shape is too large");
    count *= static_cast<uint64_t>(s);
  }
  const uint64_t bytes = count * itemsize(a.dtype);
  if (bytes != n - start - hlen) {
    fail(where, "the data holds " + std::to_string(n - start - hlen) + " bytes, the header's shape and dtype say " +
                    std::to_string(bytes) + " (truncated or tampered)");
  }
  a.data.assign(p + start + hlen, p + n);
  return a;
}

namespace {

// Raw deflate (ZIP method 8) of `in`.
std::vector<unsigned char> deflate_member(const std::vector<unsigned char>& in) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib deflateInit2 failed");
  std::vector<unsigned char> out(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = const_cast<unsigned char*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib deflate failed");
  return out;
}

}  // namespace

std::vector<unsigned char> write_npz(const std::vector<Array>& arrays, bool deflate) {
  std::vector<unsigned char> out, central;
  for (const Array& a : arrays) {
    const std::vector<unsigned char> raw = write_npy(a);
    const std::string name = a.name + ".npy";
    const uint32_t crc = crc32(raw.data(), raw.size());
    // Deflated only below 1 GiB (one zlib call) and where it pays.
    const bool deflated = deflate && raw.size() > (64u << 10) && raw.size() < (1u << 30);
    const std::vector<unsigned char> body = deflated ? deflate_member(raw) : raw;
    const uint16_t method = deflated ? 8 : 0;
    const uint64_t offset = out.size();
    const bool zip64 = raw.size() >= kMax32 || offset >= kMax32;
    // Local header (ZIP64 extra with both sizes when needed).
    put32(out, kLocalSig);
    put16(out, zip64 ? 45 : 20);
    put16(out, 0);  // flags
    put16(out, method);
    put16(out, 0);  // time
    put16(out, 0x21);  // date 1980-01-01
    put32(out, crc);
    put32(out, zip64 ? kMax32 : static_cast<uint32_t>(body.size()));
    put32(out, zip64 ? kMax32 : static_cast<uint32_t>(raw.size()));
    put16(out, static_cast<uint32_t>(name.size()));
    put16(out, zip64 ? 20 : 0);
    out.insert(out.end(), name.begin(), name.end());
    if (zip64) {
      put16(out, 1);
      put16(out, 16);
      put64(out, raw.size());
      put64(out, body.size());
    }
    out.insert(out.end(), body.begin(), body.end());
    // Central directory entry.
    put32(central, kCentralSig);
    put16(central, zip64 ? 45 : 20);
    put16(central, zip64 ? 45 : 20);
    put16(central, 0);
    put16(central, method);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, zip64 ? kMax32 : static_cast<uint32_t>(body.size()));
    put32(central, zip64 ? kMax32 : static_cast<uint32_t>(raw.size()));
    put16(central, static_cast<uint32_t>(name.size()));
    put16(central, zip64 ? 28 : 0);
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, zip64 ? kMax32 : static_cast<uint32_t>(offset));
    central.insert(central.end(), name.begin(), name.end());
    if (zip64) {
      put16(central, 1);
      put16(central, 24);
      put64(central, raw.size());
      put64(central, body.size());
      put64(central, offset);
    }
  }
  const uint64_t cd_offset = out.size();
  out.insert(out.end(), central.begin(), central.end());
  if (cd_offset >= kMax32 || central.size() >= kMax32) {
    const uint64_t end64 = out.size();
    put32(out, kEnd64Sig);
    put64(out, kEnd64Size - 12);
    put16(out, 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, arrays.size());
    put64(out, arrays.size());
    put64(out, central.size());
    put64(out, cd_offset);
    put32(out, kEnd64LocatorSig);
    put32(out, 0);
    put64(out, end64);
    put32(out, 1);
  }
  put32(out, kEndSig);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(arrays.size()));
  put16(out, static_cast<uint32_t>(arrays.size()));
  put32(out, central.size() >= kMax32 ? kMax32 : static_cast<uint32_t>(central.size()));
  put32(out, cd_offset >= kMax32 ? kMax32 : static_cast<uint32_t>(cd_offset));
  put16(out, 0);
  return out;
}

namespace {

// Inflates a raw deflate stream (ZIP method 8) that must give exactly `size` bytes: one spare
// byte of room shows a stream that gives more.
std::vector<unsigned char> inflate_member(const unsigned char* in, uint64_t in_size, uint64_t size,
                                          const std::string& where) {
  std::vector<unsigned char> out(static_cast<size_t>(size) + 1);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail(where, "zlib could not start inflating");
  z.next_in = const_cast<unsigned char*>(in);
  z.next_out = out.data();
  uint64_t in_left = in_size, out_left = out.size();
  int rc = Z_OK;
  for (;;) {
    const uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
    const uInt out_chunk = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
    z.avail_in = in_chunk;
    z.avail_out = out_chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    in_left -= in_chunk - z.avail_in;
    out_left -= out_chunk - z.avail_out;
    if (rc != Z_OK) break;
    if (z.avail_in == in_chunk && z.avail_out == out_chunk) break;  // no progress: truncated
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out_left != 1) {
    fail(where, "the deflated data is corrupt or its size differs from the directory's (truncated or tampered)");
  }
  out.pop_back();
  return out;
}

}  // namespace

std::vector<Array> read_npz(const unsigned char* bytes, size_t size, const std::string& file) {
  const Reader r{bytes, size, file};
  if (size < kEndSize) fail(file, "not a .npz (ZIP) archive: too short");
  // The end-of-central-directory record: the last signature within the last 64 KiB + 22 bytes
  // (a comment may follow it).
  size_t end = std::string::npos;
  for (size_t i = size - kEndSize + 1; i-- > 0 && size - i <= kEndSize + 0xFFFF;) {
    if (get32(bytes + i) == kEndSig) {
      end = i;
      break;
    }
  }
  if (end == std::string::npos) fail(file, "not a .npz (ZIP) archive: no end-of-central-directory record (truncated?)");
  uint64_t entries = get16(bytes + end + 10);
  uint64_t cd_size = get32(bytes + end + 12);
  uint64_t cd_offset = get32(bytes + end + 16);
  if (entries == 0xFFFF || cd_size == kMax32 || cd_offset == kMax32) {
    // ZIP64: the locator sits right before the end record.
    if (end < kEnd64LocatorSize) fail(file, "ZIP64 end locator missing");
    const unsigned char* loc = bytes + end - kEnd64LocatorSize;
    if (get32(loc) != kEnd64LocatorSig) fail(file, "ZIP64 end locator missing");
    const unsigned char* e64 = r.at(get64(loc + 8), kEnd64Size, "the ZIP64 end record");
    if (get32(e64) != kEnd64Sig) fail(file, "ZIP64 end record has a bad signature");
    entries = get64(e64 + 32);
    cd_size = get64(e64 + 40);
    cd_offset = get64(e64 + 48);
  }
  if (entries > kMaxMembers) fail(file, "more than " + std::to_string(kMaxMembers) + " members");
  const unsigned char* cd = r.at(cd_offset, cd_size, "the central directory");
  std::vector<Array> arrays;
  size_t pos = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (cd_size - pos < kCentralSize || get32(cd + pos) != kCentralSig) fail(file, "the central directory is corrupt");
    const unsigned char* h = cd + pos;
    const uint16_t flags = get16(h + 8), method = get16(h + 10);
    const uint32_t crc = get32(h + 16);
    uint64_t csize = get32(h + 20), usize = get32(h + 24);
    const size_t name_len = get16(h + 28), extra_len = get16(h + 30), comment_len = get16(h + 32);
    uint64_t offset = get32(h + 42);
    if (cd_size - pos - kCentralSize < name_len + extra_len + comment_len) fail(file, "the central directory is corrupt");
    const std::string name(reinterpret_cast<const char*>(h + kCentralSize), name_len);
    const std::string where = file + ":" + name;
    // ZIP64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in this order.
    const unsigned char* x = h + kCentralSize + name_len;
    for (size_t k = 0; k + 4 <= extra_len;) {
      const uint16_t id = get16(x + k), len = get16(x + k + 2);
      if (k + 4 + len > extra_len) fail(where, "a ZIP extra field runs past its entry");
      if (id == 1) {
        size_t f = k + 4;
        auto next = [&](uint64_t& v) {
          if (v != kMax32) return;
          if (f + 8 > k + 4 + len) fail(where, "the ZIP64 extra field is too short");
          v = get64(x + f);
          f += 8;
        };
        next(usize);
        next(csize);
        next(offset);
      }
      k += 4 + len;
    }
    pos += kCentralSize + name_len + extra_len + comment_len;
    if (flags & 1) fail(where, "the member is encrypted");
    if (method != 0 && method != 8) fail(where, "compression method " + std::to_string(method) + " (only stored and deflated members are read)");
    if (usize > kMaxMemberBytes) fail(where, "the member is larger than 4 GiB");
    if (method == 0 && csize != usize) fail(where, "a stored member whose sizes differ (tampered)");
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) fail(where, "a member that is not a .npy array");
    const unsigned char* lh = r.at(offset, kLocalSize, "the local header of " + name);
    if (get32(lh) != kLocalSig) fail(where, "the local header has a bad signature (tampered?)");
    const size_t lname = get16(lh + 26), lextra = get16(lh + 28);
    const std::string local_name(reinterpret_cast<const char*>(r.at(offset + kLocalSize, lname, "the local header of " + name)), lname);
    if (local_name != name) fail(where, "the local header names '" + local_name + "' (tampered?)");
    const unsigned char* data = r.at(offset + kLocalSize + lname + lextra, csize, "the data of " + name);
    std::vector<unsigned char> body;
    if (method == 0) {
      body.assign(data, data + csize);
    } else {
      // A deflate stream expands at most ~1032:1: a larger claim is a bomb or a lie.
      if (usize / 1032 > csize + 1) fail(where, "the declared size is impossible for its compressed size (a ZIP bomb?)");
      body = inflate_member(data, csize, usize, where);
    }
    if (crc32(body.data(), body.size()) != crc) fail(where, "CRC-32 mismatch: the member is corrupt or was tampered with");
    Array a = read_npy(body.data(), body.size(), where);
    a.name = name.substr(0, name.size() - 4);
    for (const Array& b : arrays) {
      if (b.name == a.name) fail(where, "the member appears twice");
    }
    arrays.push_back(std::move(a));
  }
  return arrays;
}

}  // namespace ropecheck::npz
