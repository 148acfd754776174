// A registered sampling method as the model of each loop generation: its training set is the
// generation's train.npy, passed as the method's `data` option, trained by the spine
// (train::train_run) into <generation>/run, sampled through Method::sample. Sampling bias
// λ < 1 is the k-NN density filter of quality_filter.h (draw ⌈n/λ⌉, keep the densest n) or
// truncation of the source noise (scaled by √λ).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fluxion/loop/loop_model.h"
#include "fluxion/methods/method.h"

namespace fx::loop {

inline constexpr const char* kSamplingKey = "sampling";  // --method-config's sampling options

class MethodLoopModel : public LoopModel {
 public:
  // options: the method's options, its sampling options and the shared training options by
  // their config.json keys ({"steps": 2000, "hidden": 128, "solver": "euler"}), the sampling
  // ones optionally apart under "sampling" (needed where names clash: DDPM's training and DDIM
  // `steps`); how-options such as `grid` are accepted too; unknown keys and
  // methods that cannot sample are errors naming --method-config or --model. The factory makes a
  // fresh method per fit/load.
  // truncation: λ < 1 scales the source noise by √λ through the method's `source-scale`
  // sampling option (an error naming --truncation when it has none) instead of the filter.
  MethodLoopModel(methods::MethodFactory make, nlohmann::json options, bool quiet,
                  bool truncation = false);

  void fit(const Tensor& train_points, uint64_t seed, const std::string& gen_dir,
           const std::string& warm_from = "") override;
  void load(const std::string& gen_dir) override;
  Tensor sample(int64_t n, uint64_t seed, double lambda) override;

 private:
  std::unique_ptr<methods::Method> configured(train::TrainConfig& t, const std::string& data);
  methods::MethodFactory make_;
  nlohmann::json options_;   // training and method options (and sampling ones, if not apart)
  nlohmann::json sampling_;  // the sampling options: options_["sampling"], else options_
  bool separate_sampling_ = false;
  bool quiet_, truncation_;
  std::unique_ptr<methods::Method> method_;
  methods::RunContext ctx_;
};

}  // namespace fx::loop
