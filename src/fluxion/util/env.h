// On/off switches read from the environment (FLUXION_COMPILER_LOG, FLUXION_EPILOGUE_FUSION, ...).
#pragma once
#include <cstdlib>
#include <string_view>

namespace fx::util {

// Set, non-empty and not "0".
inline bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string_view(v) != "0";
}

}  // namespace fx::util
