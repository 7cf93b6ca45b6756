// ember::Error: the one error type of ember. Every user-facing failure (bad shapes, dtypes,
// devices, files, IR) is thrown as an Error whose message names the op/context and the fix.
// The Python bindings translate each ErrorKind to the matching built-in exception type.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

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

// Builds the message from streamable parts: EMBER_CHECK(cond, Value, "ember.add", "shapes ", a, ...).
template <typename... Parts>
[[noreturn]] void fail(ErrorKind kind, const std::string& context, const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(kind, context, os.str());
}

} // namespace ember

#define EMBER_CHECK(cond, kind, context, ...)                                  \
  do {                                                                         \
    if (!(cond)) ::ember::fail(::ember::ErrorKind::kind, context, __VA_ARGS__); \
  } while (0)
