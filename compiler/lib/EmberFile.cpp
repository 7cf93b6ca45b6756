// The .ember container: writing, reading and validating it; binding and specialising symbolic
// dims. Layout in EmberFile.h and docs/architecture.md.
#include "ember/compiler/EmberFile.h"

#include "ember/runtime/Error.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace ember::compiler {

const char* const kEmberVersion = "0.1.0";

namespace {

constexpr char kMagic[8] = {'\x89', 'E', 'M', 'B', 'E', 'R', '\r', '\n'};
constexpr uint32_t kMaxSections = 16;
constexpr uint64_t kAlign = 64;

uint64_t fnv1a(const char* p, uint64_t n) {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
  return h;
}

void putLE(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += char((v >> (8 * i)) & 0xff);
}

uint64_t getLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string jsonText(const llvm::json::Value& v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v;
  return s;
}

llvm::json::Value affineJson(const AffineInt& a) {
  if (a.isStatic()) return a.base;
  if (a.base == 0 && a.coeffs.size() == 1 && a.coeffs[0].second == 1) return a.coeffs[0].first;
  llvm::json::Object coeffs;
  for (const auto& [s, c] : a.coeffs) coeffs[s] = c;
  return llvm::json::Object{{"base", a.base}, {"coeffs", std::move(coeffs)}};
}

llvm::json::Value specJson(const TensorSpec& t) {
  llvm::json::Array shape;
  for (const AffineInt& d : t.shape) shape.push_back(affineJson(d));
  return llvm::json::Object{{"name", t.name}, {"dtype", t.dtype}, {"shape", std::move(shape)}};
}

// Names become C string literals and CLI arguments: the exporter allows only these characters.
bool plainName(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

// The deepest nesting of JSON arrays/objects in `text` (the parser recurses; bound it first).
int jsonDepth(llvm::StringRef text) {
  int depth = 0, deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') ++i;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// Reading: every field is checked; `where` names the file.
struct Reader {
  std::string where, context;
  [[noreturn]] void bad(const std::string& what) const {
    fail(ErrorKind::Value, context, "'", where, "' is corrupt: ", what,
         "; re-export the model with ember.export");
  }
  const llvm::json::Object& object(const llvm::json::Value* v, const std::string& what) const {
    if (!v || !v->getAsObject()) bad(what + " is missing or not a JSON object");
    return *v->getAsObject();
  }
  const llvm::json::Array& array(const llvm::json::Value* v, const std::string& what) const {
    if (!v || !v->getAsArray()) bad(what + " is missing or not a JSON array");
    return *v->getAsArray();
  }
  std::string string(const llvm::json::Value* v, const std::string& what) const {
    if (!v || !v->getAsString()) bad(what + " is missing or not a JSON string");
    return v->getAsString()->str();
  }
  int64_t integer(const llvm::json::Value* v, const std::string& what) const {
    if (!v || !v->getAsInteger()) bad(what + " is missing or not an integer");
    return *v->getAsInteger();
  }
  AffineInt affine(const llvm::json::Value& v, const std::set<std::string>& symbols,
                   const std::string& what, bool inputDim) const {
    AffineInt a;
    if (auto i = v.getAsInteger()) {
      if (*i < 0) bad(what + " is negative");
      a.base = *i;
    } else if (auto s = v.getAsString()) {
      if (!symbols.count(s->str())) bad(what + " names '" + s->str() + "', which is not a declared symbol");
      a.coeffs.push_back({s->str(), 1});
    } else if (!inputDim && v.getAsObject()) {
      const auto& o = *v.getAsObject();
      a.base = integer(o.get("base"), what + ".base");
      for (const auto& [s, c] : object(o.get("coeffs"), what + ".coeffs")) {
        if (!symbols.count(s.str())) bad(what + " uses '" + s.str() + "', which is not a declared symbol");
        a.coeffs.push_back({s.str(), integer(&c, what + ".coeffs." + s.str())});
      }
      std::sort(a.coeffs.begin(), a.coeffs.end());
    } else {
      bad(what + " is neither a size nor a symbol name");
    }
    return a;
  }
  TensorSpec spec(const llvm::json::Value& v, const std::set<std::string>& symbols,
                  const std::string& what, bool input) const {
    const auto& o = object(&v, what);
    TensorSpec t;
    t.name = string(o.get("name"), what + ".name");
    if (!plainName(t.name)) bad(what + " name '" + t.name + "' has characters other than letters, digits, _ . -");
    t.dtype = string(o.get("dtype"), what + ".dtype");
    if (t.dtype != "float32" && t.dtype != "int64" && t.dtype != "int32" && t.dtype != "bool")
      fail(ErrorKind::NotImplemented, context, "'", where, "': ", what, " '", t.name, "' has dtype ",
           t.dtype, "; this ember runs float32, int64, int32 and bool inputs and outputs only");
    const auto& shape = array(o.get("shape"), what + ".shape");
    for (size_t d = 0; d < shape.size(); ++d)
      t.shape.push_back(affine(shape[d], symbols, what + ".shape[" + std::to_string(d) + "]", input));
    return t;
  }
};

} // namespace

std::string AffineInt::text() const {
  if (coeffs.empty()) return std::to_string(base);
  std::string s;
  for (const auto& [sym, c] : coeffs) {
    if (c == 0) continue;
    if (!s.empty()) s += c < 0 ? "-" : "+";
    else if (c < 0) s += "-";
    const int64_t m = c < 0 ? -c : c;
    s += (m == 1 ? "" : std::to_string(m) + "*") + sym;
  }
  if (base) s += (base < 0 ? "-" : "+") + std::to_string(base < 0 ? -base : base);
  return s.empty() ? "0" : s;
}

int64_t AffineInt::eval(const std::map<std::string, int64_t>& values) const {
  int64_t v = base;
  for (const auto& [sym, c] : coeffs) {
    auto it = values.find(sym);
    EMBER_CHECK(it != values.end(), Value, "ember.export", "symbol '", sym, "' is not bound");
    v += c * it->second;
  }
  return v;
}

std::string shapeText(const std::vector<AffineInt>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + shape[i].text();
  return s + "]";
}

std::string encodeSafetensors(std::vector<WeightInfo>& weights, const std::vector<const float*>& data,
                              uint64_t* dataStart) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (WeightInfo& w : weights) {
    uint64_t numel = 1;
    llvm::json::Array shape;
    for (int64_t d : w.shape) numel *= uint64_t(d), shape.push_back(d);
    w.offset = offset;
    w.bytes = numel * 4;
    offset += w.bytes;
    header[w.name] = llvm::json::Object{{"dtype", "F32"}, {"shape", std::move(shape)},
                                        {"data_offsets", llvm::json::Array{w.offset, offset}}};
  }
  header["__metadata__"] = llvm::json::Object{{"format", "pt"}, {"producer", "ember"}};
  std::string h = jsonText(llvm::json::Value(std::move(header)));
  while ((8 + h.size()) % kAlign) h += ' '; // safetensors allows trailing spaces in the header
  std::string blob;
  putLE(blob, h.size(), 8);
  blob += h;
  *dataStart = blob.size();
  blob.reserve(blob.size() + offset);
  for (size_t i = 0; i < weights.size(); ++i)
    blob.append(reinterpret_cast<const char*>(data[i]), weights[i].bytes);
  return blob;
}

void writeEmberFile(const EmberFile& f, const std::string& path, const std::string& context) {
  llvm::json::Array symbolicInts, symbols, inputs, outputs, weights;
  for (const SymbolicInt& s : f.symbolicInts)
    symbolicInts.push_back(llvm::json::Object{{"offset", int64_t(s.offset)},
                                              {"length", int64_t(s.length)},
                                              {"value", affineJson(s.value)}});
  for (const SymbolInfo& s : f.symbols)
    symbols.push_back(llvm::json::Object{{"name", s.name}, {"min", s.min}, {"max", s.max}});
  for (const TensorSpec& t : f.inputs) inputs.push_back(specJson(t));
  for (const TensorSpec& t : f.outputs) outputs.push_back(specJson(t));
  for (const WeightInfo& w : f.weights) weights.push_back(w.name);
  llvm::json::Object user;
  for (const auto& [k, v] : f.metadata) user[k] = v;
  llvm::json::Object meta{
      {"format", "ember"},
      {"format_version", int64_t(kEmberFormatVersion)},
      {"ember_version", f.emberVersion},
      {"producer", f.producer},
      {"graph", llvm::json::Object{{"format", "mlir-text"},
                                   {"function", f.function},
                                   {"symbolic_ints", std::move(symbolicInts)}}},
      {"symbols", std::move(symbols)},
      {"inputs", std::move(inputs)},
      {"outputs", std::move(outputs)},
      {"weights", std::move(weights)},
      {"metadata", std::move(user)}};
  const std::string metaText = jsonText(llvm::json::Value(std::move(meta)));

  const std::vector<std::pair<std::string, const std::string*>> sections = {
      {"graph", &f.graph}, {"weights", &f.weightsBlob}, {"meta", &metaText}};
  std::string out(kMagic, 8);
  putLE(out, kEmberFormatVersion, 4);
  putLE(out, sections.size(), 4);
  uint64_t at = 16 + 32 * sections.size();
  std::vector<uint64_t> offsets;
  for (const auto& [tag, body] : sections) {
    at = (at + kAlign - 1) / kAlign * kAlign;
    offsets.push_back(at);
    std::string t = tag;
    t.resize(8, '\0');
    out += t;
    putLE(out, at, 8);
    putLE(out, body->size(), 8);
    putLE(out, fnv1a(body->data(), body->size()), 8);
    at += body->size();
  }
  for (size_t i = 0; i < sections.size(); ++i) {
    out.resize(offsets[i], '\0');
    out += *sections[i].second;
  }

  // Atomic: a temporary file in the same directory, then rename over the target.
  std::string tmpl = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  EMBER_CHECK(fd >= 0, Runtime, context, "cannot open '", tmpl, "' for writing (does the directory exist?)");
  const std::string tmp = tmpl;
  const mode_t mask = ::umask(0); // mkstemp makes 0600; give the file the usual permissions
  ::umask(mask);
  (void)::fchmod(fd, 0666 & ~mask);
  std::FILE* fp = ::fdopen(fd, "wb");
  if (!fp) {
    ::close(fd);
    std::remove(tmp.c_str());
    fail(ErrorKind::Runtime, context, "cannot open '", tmp, "' for writing");
  }
  const bool written = std::fwrite(out.data(), 1, out.size(), fp) == out.size();
  const bool flushed = std::fflush(fp) == 0 && ::fsync(::fileno(fp)) == 0;
  const bool closed = std::fclose(fp) == 0;
  if (!written || !flushed || !closed) {
    std::remove(tmp.c_str());
    fail(ErrorKind::Runtime, context, "writing '", tmp, "' failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(ErrorKind::Runtime, context, "cannot move the export into place at '", path, "'");
  }
}

EmberFile readEmberFile(const std::string& path, const std::string& context) {
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), Value, context, "cannot open '", path, "' (no such file or not readable)");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader r{path, context};
  if (data.size() < 8 || std::memcmp(data.data(), kMagic, 8) != 0) {
    EMBER_CHECK(data.rfind("ember-export ", 0) != 0, Value, context, "'", path,
                "' is a version 1 ember export (text); this ember reads format version ",
                kEmberFormatVersion, ": re-export the model with ember.export");
    fail(ErrorKind::Value, context, "'", path, "' is not an ember export (",
         data.size() < 8 ? "too short for the header" : "bad magic",
         "); write one with ember.export");
  }
  EMBER_CHECK(data.size() >= 16, Value, context, "'", path, "' is truncated: ", data.size(),
              " bytes, shorter than the 16-byte header");
  const uint32_t version = uint32_t(getLE(data.data() + 8, 4));
  EMBER_CHECK(version == kEmberFormatVersion, Value, context, "'", path, "' has format version ",
              version, ", this ember reads version ", kEmberFormatVersion,
              version > kEmberFormatVersion ? ": upgrade ember or re-export the model with this one"
                                            : ": re-export the model with ember.export");
  const uint32_t n = uint32_t(getLE(data.data() + 12, 4));
  if (n > kMaxSections) r.bad("the section table claims " + std::to_string(n) + " sections");
  if (16 + 32 * uint64_t(n) > data.size())
    fail(ErrorKind::Value, context, "'", path, "' is truncated: its section table runs past the end (",
         data.size(), " bytes)");
  std::map<std::string, std::string> sections;
  for (uint32_t i = 0; i < n; ++i) {
    const char* e = data.data() + 16 + 32 * i;
    std::string tag(e, strnlen(e, 8));
    const uint64_t off = getLE(e + 8, 8), size = getLE(e + 16, 8), hash = getLE(e + 24, 8);
    if (off < 16 + 32 * uint64_t(n) || off > data.size() || size > data.size() - off) {
      if (off <= data.size() && off >= 16 + 32 * uint64_t(n))
        fail(ErrorKind::Value, context, "'", path, "' is truncated: section '", tag, "' needs bytes [",
             off, ", ", off + size, ") but the file has ", data.size());
      r.bad("section '" + tag + "' has offset " + std::to_string(off) + " outside the file");
    }
    if (sections.count(tag)) r.bad("section '" + tag + "' appears twice");
    if (fnv1a(data.data() + off, size) != hash)
      r.bad("section '" + tag + "' does not match its checksum (the bytes were changed)");
    sections[tag] = data.substr(off, size);
  }
  for (const char* need : {"graph", "weights", "meta"})
    if (!sections.count(need)) r.bad(std::string("it has no '") + need + "' section");

