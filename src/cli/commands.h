// Subcommands of the `fluxion` command, one registration function per family.
#pragma once
#include <CLI/CLI.hpp>

namespace fx::cli {

void add_flow_commands(CLI::App& app);        // train, reflow, sample, eval, demo
void add_precision_commands(CLI::App& app);   // compare-precision
void add_classifier_commands(CLI::App& app);  // train-classifier (FD-FMNIST's features)
void add_lru_commands(CLI::App& app);         // bench-lru, plot-bench
// `train --method lru|rnn`: sequence models take train's place (see lru_commands.cpp).
bool is_sequence_train(int argc, char** argv);
void add_sequence_train_command(CLI::App& app);
// DDPM's train, sample and eval, registered instead of the flow family when the command line
// has --method ddpm or --run on a DDPM run folder.
bool wants_ddpm(int argc, char** argv);
void add_ddpm_commands(CLI::App& app);

// Freed tensor memory stays in the process heap for reuse (memory_reuse.cpp); main() calls
// it first.
void keep_freed_memory_for_reuse();

}  // namespace fx::cli
