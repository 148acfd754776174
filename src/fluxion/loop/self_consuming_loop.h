// The self-consuming loop driver: for each (family, λ) of a study, generations t = 1..T, each
// trained (from scratch, or warm from generation t−1) on the set loop_data.h plans, then
// evaluated against held-out real data (k-NN precision/recall, sliced-W2 beside its floor,
// moments, a mixture's covered modes; for images FD-FMNIST and precision/recall in the
// classifier's feature space). Layout of a study folder:
//   study.json                      the options (a rerun with others is refused)
//   <family>-lambda<λ>/gen-003/     train.npy, the model (gaussian.json or run/), samples.npy
//                                   (eval samples) and, written last, metrics.json: a folder
//                                   without it is an interrupted generation, redone on a rerun
//   <family>-lambda<λ>/loop.jsonl   one line per finished generation (rewritten atomically)
//   report.md, curves.png, samples-*.png
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/loop/image_data.h"
#include "fluxion/loop/loop_config.h"
#include "fluxion/loop/loop_model.h"
#include "fluxion/metrics/frechet.h"
#include "fluxion/run/image_metrics.h"

namespace fx::loop {

using ModelFactory = std::function<std::unique_ptr<LoopModel>()>;

struct LoopRunOptions {
  bool quiet = false;
  // > 0: return after this many generations were trained in this call, as a kill would.
  int64_t stop_after = 0;
};

// What every loop of a study is measured against, drawn once from the seed. For images
// (Fashion-MNIST) precision, recall and the Fréchet distance are taken in the classifier's
// feature space (FD-FMNIST) and sliced-W2 and the moments are not computed.
struct EvalReference {
  Tensor heldout;              // eval_n real points (never trained on); images: the first
                               // eval_n of the test split, [eval_n, 1, 28, 28] in [0, 1]
  metrics::GaussianFit real;   // moments of the real distribution (exact for gaussian, else
                               // of 50000 draws)
  double sliced_w2_floor = 0;  // SW2 between heldout and another real set of eval_n points
  double precision_floor = 0, recall_floor = 0;  // the same pair under k-NN precision/recall
  // Images only: the feature network, heldout's features and FD-FMNIST between them and eval_n
  // random training images.
  std::shared_ptr<run::FmnistFeatures> features;
  std::shared_ptr<FmnistTrainSplit> train_images;  // where real draws come from, loaded once
  Tensor heldout_features;
  double fd_floor = 0;
  bool images() const { return features != nullptr; }
};
EvalReference make_eval_reference(const LoopConfig& cfg);

struct LoopResult {
  std::string name, dir;
  Family family;
  double lambda;
  std::vector<nlohmann::json> lines;  // loop.jsonl, generation 1..finished
  bool finished = false;
};

// Runs or resumes one loop in dir; *budget counts generations trained (for stop_after).
LoopResult run_loop(const LoopConfig& cfg, Family family, double lambda, const std::string& dir,
                    const EvalReference& ref, const ModelFactory& make, const LoopRunOptions& opts,
                    int64_t* budget);

// The whole study into cfg.out (validated first), then its report. Returns every loop.
std::vector<LoopResult> run_study(const LoopConfig& cfg, const ModelFactory& make,
                                  const LoopRunOptions& opts = {});

// Checks cfg.out: a new or empty folder, or one whose study.json holds the same options (all but
// `generations`, which may grow); else an error naming the file and every differing option.
void check_study_folder(const LoopConfig& cfg);

inline constexpr const char* kStudyFile = "study.json";
inline constexpr const char* kGenerationDone = "metrics.json";  // commits a generation folder

}  // namespace fx::loop