  EmberFile f;
  f.graph = std::move(sections["graph"]);
  f.weightsBlob = std::move(sections["weights"]);
  if (jsonDepth(sections["meta"]) > 32) r.bad("its metadata is nested too deeply");
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(sections["meta"]);
  if (!parsed) r.bad("its metadata is not valid JSON (" + llvm::toString(parsed.takeError()) + ")");
  const auto& meta = r.object(&*parsed, "the metadata");
  if (r.string(meta.get("format"), "meta.format") != "ember") r.bad("meta.format is not \"ember\"");
  const int64_t metaVersion = r.integer(meta.get("format_version"), "meta.format_version");
  if (metaVersion != kEmberFormatVersion) r.bad("meta.format_version disagrees with the header");
  f.emberVersion = r.string(meta.get("ember_version"), "meta.ember_version");
  f.producer = r.string(meta.get("producer"), "meta.producer");
  const auto& graph = r.object(meta.get("graph"), "meta.graph");
  const std::string graphFormat = r.string(graph.get("format"), "meta.graph.format");
  EMBER_CHECK(graphFormat == "mlir-text", NotImplemented, context, "'", path, "': graph format '",
              graphFormat, "' is not supported (this ember reads mlir-text)");
  f.function = r.string(graph.get("function"), "meta.graph.function");
  std::set<std::string> symbolNames;
  for (const auto& s : r.array(meta.get("symbols"), "meta.symbols")) {
    const auto& o = r.object(&s, "a symbol");
    SymbolInfo info{r.string(o.get("name"), "symbol.name"), r.integer(o.get("min"), "symbol.min"),
                    r.integer(o.get("max"), "symbol.max")};
    if (info.min < 0 || info.max < info.min) r.bad("symbol '" + info.name + "' has an empty range");
    if (!symbolNames.insert(info.name).second) r.bad("symbol '" + info.name + "' is declared twice");
    f.symbols.push_back(info);
  }
  for (const auto& s : r.array(graph.get("symbolic_ints"), "meta.graph.symbolic_ints")) {
    const auto& o = r.object(&s, "a symbolic int");
    SymbolicInt si;
    const int64_t off = r.integer(o.get("offset"), "symbolic_int.offset");
    const int64_t len = r.integer(o.get("length"), "symbolic_int.length");
    if (off < 0 || len <= 0 || uint64_t(off) > f.graph.size() || uint64_t(len) > f.graph.size() - off)
      r.bad("a symbolic integer lies outside the graph text");
    si.offset = uint64_t(off), si.length = uint64_t(len);
    for (uint64_t i = si.offset; i < si.offset + si.length; ++i)
      if (f.graph[i] < '0' || f.graph[i] > '9') r.bad("a symbolic integer does not point at digits");
    if (!f.symbolicInts.empty() && si.offset < f.symbolicInts.back().offset + f.symbolicInts.back().length)
      r.bad("the symbolic integers overlap or are out of order");
    const llvm::json::Value* v = o.get("value");
    if (!v) r.bad("a symbolic integer has no value");
    si.value = r.affine(*v, symbolNames, "symbolic_int.value", false);
    f.symbolicInts.push_back(std::move(si));
  }
  std::set<std::string> ioNames;
  for (const auto& t : r.array(meta.get("inputs"), "meta.inputs")) {
    f.inputs.push_back(r.spec(t, symbolNames, "input", true));
    if (!ioNames.insert("in:" + f.inputs.back().name).second)
      r.bad("input '" + f.inputs.back().name + "' is listed twice");
  }
  for (const auto& t : r.array(meta.get("outputs"), "meta.outputs")) {
    f.outputs.push_back(r.spec(t, symbolNames, "output", false));
    if (!ioNames.insert("out:" + f.outputs.back().name).second)
      r.bad("output '" + f.outputs.back().name + "' is listed twice");
  }
  for (const auto& [k, v] : r.object(meta.get("metadata"), "meta.metadata"))
    f.metadata[k.str()] = r.string(&v, "meta.metadata." + k.str());
  std::vector<std::string> weightNames;
  for (const auto& w : r.array(meta.get("weights"), "meta.weights"))
  {
    weightNames.push_back(r.string(&w, "a weight name"));
    if (!plainName(weightNames.back()))
      r.bad("weight name '" + weightNames.back() + "' has characters other than letters, digits, _ . -");
  }

