// ember::save / ember::load for C++ users: a state dict in a safetensors file, the format
// Python's ember.save / ember.load use (frontend/python/ember/serialization.py), so a file
// written by either side loads in the other. Writes are atomic (a temporary file beside the
// target, fsync'ed, then renamed). Loading validates the header (length, JSON, dtypes, shapes,
// data offsets) and raises ember::Error naming the file and the problem; it never reads outside
// the file.
#pragma once

#include "ember/StateDict.h"

#include <map>
#include <string>

namespace ember {
namespace nn {
class Module;
}

// Tensors of every ember dtype (copied to the CPU); `metadata` goes to the header's
// __metadata__.
void save(const StateDict& state, const std::string& path,
          const std::map<std::string, std::string>& metadata = {});
// The tensors of a safetensors file by name, in the file's order (for a nested Python object
// saved with ember.save, the tensors under their dotted paths).
StateDict load(const std::string& path);
// The header's __metadata__ of a safetensors file.
std::map<std::string, std::string> load_metadata(const std::string& path);

// A module's state_dict() to a file; load_state_dict(load(path), strict) from one.
void save(const nn::Module& module, const std::string& path);
void load(nn::Module& module, const std::string& path, bool strict = true);

} // namespace ember
