// ember::save / ember::load (ember/Serialization.h): safetensors files as Python's
// ember.serialization writes them: u64 little-endian header length, a compact JSON header
// padded with spaces to a multiple of 8, then the tensors' raw little-endian bytes in header
// order. A small JSON reader for the header lives here (the frontend links no JSON library).
#include "ember/Serialization.h"

#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <utility>
#include <vector>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "ember's safetensors I/O copies raw bytes: little-endian hosts only");

namespace ember {
namespace {

constexpr uint64_t kMaxHeader = 100ull * 1024 * 1024; // as in serialization.py
constexpr int kMaxDepth = 64;

struct DTypeName {
  const char* st;
  DType dtype;
};
constexpr DTypeName kDTypes[] = {
    {"F64", DType::Float64}, {"F32", DType::Float32}, {"F16", DType::Float16},
    {"BF16", DType::BFloat16}, {"I64", DType::Int64}, {"I32", DType::Int32},
    {"I16", DType::Int16}, {"I8", DType::Int8}, {"U8", DType::UInt8}, {"BOOL", DType::Bool}};

const char* st_name(DType d) {
  for (const DTypeName& n : kDTypes)
    if (n.dtype == d) return n.st;
  fail(ErrorKind::Type, "ember::save", "no safetensors dtype for ", dtype_name(d));
}

// A parsed JSON value (objects keep the file's key order).
struct Json {
  enum Kind { Null, Bool, Int, Float, String, Array, Object } kind = Null;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;
};

class JsonParser {
public:
  JsonParser(const char* begin, const char* end, const std::string& file)
      : start_(begin), p_(begin), end_(end), file_(file) {}

