// The message of the fx::Error that f throws, or "(no error)": for tests of error messages.
#pragma once
#include <functional>
#include <string>

#include "fluxion/core/error.h"

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const fx::Error& e) {
    return e.what();
  }
  return "(no error)";
}
