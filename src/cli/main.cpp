// The `fluxion` command: train, reflow, sample, eval and the `demo` main job.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "fluxion/core/error.h"

int main(int argc, char** argv) {
  fx::cli::keep_freed_memory_for_reuse();
  CLI::App app{"fluxion: training and sampling of generative flows and sequence models"};
  app.require_subcommand(1);
  app.footer(
      "DDPM on images: fluxion train|sample|eval --method ddpm --help\n"
      "Sequence models: fluxion train --method lru --help (also --method rnn)");
  app.add_subcommand("version", "print the version")->callback([] {
    std::printf("fluxion %s\n", FLUXION_VERSION);
  });
  try {
    // One family owns `train`/`sample`, chosen by --method (or the --run folder's kind).
    if (fx::cli::wants_ddpm(argc, argv))
      fx::cli::add_ddpm_commands(app);
    else if (fx::cli::is_sequence_train(argc, argv))
      fx::cli::add_sequence_train_command(app);
    else
      fx::cli::add_flow_commands(app);
    fx::cli::add_lru_commands(app);
    fx::cli::add_precision_commands(app);
    fx::cli::add_classifier_commands(app);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fx::Error& e) {
    std::fprintf(stderr, "fluxion: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fluxion: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
