#include "fluxion/loop/method_loop_model.h"

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/loop/quality_filter.h"
#include "fluxion/train/train_loop.h"

namespace fx::loop {

MethodLoopModel::MethodLoopModel(methods::MethodFactory make, nlohmann::json options, bool quiet)
    : make_(std::move(make)), options_(std::move(options)), quiet_(quiet) {
  FX_CHECK(options_.is_object(), "--method-config: not a JSON object: {}", options_.dump());
  std::unique_ptr<methods::Method> m = make_();
  FX_CHECK(m->can_sample(),
           "--model: method '{}' cannot sample, so it cannot feed a self-consuming loop",
           m->name());
  train::TrainConfig t = m->default_train_config();
  configured(t, "");  // unknown or ill-typed keys fail now, not after generation 1
}

std::unique_ptr<methods::Method> MethodLoopModel::configured(train::TrainConfig& t,
                                                             const std::string& data) {
  std::unique_ptr<methods::Method> m = make_();
  train::OptionSet o;
  t.declare(o);
  m->declare(o);
  m->declare_sampling(o);  // e.g. {"solver": "euler", "ode_steps": 20}
  o.from_json(options_, "--method-config");
  bool has_data = false;
  for (train::Option& opt : o.options())
    if (opt.name == "data") {
      has_data = true;
      if (!data.empty()) opt.set(data, "the loop's training set");
    }
  FX_CHECK(has_data, "--model: method '{}' has no `data` option to train on a loop's points",
           m->name());
  FX_CHECK(!options_.contains("data"),
           "--method-config: `data` is set by the loop (each generation's train.npy)");
  FX_CHECK(!options_.contains("seed"),
           "--method-config: `seed` is set by the loop (--seed, one per generation)");
  return m;
}

void MethodLoopModel::fit(const Tensor& train_points, uint64_t seed, const std::string& gen_dir) {
  FX_CHECK(!gen_dir.empty(), "MethodLoopModel: a method trains into a generation folder");
  train::TrainConfig t = make_()->default_train_config();
  method_ = configured(t, std::filesystem::absolute(gen_dir + "/train.npy").string());
  t.seed = seed;
  t.validate();
  method_->validate(t);
  ctx_ = methods::RunContext{gen_dir + "/run", t, quiet_};
  train::train_run(*method_, ctx_, {});
}

void MethodLoopModel::load(const std::string& gen_dir) {
  method_ = make_();
  ctx_ = methods::RunContext{gen_dir + "/run", method_->default_train_config(), quiet_};
  train::load_run(*method_, ctx_);
  // Sampling options are not in the run's config.json: set them again.
  train::OptionSet s;
  method_->declare_sampling(s);
  s.from_json(options_, "--method-config", /*ignore_unknown=*/true);
}

Tensor MethodLoopModel::sample(int64_t n, uint64_t seed, double lambda) {
  FX_CHECK(method_, "MethodLoopModel: sample before fit or load");
  Tensor pool = method_->sample(ctx_, filter_pool_size(n, lambda), seed);
  FX_CHECK(pool.rank() == 2, "--model: method '{}' samples {}, the loop needs points [N, D]",
           method_->name(), shape_str(pool.shape()));
  return keep_densest(pool, n);
}

}  // namespace fx::loop
