// ember::Error: the one error type of ember. Every user-facing failure (bad shapes, dtypes,
// devices, files, IR) is thrown as an Error whose message names the op/context and the fix.
// The Python bindings translate each ErrorKind to the matching built-in exception type.
#pragma once

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace ember {

enum class ErrorKind {
  Value,          // bad value or shape       -> Python ValueError
  Type,           // bad dtype / argument type -> Python TypeError
  Index,          // out-of-range index/dim   -> Python IndexError
  NotImplemented, // not supported yet        -> Python NotImplementedError
  Runtime,        // anything else            -> Python RuntimeError
};

class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, std::string context, const std::string& message)
      : std::runtime_error(context.empty() ? message : context + ": " + message),
        kind_(kind), context_(std::move(context)) {}

  ErrorKind kind() const { return kind_; }
  // The op or component that raised it, e.g. "ember.add" or "compiler.jit".
  const std::string& context() const { return context_; }

private:
  ErrorKind kind_;
  std::string context_;
};

// Text built with `<<` from strings and numbers without iostreams' locale machinery (numbers go
// through std::to_string / snprintf). Inside some Python processes a C++ extension's iostream
// number formatting crashes (libstdc++ facet ids differ between the extension and the process),
// so error messages and generated CUDA source never depend on it.
class Text {
public:
  Text& operator<<(const std::string& v) { s_ += v; return *this; }
  Text& operator<<(const char* v) { s_ += v; return *this; }
  Text& operator<<(char v) { s_ += v; return *this; }
  template <typename T>
  Text& operator<<(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      s_ += v ? "1" : "0";
    } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      if constexpr (std::is_enum_v<T>) s_ += std::to_string(static_cast<long long>(v));
      else s_ += std::to_string(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
      s_ += buf;
    } else if constexpr (std::is_convertible_v<const T&, std::string>) {
      s_ += std::string(v);
    } else {
      std::ostringstream os; // other streamable types
      os << v;
      s_ += os.str();
    }
    return *this;
  }
  const std::string& str() const { return s_; }

private:
  std::string s_;
};

// Builds the message from parts: EMBER_CHECK(cond, Value, "ember.add", "shapes ", a, ...).
template <typename... Parts>
[[noreturn]] void fail(ErrorKind kind, const std::string& context, const Parts&... parts) {
  Text os;
  (os << ... << parts);
  throw Error(kind, context, os.str());
}

} // namespace ember

#define EMBER_CHECK(cond, kind, context, ...)                                  \
  do {                                                                         \
    if (!(cond)) ::ember::fail(::ember::ErrorKind::kind, context, __VA_ARGS__); \
  } while (0)