  // The weights: a safetensors blob whose tensors are exactly the weights the graph takes.
  const std::string& blob = f.weightsBlob;
  if (blob.size() < 8) r.bad("the weights section is shorter than a safetensors header");
  const uint64_t hlen = getLE(blob.data(), 8);
  if (hlen > blob.size() - 8) r.bad("the weights header length runs past the weights section");
  f.weightsDataStart = 8 + hlen;
  const uint64_t dataSize = blob.size() - f.weightsDataStart;
  if (jsonDepth(llvm::StringRef(blob.data() + 8, hlen)) > 32) r.bad("the weights header is nested too deeply");
  llvm::Expected<llvm::json::Value> wh = llvm::json::parse(llvm::StringRef(blob.data() + 8, hlen));
  if (!wh) r.bad("the weights header is not valid JSON (" + llvm::toString(wh.takeError()) + ")");
  const auto& entries = r.object(&*wh, "the weights header");
  std::set<std::string> listed(weightNames.begin(), weightNames.end());
  if (listed.size() != weightNames.size()) r.bad("meta.weights lists a weight twice");
  for (const auto& [k, v] : entries)
    if (k != "__metadata__" && !listed.count(k.str()))
      r.bad("the weights section holds '" + k.str() + "', which the graph does not take");
  for (const std::string& name : weightNames) {
    const auto& e = r.object(entries.get(name), "weight '" + name + "'");
    WeightInfo w;
    w.name = name;
    const std::string st = r.string(e.get("dtype"), "weight '" + name + "' dtype");
    EMBER_CHECK(st == "F32", NotImplemented, context, "'", path, "': weight '", name, "' has dtype ",
                st, "; this ember binds float32 (F32) weights only");
    uint64_t numel = 1;
    for (const auto& d : r.array(e.get("shape"), "weight '" + name + "' shape")) {
      const int64_t v = r.integer(&d, "a dim of weight '" + name + "'");
      if (v < 0 || (v > 0 && numel > (uint64_t(1) << 48) / uint64_t(v)))
        r.bad("weight '" + name + "' has a bad shape");
      w.shape.push_back(v);
      numel *= uint64_t(v);
    }
    const auto& offs = r.array(e.get("data_offsets"), "weight '" + name + "' data_offsets");
    if (offs.size() != 2) r.bad("weight '" + name + "' data_offsets is not [begin, end]");
    const int64_t b = r.integer(&offs[0], "data_offsets"), en = r.integer(&offs[1], "data_offsets");
    if (b < 0 || en < b || uint64_t(en) > dataSize)
      r.bad("weight '" + name + "' data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
            "] lie outside the weights data (" + std::to_string(dataSize) + " bytes)");
    if (uint64_t(en - b) != numel * 4)
      r.bad("weight '" + name + "' needs " + std::to_string(numel * 4) + " bytes but its data_offsets span " +
            std::to_string(en - b));
    w.offset = uint64_t(b), w.bytes = uint64_t(en - b);
    f.weights.push_back(std::move(w));
  }
  return f;
}

