// Which method a command line means. `fluxion train --method ddpm ...` and `fluxion sample
// --run DIR` (the method read from DIR/config.json) become `fluxion train ddpm ...` and
// `fluxion sample <method> ...`: each method is a CLI11 subcommand of each verb, with its own
// options and help. `fluxion train` without a method trains rectified flow.
#pragma once
#include <string>
#include <vector>

namespace fx::cli {

inline constexpr const char* kDefaultMethod = "rectified-flow";

// Verbs with one subcommand per method.
bool is_method_verb(const std::string& verb);

// argv with the method placed after the verb (and --method removed). Throws fx::Error for an
// unknown method, a method without that verb, or a run folder whose config cannot be read.
std::vector<std::string> place_method(int argc, char** argv);

}  // namespace fx::cli
