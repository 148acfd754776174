// The `fluxion` command: train, sample and eval every registered method, each method's own
// verbs (reflow, ...), and the experiments (demo, compare-precision, ...).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "fluxion/core/error.h"
#include "fluxion/util/thread_policy.h"
#include "method_args.h"

int main(int argc, char** argv) {
  // First: may start the program again with OpenMP's wait policy set (see thread_policy.h).
  fx::util::apply_thread_policy(argv);
  fx::cli::keep_freed_memory_for_reuse();
  CLI::App app{"fluxion: training and sampling of generative flows and sequence models"};
  app.require_subcommand(1);
  app.footer("Each method's options: fluxion train <method> --help (or --method NAME --help)");
  app.add_subcommand("version", "print the version")->callback([] {
    std::printf("fluxion %s\n", FLUXION_VERSION);
  });
  try {
    fx::cli::add_method_commands(app);
    fx::cli::add_experiment_commands(app);
    fx::cli::add_classifier_commands(app);
    fx::cli::add_loop_command(app);
    std::vector<std::string> args = fx::cli::place_method(argc, argv);
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());
    app.parse((int)ptrs.size(), ptrs.data());
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
