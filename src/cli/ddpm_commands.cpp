// DDPM commands: `fluxion train --method ddpm ...` and `fluxion sample --method ddpm ...`
// (or `fluxion sample --run DIR` on a DDPM run). main() registers these instead of the
// rectified-flow family when wants_ddpm() says the command line is about DDPM.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "fluxion/core/error.h"
#include "fluxion/io/image_grid.h"
#include "fluxion/io/png.h"
#include "fluxion/run/ddpm_eval.h"
#include "fluxion/run/ddpm_run.h"
#include "fluxion/run/flow_run.h"

namespace fx::cli {

namespace fs = std::filesystem;

bool wants_ddpm(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--method=ddpm" ||
        (a == "--method" && i + 1 < argc && !std::strcmp(argv[i + 1], "ddpm")))
      return true;
    if (a == "--run" && i + 1 < argc && run::is_ddpm_run(argv[i + 1])) return true;
    if (a.rfind("--run=", 0) == 0 && run::is_ddpm_run(a.substr(6))) return true;
  }
  return false;
}

namespace {

// --precision on sample/eval: the network's products in bf16/fp16 (weights stay f32).
struct SamplePrecision {
  std::string precision = "fp32";
  bool measure = true;
  void apply(gen::SamplerOptions& o) const {
    o.precision.precision = amp::precision_from_name(precision);
    o.precision.measure = measure;
  }
};

void add_sampler_options(CLI::App* c, gen::SamplerOptions& o, SamplePrecision& p) {
  c->add_option("--precision", p.precision, "the network's products: fp32, bf16 or fp16")
      ->capture_default_str();
  c->add_option("--precision-measure", p.measure,
                "true: a product stays f32 where its low-precision kernel is slower on this CPU")
      ->capture_default_str();
  c->add_option("--sampler", o.method,
                "ancestral (all T steps), ddim, or ode (probability-flow ODE, --solver)")
      ->capture_default_str();
  c->add_option("--steps", o.steps, "DDIM steps, or ODE steps for a fixed-step --solver")
      ->capture_default_str();
  c->add_option("--solver", o.ode_solver, "--sampler ode: euler, heun, rk4 or rk45")
      ->capture_default_str();
  c->add_option("--rtol", o.rtol, "--solver rk45: relative tolerance")->capture_default_str();
  c->add_option("--atol", o.atol, "--solver rk45: absolute tolerance")->capture_default_str();
  c->add_flag("--compile", o.compile,
              "run the U-Net compiled (fused generated kernels; bit-identical images)");
}

void add_train(CLI::App& app) {
  auto cfg = std::make_shared<run::DdpmRunConfig>();
  auto out = std::make_shared<std::string>("runs/ddpm");
  auto resume = std::make_shared<bool>(false);
  auto no_flip = std::make_shared<bool>(false);
  auto grid = std::make_shared<int64_t>(64);
  CLI::App* c = app.add_subcommand("train", "train a DDPM U-Net (--method ddpm) into a run folder");
  c->add_option("--method", cfg->method, "generative method")->check(CLI::IsMember({"ddpm"}));
  c->add_option("--data", cfg->data, "fashion-mnist, or a folder of PNG images")
      ->capture_default_str();
  c->add_option("--data-dir", cfg->data_dir,
                "Fashion-MNIST folder (default $FLUXION_FASHION_MNIST_DIR or "
                "/usr/share/datasets/fashion-mnist)");
  c->add_option("--limit", cfg->limit, "use only the first N training images");
  c->add_flag("--crop", cfg->crop, "PNG folder: centre-crop images that are not square");
  c->add_flag("--no-flip", *no_flip, "no random horizontal flips");
  c->add_option("--steps", cfg->steps, "training steps")->capture_default_str();
  c->add_option("--batch", cfg->batch, "batch size")->capture_default_str();
  c->add_option("--lr", cfg->lr, "Adam learning rate")->capture_default_str();
  c->add_option("--warmup", cfg->warmup, "linear warm-up steps")->capture_default_str();
  c->add_option("--lr-decay", cfg->lr_decay, "after warm-up: constant, or cosine to 0")
      ->capture_default_str();
  c->add_flag("--compile", cfg->compile,
              "compile the training step (fused generated kernels; bit-identical results)");
  c->add_option("--precision", cfg->precision,
                "fp32, bf16 or fp16 products; f32 master weights (README: Mixed precision)")
      ->capture_default_str();
  c->add_option("--precision-measure", cfg->precision_measure,
                "true: a product stays f32 where its low-precision kernel is slower on this CPU; "
                "false: always low precision")
      ->capture_default_str();
  c->add_option("--loss-scale", cfg->loss_scale,
                "auto (dynamic for fp16), none, dynamic, or a fixed number")
      ->capture_default_str();
  c->add_option("--clip", cfg->clip, "gradient-norm clip (0: off)")->capture_default_str();
  c->add_option("--ema", cfg->ema, "EMA decay of the sampling weights (0: off)")
      ->capture_default_str();
  c->add_option("--seed", cfg->seed, "random seed")->capture_default_str();
  c->add_option("--schedule", cfg->schedule, "beta schedule: linear or cosine")
      ->capture_default_str();
  c->add_option("--timesteps", cfg->timesteps, "diffusion steps T")->capture_default_str();
  c->add_option("--prediction", cfg->prediction, "network target: eps or v")->capture_default_str();
  c->add_option("--image-size", cfg->unet.image_size, "image side (PNG folders are resized)")
      ->capture_default_str();
  c->add_option("--channels", cfg->unet.in_channels, "image channels: 1 (grey) or 3 (RGB)")
      ->capture_default_str();
  c->add_option("--base", cfg->unet.base_channels, "U-Net base channels")->capture_default_str();
  c->add_option("--mult", cfg->unet.channel_mult, "channel multiplier per level")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--res-blocks", cfg->unet.res_blocks, "ResBlocks per level")->capture_default_str();
  c->add_option("--attn", cfg->unet.attn_resolutions, "attention resolutions")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--heads", cfg->unet.attn_heads, "attention heads")->capture_default_str();
  c->add_option("--dropout", cfg->unet.dropout, "dropout in the ResBlocks")->capture_default_str();
  c->add_option("--checkpoint-every", cfg->checkpoint_every, "steps between checkpoints")
      ->capture_default_str();
  c->add_option("--grid", *grid, "images in the final sample grid (DDIM 50 steps, 0: none)")
      ->capture_default_str();
  c->add_option("--out", *out, "run folder")->capture_default_str();
  c->add_flag("--resume", *resume, "continue the run in --out");
  c->callback([=] {
    cfg->flip = !*no_flip;
    run::prepare_run_dir(*out, *resume);
    run::DdpmRun r = run::train_ddpm(*cfg, *out, *resume);
    std::printf("trained %lld steps; checkpoint %s/model.safetensors, EMA %s/ema.safetensors\n",
                (long long)r.step, out->c_str(), out->c_str());
    if (*grid > 0) {
      gen::SamplerOptions o;
      o.seed = cfg->seed + 1;
      o.steps = std::min<int64_t>(50, cfg->timesteps);
      o.compile = cfg->compile;
      Tensor x = run::sample_ddpm(r, *grid, o);
      std::string path = (fs::path(*out) / "samples.png").string();
      io::write_png(path, io::image_grid(x));
      std::printf("sample grid (DDIM %lld steps, %s weights): %s\n", (long long)o.steps,
                  run::uses_ema(r, false) ? "EMA" : "raw", path.c_str());
    }
  });
}

void add_sample(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto method = std::make_shared<std::string>("ddpm");
  auto opts = std::make_shared<gen::SamplerOptions>();
  auto precision = std::make_shared<SamplePrecision>();
  auto variance = std::make_shared<std::string>("beta");
  auto n = std::make_shared<int64_t>(64);
  auto out = std::make_shared<std::string>("samples.png");
  auto raw = std::make_shared<bool>(false);
  opts->seed = 1;
  CLI::App* c = app.add_subcommand("sample", "sample images from a DDPM run into a PNG grid");
  c->add_option("--method", *method, "generative method")->check(CLI::IsMember({"ddpm"}));
  c->add_option("--run", *dir, "run folder")->required();
  add_sampler_options(c, *opts, *precision);
  c->add_option("--eta", opts->eta, "DDIM eta (0: deterministic)")->capture_default_str();
  c->add_option("--variance", *variance, "ancestral variance: beta or beta-tilde")
      ->capture_default_str();
  c->add_option("-n,--num", *n, "number of images")->capture_default_str();
  c->add_option("--batch", opts->batch, "images per network call")->capture_default_str();
  c->add_option("--seed", opts->seed, "random seed")->capture_default_str();
  c->add_flag("--raw-weights", *raw,
              "sample with the raw weights (the EMA is used once step >= 5/(1-decay))");
  c->add_option("--out", *out, "PNG grid to write")->capture_default_str();
  c->callback([=] {
    (void)method;  // the option writes into *method: keep it alive with the callback
    opts->variance = gen::variance_from_name(*variance);
    precision->apply(*opts);
    run::DdpmRun r = run::load_ddpm(*dir);
    auto t0 = std::chrono::steady_clock::now();
    gen::SampleStats st;
    Tensor x = run::sample_ddpm(r, *n, *opts, *raw, &st);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    io::write_png(*out, io::image_grid(x));
    std::printf(
        "%lld images (%s, %lld network calls, step %lld, %s weights) in %.1f s = %.3f "
        "images/s -> %s\n",
        (long long)*n, run::sampler_label(*opts, r, *variance).c_str(), (long long)st.network_calls,
        (long long)r.step, run::uses_ema(r, *raw) ? "EMA" : "raw", secs, *n / secs, out->c_str());
  });
}

void add_eval(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto method = std::make_shared<std::string>("ddpm");
  auto o = std::make_shared<run::DdpmEvalOptions>();
  o->sampler.seed = 1;
  o->sampler.batch = 250;
  CLI::App* c = app.add_subcommand(
      "eval", "sample a DDPM run and score it: FD-FMNIST and k-NN precision/recall vs the floor");
  c->add_option("--method", *method, "generative method")->check(CLI::IsMember({"ddpm"}));
  c->add_option("--run", *dir, "run folder")->required();
  auto precision = std::make_shared<SamplePrecision>();
  add_sampler_options(c, o->sampler, *precision);
  c->add_option("--eta", o->sampler.eta, "DDIM eta (0: deterministic)")->capture_default_str();
  c->add_option("--variance", o->variance, "ancestral variance: beta or beta-tilde")
      ->capture_default_str();
  c->add_option("-n,--num", o->n, "images to generate and score (test images compared: as many)")
      ->capture_default_str();
  c->add_option("--batch", o->sampler.batch, "images per network call")->capture_default_str();
  c->add_option("--seed", o->sampler.seed, "random seed")->capture_default_str();
  c->add_option("--classifier", o->classifier, "feature network weights (safetensors)")
      ->capture_default_str();
  c->add_option("--data-dir", o->data_dir, "Fashion-MNIST folder (default as for train)");
  c->callback([=] {
    (void)method;
    o->sampler.variance = gen::variance_from_name(o->variance);
    precision->apply(o->sampler);
    run::DdpmRun r = run::load_ddpm(*dir);
    run::DdpmEvalResult e = run::evaluate_ddpm(r, *dir, *o);
    std::printf("%s, step %lld, %s weights, n = %lld, %lld network calls, %.2f images/s\n",
                e.sampler.c_str(), (long long)r.step, run::uses_ema(r, false) ? "EMA" : "raw",
                (long long)e.scores.n, (long long)e.network_calls, e.images_per_second);
    std::printf(
        "  FD-FMNIST %.3f (floor %.3f)  precision %.3f (floor %.3f)  recall %.3f "
        "(floor %.3f)\n",
        e.scores.fd, e.floor.fd, e.scores.precision, e.floor.precision, e.scores.recall,
        e.floor.recall);
    std::printf("  grid %s; table %s/eval.md\n", e.grid.c_str(), dir->c_str());
  });
}

}  // namespace

void add_ddpm_commands(CLI::App& app) {
  add_train(app);
  add_sample(app);
  add_eval(app);
}

}  // namespace fx::cli
