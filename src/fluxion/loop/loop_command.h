// `fluxion loop`: the self-consuming loop study as one library function, so the CLI only maps
// LoopConfig::declare's options to flags and calls run_loop_command.
//   fluxion loop --model closed-form --out runs/mad --lambdas 1,0.9 --generations 20
//   fluxion loop --model rectified-flow --method-config '{"steps": 1500}' --out runs/mad-rf
#pragma once
#include "fluxion/loop/loop_config.h"
#include "fluxion/loop/self_consuming_loop.h"

namespace fx::loop {

// The model of every generation: "closed-form" (the Gaussian of gaussian_loop_model.h) or a
// registered method (that can sample); methods train without progress bars (the loop prints a line
// per generation).
ModelFactory make_model_factory(const LoopConfig& cfg);

// Validates cfg, runs or resumes the study in cfg.out, writes its report; prints where the
// report is. Returns 0; bad options and foreign folders throw fx::Error naming them.
int run_loop_command(const LoopConfig& cfg, bool quiet = false);

}  // namespace fx::loop
