#include "fluxion/loop/loop_command.h"

#include "fluxion/core/error.h"
#include "fluxion/io/json_limits.h"
#include "fluxion/loop/gaussian_loop_model.h"
#include "fluxion/loop/method_loop_model.h"
#include "fluxion/methods/registry.h"

namespace fx::loop {

ModelFactory make_model_factory(const LoopConfig& cfg) {
  if (cfg.model == kClosedForm) return [] { return std::make_unique<GaussianLoopModel>(); };
  FX_CHECK(methods::has_method(cfg.model),
           "--model: unknown model '{}' (closed-form or a registered method: {})", cfg.model,
           fmt::join(methods::method_names(), ", "));
  nlohmann::json options =
      cfg.method_config.empty()
          ? nlohmann::json::object()
          : io::parse_json_bounded(cfg.method_config, io::kMaxJsonDepth, "--method-config");
  std::string name = cfg.model;
  methods::MethodFactory make = [name] { return methods::make_method(name); };
  const bool truncation = cfg.truncation;
  MethodLoopModel check(make, options, true, truncation);  // can it sample, own options?
  return [make, options, truncation] {
    return std::make_unique<MethodLoopModel>(make, options, true, truncation);
  };
}

int run_loop_command(const LoopConfig& cfg, bool quiet) {
  cfg.validate();
  ModelFactory make = make_model_factory(cfg);
  run_study(cfg, make, {.quiet = quiet});
  if (!quiet) fmt::print("report: {}/report.md\n", cfg.out);
  return 0;
}

}  // namespace fx::loop
