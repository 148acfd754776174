// Subcommands of the `fluxion` command, one registration function per file.
#pragma once
#include <CLI/CLI.hpp>

namespace fx::cli {

// train|sample|eval <method> and the methods' own verbs (reflow, ...), from the registry.
void add_method_commands(CLI::App& app);
// demo, compare-precision <method>, bench-lru, plot-bench.
void add_experiment_commands(CLI::App& app);
void add_classifier_commands(CLI::App& app);  // train-classifier (FD-FMNIST's features)
void add_loop_command(CLI::App& app);         // loop (self-consuming generations)

// Freed tensor memory stays in the process heap for reuse (memory_reuse.cpp); main() calls
// it first.
void keep_freed_memory_for_reuse();

}  // namespace fx::cli
