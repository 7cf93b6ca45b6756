// ember::StateDict: names → tensors in insertion order (PyTorch's OrderedDict state dicts), what
// Module::state_dict returns and ember::save / ember::load write and read.
#pragma once

#include "ember/Tensor.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ember {

class StateDict {
public:
  using Item = std::pair<std::string, Tensor>;
  StateDict() = default;
  StateDict(std::initializer_list<Item> items);

  // Adds key (at the end) or replaces its value (keeping its position).
  void insert(const std::string& key, const Tensor& value);
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  // The tensor under key; ember::Error (Index) naming the key when it is absent.
  const Tensor& at(const std::string& key) const;
  // nullptr when absent.
  const Tensor* find(const std::string& key) const;
  // Removes key; false when it was absent.
  bool erase(const std::string& key);
  std::vector<std::string> keys() const;
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<Item>::const_iterator begin() const { return items_.begin(); }
  std::vector<Item>::const_iterator end() const { return items_.end(); }

private:
  std::vector<Item> items_;
  std::unordered_map<std::string, size_t> index_;
};

} // namespace ember
