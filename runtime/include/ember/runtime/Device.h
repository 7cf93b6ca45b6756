// Where a tensor's memory lives: the CPU or one CUDA device. PyTorch's spelling: "cpu", "cuda",
// "cuda:1".
#pragma once

#include <string>

namespace ember {

enum class DeviceType : unsigned char { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  // "cpu" or "cuda:N".
  std::string str() const;
};

inline Device cpu_device() { return {}; }
inline Device cuda_device(int index = 0) { return {DeviceType::CUDA, index}; }
// Parses "cpu", "cuda", "cuda:N"; throws ember::Error (Runtime, like PyTorch) otherwise.
Device parse_device(const std::string& spec);

} // namespace ember
