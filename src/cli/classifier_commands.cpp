// `fluxion train-classifier`: trains the Fashion-MNIST feature network behind FD-FMNIST
// (nn/fmnist_classifier.h). The shipped assets/fmnist_classifier.safetensors came from the
// defaults: `fluxion train-classifier --out assets/fmnist_classifier.safetensors`.
#include <memory>

#include "commands.h"
#include "fluxion/run/classifier_train.h"

namespace fx::cli {

void add_classifier_commands(CLI::App& app) {
  auto cfg = std::make_shared<run::ClassifierTrainConfig>();
  auto out = std::make_shared<std::string>("fmnist_classifier.safetensors");
  CLI::App* c = app.add_subcommand("train-classifier",
                                   "train the Fashion-MNIST CNN whose features FD-FMNIST uses");
  c->add_option("--data-dir", cfg->data_dir, "Fashion-MNIST folder");
  c->add_option("--epochs", cfg->epochs, "passes over the 60,000 training images")
      ->capture_default_str();
  c->add_option("--batch", cfg->batch, "batch size")->capture_default_str();
  c->add_option("--lr", cfg->lr, "Adam peak learning rate (cosine decay)")->capture_default_str();
  c->add_option("--seed", cfg->seed, "seed for initialisation and shuffling")
      ->capture_default_str();
  c->add_option("--limit", cfg->limit, "use only the first N training images");
  c->add_option("--out", *out, "safetensors file to write")->capture_default_str();
  c->callback([=] {
    run::ClassifierTrainResult r = run::train_fmnist_classifier(*cfg, *out);
    std::printf("trained %lld steps in %.1f s; test accuracy %.4f (10,000 images) -> %s\n",
                (long long)r.steps, r.seconds, r.test_accuracy, out->c_str());
  });
}

}  // namespace fx::cli
