// The `fluxion` command: train, sample and eval every registered method, each method's own
// verbs (reflow, ...), and the experiments (demo, compare-precision, ...).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "fluxion/core/error.h"
#include "fluxion/dist/communicator.h"
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
    // Under mpirun: MPI_Init, so that this process is one rank of the job (dist/).
    fx::dist::init_world(&argc, &argv);
    fx::cli::add_method_commands(app);
    fx::cli::add_experiment_commands(app);
    fx::cli::add_classifier_commands(app);
    fx::cli::add_loop_command(app);
    std::vector<std::string> args = fx::cli::place_method(argc, argv);
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());
    app.parse((int)ptrs.size(), ptrs.data());
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same command line: rank 0 prints help or the parse error.
    if (fx::dist::world().rank() != 0) {
      fx::dist::finalize_world();
      return e.get_exit_code();
    }
    int code = app.exit(e);
    fx::dist::finalize_world();
    return code;
  } catch (const fx::dist::CollectiveError& e) {
    return fx::dist::exit_on_error(e, true);
  } catch (const fx::Error& e) {
    return fx::dist::exit_on_error(e, false);
  } catch (const std::exception& e) {
    if (fx::dist::world().size() > 1)
      fx::dist::world().abort(
          fmt::format("fluxion: internal error (rank {}): {}", fx::dist::world().rank(), e.what()),
          2);
    std::fprintf(stderr, "fluxion: internal error: %s\n", e.what());
    return 2;
  }
  fx::dist::finalize_world();
  return 0;
}
