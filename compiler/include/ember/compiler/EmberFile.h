// The .ember container (format version 2): a fixed header, a section table, then the sections.
//
//   offset  size  field
//   0       8     magic "\x89EMBER\r\n" (a text-mode transfer or a text file changes it)
//   8       4     format version, u32 little-endian (2)
//   12      4     number of sections n, u32 (at most 16)
//   16      32*n  section table: tag (8 bytes, NUL-padded ASCII), offset u64, size u64,
//                 FNV-1a 64 hash of the section's bytes u64 (all little-endian)
//   ...           the sections, each starting at a multiple of 64
//
// Sections: "graph" (MLIR text of the ember dialect module, at the example sizes), "weights"
// (a safetensors blob: u64 header length, JSON header, raw little-endian data; its data begins
// 64-byte aligned) and "meta" (JSON: versions, producer, input/output names, shapes with
// symbolic dims, dtypes, symbols, the weights' order, the integers of the graph text that depend
// on symbolic dims, user metadata). Unknown sections are skipped (newer writers may add some).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ember::compiler {

constexpr uint32_t kEmberFormatVersion = 2;
extern const char* const kEmberVersion; // the version of ember that wrote a file

// A symbolic dim of the exported signature (torch.export.Dim).
struct SymbolInfo {
  std::string name;
  int64_t min = 1, max = INT64_MAX;
};

// An integer that depends on symbols: base + sum(coeff * value of symbol).
struct AffineInt {
  int64_t base = 0;
  std::vector<std::pair<std::string, int64_t>> coeffs; // empty: a fixed size
  bool isStatic() const { return coeffs.empty(); }
  // "batch", "784", "2*batch+1"
  std::string text() const;
  int64_t eval(const std::map<std::string, int64_t>& values) const;
};

struct TensorSpec {
  std::string name, dtype = "float32"; // or "int64", "int32", "bool"
  std::vector<AffineInt> shape; // inputs: fixed sizes or one symbol each
};

// A decimal integer of the graph text (bytes [offset, offset + length)) that is `value` for the
// given symbol values: the graph is specialised by rewriting these.
struct SymbolicInt {
  uint64_t offset = 0, length = 0;
  AffineInt value;
};

struct WeightInfo {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t offset = 0, bytes = 0; // in the weights blob's data area (float32)
};

struct EmberFile {
  std::string emberVersion = kEmberVersion, producer, function = "main";
  std::string graph; // MLIR text at the example sizes
  std::vector<SymbolicInt> symbolicInts;
  std::vector<SymbolInfo> symbols;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<WeightInfo> weights; // graph arguments after the inputs, in this order
  std::string weightsBlob;         // the safetensors blob
  uint64_t weightsDataStart = 0;   // where its data area begins inside the blob
  std::map<std::string, std::string> metadata; // the user's

  const char* weightData(const WeightInfo& w) const {
    return weightsBlob.data() + weightsDataStart + w.offset;
  }
  bool hasSymbols() const { return !symbols.empty(); }
};

// A safetensors blob of named float32 tensors (row-major data given as bytes), header padded so
// the data starts 64-byte aligned. Fills each WeightInfo's offset/bytes; returns the blob.
std::string encodeSafetensors(std::vector<WeightInfo>& weights,
                              const std::vector<const float*>& data, uint64_t* dataStart);

// Writes `f` to `path` atomically (a temporary file beside it, then rename).
void writeEmberFile(const EmberFile& f, const std::string& path, const std::string& context);

// Reads and validates a .ember file: magic, version, section table, hashes, JSON, weights.
// Every problem is an ember::Error (ValueError) naming the file and what is wrong.
EmberFile readEmberFile(const std::string& path, const std::string& context);

// The symbol values that `shapes` (one per input) bind, checking static dims, tied symbols and
// each symbol's range; errors name the input, the dim and the fix.
std::map<std::string, int64_t> bindSymbols(const EmberFile& f,
                                           const std::vector<std::vector<int64_t>>& shapes,
                                           const std::string& context);

// The graph text with every symbolic integer rewritten for `values` (all symbols bound).
std::string specializeGraph(const EmberFile& f, const std::map<std::string, int64_t>& values,
                            const std::string& context);

// "[batch, 784]"
std::string shapeText(const std::vector<AffineInt>& shape);

} // namespace ember::compiler
