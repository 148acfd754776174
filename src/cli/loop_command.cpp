// `fluxion loop`: the self-consuming loop study (fluxion/loop/). This file only binds the
// loop's declared options; the work is loop::run_loop_command.
#include "fluxion/loop/loop_command.h"

#include <memory>

#include "commands.h"
#include "option_binding.h"

namespace fx::cli {

void add_loop_command(CLI::App& app) {
  struct LoopCommand {
    loop::LoopConfig cfg;
    bool quiet = false;
    train::OptionSet options;
  };
  auto c = std::make_shared<LoopCommand>();
  c->cfg.out = "runs/loop";
  c->cfg.declare(c->options);
  c->options.add("quiet", c->quiet, "no line per generation").in_config = false;
  CLI::App* sub = app.add_subcommand(
      "loop",
      "self-consuming loops (model autophagy): each generation trains on samples of earlier ones");
  bind_options(sub, c->options);
  sub->callback([c] { loop::run_loop_command(c->cfg, c->quiet); });
}

}  // namespace fx::cli