std::map<std::string, int64_t> bindSymbols(const EmberFile& f,
                                           const std::vector<std::vector<int64_t>>& shapes,
                                           const std::string& context) {
  EMBER_CHECK(shapes.size() == f.inputs.size(), Value, context, "the model takes ", f.inputs.size(),
              " input(s), got ", shapes.size());
  std::map<std::string, int64_t> values;
  std::map<std::string, std::string> boundBy;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const TensorSpec& in = f.inputs[i];
    Text got;
    got << "[";
    for (size_t d = 0; d < shapes[i].size(); ++d) got << (d ? ", " : "") << shapes[i][d];
    got << "]";
    EMBER_CHECK(shapes[i].size() == in.shape.size(), Value, context, "input '", in.name, "' has shape ",
                got.str(), " but the model takes ", shapeText(in.shape), " (rank ", in.shape.size(), ")");
    for (size_t d = 0; d < shapes[i].size(); ++d) {
      const AffineInt& want = in.shape[d];
      const int64_t size = shapes[i][d];
      if (want.isStatic()) {
        EMBER_CHECK(size == want.base, Value, context, "input '", in.name, "' has shape ", got.str(),
                    " but the model takes ", shapeText(in.shape), ": dim ", d, " must be ", want.base);
        continue;
      }
      const std::string& sym = want.coeffs[0].first;
      const std::string where = "dim " + std::to_string(d) + " of input '" + in.name + "'";
      auto it = values.find(sym);
      if (it != values.end()) {
        EMBER_CHECK(it->second == size, Value, context, where, " is ", size, " but ", boundBy[sym],
                    " is ", it->second, ": both are the symbolic dim '", sym,
                    "', so they must have the same size");
        continue;
      }
      const SymbolInfo* info = nullptr;
      for (const SymbolInfo& s : f.symbols)
        if (s.name == sym) info = &s;
      EMBER_CHECK(info != nullptr, Value, context, "symbol '", sym, "' is not declared");
      EMBER_CHECK(size >= info->min && size <= info->max, Value, context, where, " (symbolic dim '",
                  sym, "') is ", size, ", outside its range [", info->min, ", ",
                  info->max == INT64_MAX ? std::string("inf") : std::to_string(info->max), "]");
      values[sym] = size;
      boundBy[sym] = where;
    }
  }
  return values;
}

std::string specializeGraph(const EmberFile& f, const std::map<std::string, int64_t>& values,
                            const std::string& context) {
  std::string out;
  uint64_t at = 0;
  for (const SymbolicInt& s : f.symbolicInts) {
    const int64_t v = s.value.eval(values);
    EMBER_CHECK(v >= 0, Value, context, "the sizes given make a size of the graph (",
                s.value.text(), ") negative: ", v);
    out.append(f.graph, at, s.offset - at);
    out += std::to_string(v);
    at = s.offset + s.length;
  }
  out.append(f.graph, at, std::string::npos);
  return out;
}

} // namespace ember::compiler
