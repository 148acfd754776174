#include "fluxion/loop/method_loop_model.h"

#include <cmath>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/loop/image_data.h"
#include "fluxion/loop/quality_filter.h"
#include "fluxion/train/train_loop.h"

namespace fx::loop {

namespace {

constexpr const char* kSourceScale = "source-scale";

// The method's source-scale sampling option, or nullptr.
train::Option* source_scale_option(train::OptionSet& o) {
  for (train::Option& opt : o.options())
    if (opt.name == kSourceScale) return &opt;
  return nullptr;
}

// Sets o from j like OptionSet::from_json, and also the options that config.json leaves out
// (how-options such as DDPM's `grid` or `compile`): a loop has no command line to give them.
void set_options(train::OptionSet& o, nlohmann::json j, const std::string& where,
                 bool ignore_unknown = false) {
  for (train::Option& opt : o.options()) {
    const std::string key = train::json_key(opt.name);
    if (!opt.in_config && j.contains(key)) {
      opt.set(j[key], where);
      j.erase(key);
    }
  }
  o.from_json(j, where, ignore_unknown);
}

}  // namespace

MethodLoopModel::MethodLoopModel(methods::MethodFactory make, nlohmann::json options, bool quiet,
                                 bool truncation)
    : make_(std::move(make)), options_(std::move(options)), quiet_(quiet), truncation_(truncation) {
  FX_CHECK(options_.is_object(), "--method-config: not a JSON object: {}", options_.dump());
  // Sampling options may sit apart, where a name means something else when training (DDPM's
  // `steps`, `batch`): {"steps": 2000, "sampling": {"steps": 20}}.
  if (options_.contains(kSamplingKey)) {
    sampling_ = options_[kSamplingKey];
    options_.erase(kSamplingKey);
    FX_CHECK(sampling_.is_object(), "--method-config: `{}` is not a JSON object: {}", kSamplingKey,
             sampling_.dump());
    separate_sampling_ = true;
  } else {
    sampling_ = options_;
  }
  std::unique_ptr<methods::Method> m = make_();
  FX_CHECK(m->can_sample(),
           "--model: method '{}' cannot sample, so it cannot feed a self-consuming loop",
           m->name());
  train::TrainConfig t = m->default_train_config();
  configured(t, "");  // unknown or ill-typed keys fail now, not after generation 1
  if (truncation_) {
    train::OptionSet o;
    m->declare_sampling(o);
    FX_CHECK(source_scale_option(o),
             "--truncation: method '{}' has no source noise to scale (no {} sampling option; "
             "rectified-flow and ddpm have one)",
             m->name(), kSourceScale);
    FX_CHECK(!options_.contains("source_scale") && !sampling_.contains("source_scale"),
             "--method-config: `source_scale` is set by the loop (sqrt of each lambda)");
  }
}

std::unique_ptr<methods::Method> MethodLoopModel::configured(train::TrainConfig& t,
                                                             const std::string& data) {
  std::unique_ptr<methods::Method> m = make_();
  train::OptionSet o;
  t.declare(o);
  m->declare(o);
  if (!separate_sampling_) m->declare_sampling(o);  // e.g. {"solver": "euler", "ode_steps": 20}
  set_options(o, options_, "--method-config");
  if (separate_sampling_) {
    train::OptionSet s;
    m->declare_sampling(s);
    set_options(s, sampling_, "--method-config sampling");
  }
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

void MethodLoopModel::fit(const Tensor& train_points, uint64_t seed, const std::string& gen_dir,
                          const std::string& warm_from) {
  FX_CHECK(!gen_dir.empty(), "MethodLoopModel: a method trains into a generation folder");
  train::TrainConfig t = make_()->default_train_config();
  method_ = configured(t, std::filesystem::absolute(gen_dir + "/train.npy").string());
  t.seed = seed;
  t.validate();
  method_->validate(t);
  ctx_ = methods::RunContext{gen_dir + "/run", t, quiet_};
  train::TrainRunOptions run;
  if (!warm_from.empty()) run.init_from = std::filesystem::absolute(warm_from + "/run").string();
  train::train_run(*method_, ctx_, run);
}

void MethodLoopModel::load(const std::string& gen_dir) {
  method_ = make_();
  ctx_ = methods::RunContext{gen_dir + "/run", method_->default_train_config(), quiet_};
  train::load_run(*method_, ctx_);
  // Sampling options are not in the run's config.json: set them again.
  train::OptionSet s;
  method_->declare_sampling(s);
  set_options(s, sampling_, "--method-config", /*ignore_unknown=*/!separate_sampling_);
}

Tensor MethodLoopModel::sample(int64_t n, uint64_t seed, double lambda) {
  FX_CHECK(method_, "MethodLoopModel: sample before fit or load");
  Tensor x;
  if (truncation_) {
    train::OptionSet o;
    method_->declare_sampling(o);
    source_scale_option(o)->set(std::sqrt(lambda), "--truncation");
    x = method_->sample(ctx_, n, seed);
  } else {
    Tensor pool = method_->sample(ctx_, filter_pool_size(n, lambda), seed);
    FX_CHECK(pool.rank() >= 2, "--model: method '{}' samples {}, the loop needs [N, ...]",
             method_->name(), shape_str(pool.shape()));
    // Images are filtered by their k-NN density in pixel space, as flat rows.
    const int64_t m = pool.dim(0), row = pool.numel() / m;
    Shape kept = pool.shape();
    kept[0] = n;
    x = keep_densest(pool.reshaped({m, row}), n).reshaped(kept);
  }
  // A method samples images in [-1, 1]; the loop trains on and scores them in [0, 1].
  return x.rank() == 4 ? images_to_unit_range(x) : x;
}

}  // namespace fx::loop
