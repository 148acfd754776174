// The rectified-flow method, declared for the demo experiment, which drives it directly
// (train 1-RF, reflow to 2-RF, score both). Other code reaches it through the registry.
#pragma once
#include <memory>

#include "fluxion/data/point_source.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/methods/method.h"
#include "fluxion/train/train_loop.h"

namespace fx::methods {

class RectifiedFlow : public Method {
 public:
  std::string name() const override { return "rectified-flow"; }
  std::string summary() const override {
    return "rectified flow: straight ODE paths from a source to the data (reflow, distill)";
  }
  train::TrainConfig default_train_config() const override;
  void declare(train::OptionSet& o) override;
  void validate(const train::TrainConfig& t) const override;
  void build(const RunContext& ctx) override;
  std::vector<std::pair<std::string, nn::Parameter*>> parameters() override;
  std::unique_ptr<train::Learner> learner(const RunContext& ctx) override;
  void after_training(const RunContext& ctx, train::Learner& l) override;
  void declare_sampling(train::OptionSet& o) override;
  Tensor sample(const RunContext& ctx, int64_t n, uint64_t seed) override;
  nlohmann::json evaluate(const RunContext& ctx, int64_t n, uint64_t seed) override;
  std::vector<Verb> verbs() override;

  // For experiments.
  std::string label() const;  // "1-RF", "2-RF"
  double straightness(int64_t n, uint64_t seed);
  void write_pictures(const std::string& dir, uint64_t seed);
  void make_reflow_pairs(int64_t n, uint64_t seed, int64_t parent_step, const std::string& dir);

  // Options (config.json).
  std::string data = "moons", source = "gaussian";
  gen::VelocityConfig model;
  int64_t round = 1;
  std::string parent;
  int64_t pairs = 0;
  bool distill = false;
  // Sampling options.
  std::string solver = "rk45";
  int64_t ode_steps = 100;
  double source_scale = 1.0;  // truncation: x0 scaled by this about the origin (1: as trained)

 private:
  solvers::OdeOptions ode_options() const;
  solvers::OdeResult integrate(const RunContext& ctx, const Tensor& x0);
  Tensor source_points(int64_t n, uint64_t seed) const;  // x0 for sample/evaluate
  std::unique_ptr<data::PointSource> data_, source_;
  std::unique_ptr<gen::VelocityMLP> net_;
};

struct ReflowOptions {
  std::string from, out;
  int64_t pairs = 20000, steps = 3000, stop_after = 0;
  bool distill = false, resume = false, compile = false;
};
// Makes the pairs from --from's flow and trains the next flow in --out.
train::TrainRunResult reflow(const ReflowOptions& r, bool quiet);

std::unique_ptr<Method> make_rectified_flow();

}  // namespace fx::methods
