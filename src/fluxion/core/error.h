// fluxion's one error type: every failure a user can cause (bad shapes, bad files,
// bad flags, NaN losses) is thrown as fx::Error with a message that names the thing.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace fx {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

#define FX_CHECK(cond, ...)                 \
  do {                                      \
    if (!(cond)) ::fx::fail(__VA_ARGS__);   \
  } while (0)

}  // namespace fx
