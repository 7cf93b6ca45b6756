// PtrMap: a hash map keyed by non-null pointers, open addressing with linear probing in one
// array. Backward walks and accumulates per node; std::unordered_map allocated a heap node for
// every entry, a measurable share of autograd's per-node bookkeeping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ember::detail {

template <typename K, typename V>
class PtrMap {
public:
  using Entry = std::pair<K*, V>;

  // The value for `key`, default-constructed if it was absent.
  V& operator[](K* key) { return slot(key)->second; }
  // Inserts `key` (with a default value); false if it was there already.
  bool insert(K* key) {
    const size_t before = size_;
    slot(key);
    return size_ != before;
  }
  V* find(K* key) {
    if (entries_.empty()) return nullptr;
    for (size_t i = hash(key);; i = (i + 1) & mask()) {
      if (entries_[i].first == key) return &entries_[i].second;
      if (!entries_[i].first) return nullptr;
    }
  }
  const V* find(K* key) const { return const_cast<PtrMap*>(this)->find(key); }
  size_t size() const { return size_; }

  // Visits every (key, value), in no particular order.
  template <typename F>
  void for_each(F&& fn) {
    for (Entry& e : entries_)
      if (e.first) fn(e.first, e.second);
  }

private:
  size_t mask() const { return entries_.size() - 1; }
  size_t hash(K* key) const {
    return static_cast<size_t>((reinterpret_cast<uintptr_t>(key) >> 4) * 0x9E3779B97F4A7C15ull >> 17) &
           mask();
  }
  Entry* slot(K* key) {
    if ((size_ + 1) * 4 > entries_.size() * 3) grow(); // load factor at most 3/4
    for (size_t i = hash(key);; i = (i + 1) & mask()) {
      if (entries_[i].first == key) return &entries_[i];
      if (!entries_[i].first) {
        entries_[i].first = key;
        ++size_;
        return &entries_[i];
      }
    }
  }
  void grow() {
    std::vector<Entry> old(entries_.empty() ? 16 : entries_.size() * 2);
    old.swap(entries_);
    size_ = 0;
    for (Entry& e : old)
      if (e.first) slot(e.first)->second = std::move(e.second);
  }

  std::vector<Entry> entries_;
  size_t size_ = 0;
};

} // namespace ember::detail
