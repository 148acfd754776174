// Maps declared options (fluxion/train/options.h) onto CLI11. Values are parsed strictly:
// an integer out of range or a number with trailing text is an error naming the option and
// the value, never a silent clamp.
#pragma once
#include <CLI/CLI.hpp>

#include "fluxion/train/options.h"

namespace fx::cli {

// Adds every option of `set` to `app` as --name (and -x for a short name). `set` must outlive
// the parse (the options write through to the variables it points at).
void bind_options(CLI::App* app, fx::train::OptionSet& set);

// Parses one option's text value into its variable (the rule bind_options applies).
void parse_option_value(const fx::train::Option& o, const std::string& text);

}  // namespace fx::cli