  Json document() {
    Json v = value(0);
    ws();
    if (p_ != end_) bad("trailing characters after the JSON value");
    return v;
  }

private:
  [[noreturn]] void bad(const std::string& what) {
    fail(ErrorKind::Value, "ember::load", file_, ": header is not valid JSON (", what,
         " at byte ", 8 + (p_ - start_), ")");
  }
  void advance(size_t n = 1) { p_ += n; }
  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) advance();
  }
  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if (size_t(end_ - p_) < n || std::strncmp(p_, word, n) != 0) return false;
    advance(n);
    return true;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) bad("nested too deeply");
    ws();
    if (p_ == end_) bad("unexpected end");
    Json v;
    const char c = *p_;
    if (c == '{') {
      v.kind = Json::Object;
      advance();
      ws();
      if (p_ != end_ && *p_ == '}') {
        advance();
        return v;
      }
      for (;;) {
        ws();
        if (p_ == end_ || *p_ != '"') bad("expected a string key");
        std::string key = string();
        for (const auto& kv : v.obj)
          if (kv.first == key) bad("duplicate key \"" + key + "\"");
        ws();
        if (p_ == end_ || *p_ != ':') bad("expected ':'");
        advance();
        v.obj.emplace_back(std::move(key), value(depth + 1));
        ws();
        if (p_ != end_ && *p_ == ',') {
          advance();
          continue;
        }
        if (p_ != end_ && *p_ == '}') {
          advance();
          return v;
        }
        bad("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Json::Array;
      advance();
      ws();
      if (p_ != end_ && *p_ == ']') {
        advance();
        return v;
      }
      for (;;) {
        v.arr.push_back(value(depth + 1));
        ws();
        if (p_ != end_ && *p_ == ',') {
          advance();
          continue;
        }
        if (p_ != end_ && *p_ == ']') {
          advance();
          return v;
        }
        bad("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Json::String;
      v.s = string();
      return v;
    }
    if (literal("true")) {
      v.kind = Json::Bool;
      v.b = true;
      return v;
    }
    if (literal("false")) {
      v.kind = Json::Bool;
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    bad(std::string("unexpected character '") + c + "'");
  }

  Json number() {
    const char* start = p_;
    bool integral = true;
    if (*p_ == '-') advance();
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) bad("bad number");
    while (p_ != end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                          *p_ == '+' || *p_ == '-')) {
      if (*p_ == '.' || *p_ == 'e' || *p_ == 'E') integral = false;
      advance();
    }
    const std::string text(start, p_);
    Json v;
    errno = 0;
    char* stop = nullptr;
    if (integral) {
      v.kind = Json::Int;
      v.i = std::strtoll(text.c_str(), &stop, 10);
    } else {
      v.kind = Json::Float;
      v.f = std::strtod(text.c_str(), &stop);
    }
    if (errno == ERANGE || stop != text.c_str() + text.size()) bad("bad number " + text);
    return v;
  }

  void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  uint32_t hex4() {
    if (end_ - p_ < 4) bad("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = *p_;
      advance();
      v <<= 4;
      if (h >= '0' && h <= '9') v |= uint32_t(h - '0');
      else if (h >= 'a' && h <= 'f') v |= uint32_t(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= uint32_t(h - 'A' + 10);
      else bad("bad \\u escape");
    }
    return v;
  }

  std::string string() {
    advance(); // the opening quote
    std::string out;
    for (;;) {
      if (p_ == end_) bad("unterminated string");
      const char c = *p_;
      advance();
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) bad("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ == end_) bad("unterminated escape");
      const char e = *p_;
      advance();
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00 && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
          advance(2);
          const uint32_t lo = hex4();
          if (lo < 0xDC00 || lo >= 0xE000) bad("bad surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        utf8(out, cp);
        break;
      }
      default: bad(std::string("bad escape \\") + e);
      }
    }
  }

  const char* start_;
  const char* p_;
  const char* end_;
  const std::string& file_;
};

void quote(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

[[noreturn]] void io_fail(const std::string& path, const std::string& what) {
  fail(ErrorKind::Runtime, "ember::save", "cannot write '", path, "': ", what, ": ",
       std::strerror(errno));
}

struct Parsed {
  StateDict tensors;
  std::map<std::string, std::string> metadata;
};

Parsed parse(const std::string& path) {
  const char* op = "ember::load";
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), Value, op, "cannot open '", path, "': ", std::strerror(errno));
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const uint64_t n = data.size();
  EMBER_CHECK(n >= 8, Value, op, path, ": file is truncated (", n, " bytes; a safetensors file "
              "starts with an 8-byte header length)");
  uint64_t hlen = 0;
  std::memcpy(&hlen, data.data(), 8);
  EMBER_CHECK(hlen <= kMaxHeader, Value, op, path, ": header length ", hlen,
              " is larger than the limit of ", kMaxHeader,
              " bytes (corrupt or not a safetensors file)");
  EMBER_CHECK(8 + hlen <= n, Value, op, path, ": header length ", hlen,
              " runs past the end of the file (", n, " bytes); the file is truncated or corrupt");
  Json header = JsonParser(data.data() + 8, data.data() + 8 + hlen, path).document();
  EMBER_CHECK(header.kind == Json::Object, Value, op, path, ": header is not a JSON object");
  const char* body = data.data() + 8 + hlen;
  const uint64_t body_size = n - 8 - hlen;
  Parsed out;
  for (const auto& [key, info] : header.obj) {
    if (key == "__metadata__") {
      EMBER_CHECK(info.kind == Json::Object || info.kind == Json::Null, Value, op, path,
                  ": __metadata__ must map strings to strings");
      for (const auto& [mk, mv] : info.obj) {
        EMBER_CHECK(mv.kind == Json::String, Value, op, path,
                    ": __metadata__ must map strings to strings");
        out.metadata[mk] = mv.s;
      }
      continue;
    }
    EMBER_CHECK(info.kind == Json::Object, Value, op, path, ": entry '", key,
                "' is not an object");
    const Json *dt = nullptr, *shape = nullptr, *offs = nullptr;
    for (const auto& [k, v] : info.obj) {
      if (k == "dtype") dt = &v;
      else if (k == "shape") shape = &v;
      else if (k == "data_offsets") offs = &v;
    }
    const DTypeName* type = nullptr;
    if (dt && dt->kind == Json::String)
      for (const DTypeName& d : kDTypes)
        if (dt->s == d.st) type = &d;
    EMBER_CHECK(type != nullptr, Value, op, path, ": tensor '", key, "' has unknown dtype ",
                dt && dt->kind == Json::String ? "'" + dt->s + "'" : std::string("(none)"),
                " (known: BF16, BOOL, F16, F32, F64, I16, I32, I64, I8, U8)");
    bool shape_ok = shape && shape->kind == Json::Array;
    Shape dims;
    unsigned __int128 numel = 1;
    if (shape_ok)
      for (const Json& s : shape->arr) {
        if (s.kind != Json::Int || s.i < 0) {
          shape_ok = false;
          break;
        }
        dims.push_back(s.i);
        numel *= uint64_t(s.i);
        if (numel > (unsigned __int128)(1) << 80) numel = (unsigned __int128)(1) << 80;
      }
    EMBER_CHECK(shape_ok, Value, op, path, ": tensor '", key, "' has a bad shape");
    EMBER_CHECK(offs && offs->kind == Json::Array && offs->arr.size() == 2 &&
                    offs->arr[0].kind == Json::Int && offs->arr[1].kind == Json::Int,
                Value, op, path, ": tensor '", key, "' has bad data_offsets");
    const int64_t begin = offs->arr[0].i, end = offs->arr[1].i;
    EMBER_CHECK(0 <= begin && begin <= end && uint64_t(end) <= body_size, Value, op, path,
                ": tensor '", key, "' has data_offsets [", begin, ", ", end,
                "] outside the data section (", body_size, " bytes)");
    const unsigned __int128 bytes = numel * itemsize(type->dtype);
    EMBER_CHECK(bytes == (unsigned __int128)(end - begin), Value, op, path, ": tensor '", key,
                "' of shape ", shape_str(dims), " and dtype ", type->st, " needs ",
                uint64_t(bytes), " bytes but its data_offsets span ", end - begin);
    Tensor t = empty(dims, type->dtype);
    if (end > begin) std::memcpy(t.raw_data(), body + begin, size_t(end - begin));
    if (type->dtype == DType::Bool) { // any nonzero byte is true, as numpy reads it
      auto* b = static_cast<uint8_t*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) b[i] = b[i] != 0;
    }
    out.tensors.insert(key, t);
  }
  return out;
}

} // namespace

