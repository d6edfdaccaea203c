// Error types. User errors (bad input) and internal errors (broken invariants) both derive from
// std::exception; the library never aborts or exits.
#pragma once
#include <stdexcept>
#include <string>

namespace torchlean {

// Bad input from the user: a malformed file, a shape mismatch, an unsupported op.
// Messages start with the op or file name and show the offending shapes or token.
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& msg) : std::runtime_error(msg) {}
};

// An evaluation error on well-formed input (e.g. log of a non-positive exact value).
class EvalError : public UserError {
 public:
  explicit EvalError(const std::string& msg) : UserError(msg) {}
};

// A broken internal invariant: a bug in torchlean, never the user's fault.
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& msg) : std::logic_error(msg) {}
};

}  // namespace torchlean

#define TL_USER_CHECK(cond, msg)                                   \
  do {                                                             \
    if (!(cond)) throw ::torchlean::UserError(msg);                \
  } while (0)

#define TL_INTERNAL_CHECK(cond, msg)                                            \
  do {                                                                          \
    if (!(cond))                                                                \
      throw ::torchlean::InternalError(std::string(__FILE__) + ":" +           \
                                       std::to_string(__LINE__) + ": " + (msg)); \
  } while (0)
