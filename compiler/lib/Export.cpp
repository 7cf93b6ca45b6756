#include "ember/compiler/Export.h"

#include "ember/runtime/Error.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ember::compiler {
namespace {

constexpr const char* kMagic = "ember-export";
constexpr int kVersion = 1;

std::string dimsText(const Shape& s) {
  if (s.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

std::vector<std::string> names(const std::vector<std::string>& given, size_t n, const char* prefix) {
  std::vector<std::string> out = given;
  for (size_t i = out.size(); i < n; ++i) out.push_back(prefix + std::to_string(i));
  out.resize(n);
  return out;
}

} // namespace

void exportGraph(const Graph& g, const std::string& path, const std::vector<std::string>& inNames,
                 const std::vector<std::string>& outNames) {
  std::string ir = graphToMLIR(g, "main");
  std::vector<std::string> in = names(inNames, g.inputs.size(), "input");
  std::vector<std::string> out = names(outNames, g.outputs.size(), "output");
  std::ostringstream os;
  os << kMagic << " " << kVersion << "\nfunction main\n";
  for (size_t i = 0; i < in.size(); ++i)
    os << "input " << in[i] << " f32 " << dimsText(g.inputs[i].shape()) << "\n";
  for (size_t i = 0; i < out.size(); ++i)
    os << "output " << out[i] << " f32 " << dimsText(g.outputs[i].shape()) << "\n";
  os << "---\n" << ir;

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    EMBER_CHECK(f.good(), Runtime, "ember.export", "cannot open '", tmp, "' for writing");
    f << os.str();
    f.close();
    if (!f.good()) {
      std::remove(tmp.c_str());
      fail(ErrorKind::Runtime, "ember.export", "writing '", tmp, "' failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(ErrorKind::Runtime, "ember.export", "cannot move the export into place at '", path, "'");
  }
}

ExportedFile readExported(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EMBER_CHECK(f.good(), Value, "ember.load_exported", "cannot open '", path, "'");
  std::string line, magic;
  int version = 0;
  std::getline(f, line);
  std::istringstream(line) >> magic >> version;
  EMBER_CHECK(magic == kMagic, Value, "ember.load_exported", "'", path,
              "' is not an ember export (it should start with '", kMagic,
              "'); write one with ember.export");
  EMBER_CHECK(version == kVersion, Value, "ember.load_exported", "'", path, "' has format version ",
              version, ", this ember reads version ", kVersion, "; re-export the model");
  std::vector<std::string> inputNames, outputNames;
  std::string function;
  while (std::getline(f, line) && line != "---") {
    std::istringstream ls(line);
    std::string kind, name, dtype;
    ls >> kind >> name >> dtype;
    if (kind == "function") function = name;
    else if (kind == "input") inputNames.push_back(name);
    else if (kind == "output") outputNames.push_back(name);
    else fail(ErrorKind::Value, "ember.load_exported", "'", path, "': unexpected header line '", line, "'");
    EMBER_CHECK(kind == "function" || dtype == "f32", NotImplemented, "ember.load_exported",
                "dtype ", dtype, " of ", kind, " '", name, "' is not supported yet");
  }
  EMBER_CHECK(line == "---" && !function.empty(), Value, "ember.load_exported", "'", path,
              "' is truncated: its header has no function or no '---' line");
  std::stringstream rest;
  rest << f.rdbuf();
  return {function, rest.str(), std::move(inputNames), std::move(outputNames)};
}

ExportedModel loadExported(const std::string& path) {
  ExportedFile file = readExported(path);
  const std::string& function = file.function;
  ExportedModel m{std::move(file.inputNames), std::move(file.outputNames),
                  CompiledGraph::fromMLIR(file.ir, function)};
  EMBER_CHECK(m.compiled.inputShapes().size() == m.inputNames.size() &&
                  m.compiled.outputShapes().size() == m.outputNames.size(),
              Value, "ember.load_exported", "'", path, "': the header lists ", m.inputNames.size(),
              " inputs and ", m.outputNames.size(), " outputs but @", function, " has ",
              m.compiled.inputShapes().size(), " and ", m.compiled.outputShapes().size());
  return m;
}

} // namespace ember::compiler
