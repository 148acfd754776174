// Subcommands of the `fluxion` command, one registration function per family.
#pragma once
#include <CLI/CLI.hpp>

namespace fx::cli {

void add_flow_commands(CLI::App& app);  // train, reflow, sample, eval, demo

}  // namespace fx::cli
