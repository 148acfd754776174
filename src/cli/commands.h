// Subcommands of the `fluxion` command, one registration function per family.
#pragma once
#include <CLI/CLI.hpp>

namespace fx::cli {

void add_flow_commands(CLI::App& app);       // train, reflow, sample, eval, demo
void add_precision_commands(CLI::App& app);  // compare-precision

}  // namespace fx::cli