void save(const StateDict& state, const std::string& path,
          const std::map<std::string, std::string>& metadata) {
  const char* op = "ember::save";
  std::vector<Tensor> dense;
  std::string h = "{";
  uint64_t offset = 0;
  for (const auto& [key, t] : state) {
    EMBER_CHECK(t.defined(), Value, op, "entry '", key, "' is an undefined tensor");
    EMBER_CHECK(!t.is_symbolic(), Value, op, "entry '", key, "' is a traced tensor (no data)");
    EMBER_CHECK(key != "__metadata__", Value, op, "'__metadata__' is reserved by safetensors; "
                "rename that entry");
    Tensor c = t.to(Device()).contiguous();
    const uint64_t bytes = uint64_t(c.numel()) * itemsize(c.dtype());
    if (h.size() > 1) h += ',';
    quote(h, key);
    h += ":{\"dtype\":\"";
    h += st_name(c.dtype());
    h += "\",\"shape\":[";
    for (size_t d = 0; d < c.shape().size(); ++d)
      h += (d ? "," : "") + std::to_string(c.shape()[d]);
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) +
         "]}";
    offset += bytes;
    dense.push_back(c);
  }
  if (!metadata.empty()) {
    if (h.size() > 1) h += ',';
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) h += ',';
      first = false;
      quote(h, k);
      h += ':';
      quote(h, v);
    }
    h += '}';
  }
  h += '}';
  while (h.size() % 8) h += ' '; // the data starts 8-byte aligned, as in serialization.py

  std::string tmpl = path + ".XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) io_fail(path, "cannot create a temporary file beside it");
  const std::string tmp(name.data());
  auto write_all = [&](const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t w = ::write(fd, p, size);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      size -= size_t(w);
    }
    return true;
  };
  const uint64_t hlen = h.size();
  bool ok = write_all(&hlen, 8) && write_all(h.data(), h.size());
  for (const Tensor& c : dense)
    if (ok && c.numel() > 0) ok = write_all(c.raw_data(), size_t(c.numel()) * itemsize(c.dtype()));
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return;
  errno = ok ? errno : saved_errno;
  const int e = errno;
  ::unlink(tmp.c_str());
  errno = e;
  io_fail(path, ok ? "rename failed" : "write failed");
}

StateDict load(const std::string& path) { return parse(path).tensors; }

std::map<std::string, std::string> load_metadata(const std::string& path) {
  return parse(path).metadata;
}

void save(const nn::Module& module, const std::string& path) { save(module.state_dict(), path); }

void load(nn::Module& module, const std::string& path, bool strict) {
  module.load_state_dict(load(path), strict);
}

} // namespace ember
