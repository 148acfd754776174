// `fluxion train|sample|eval <method>` and each method's own verbs, made from the registry:
// every method declares its options once (fluxion/methods/method.h) and gets the same run
// folder, resume rule, checkpoint and output handling.
#include <memory>

#include "commands.h"
#include "fluxion/core/error.h"
#include "fluxion/dist/split_rows.h"
#include "fluxion/io/samples_file.h"
#include "fluxion/io/write_target.h"
#include "fluxion/methods/registry.h"
#include "fluxion/train/train_loop.h"
#include "option_binding.h"

namespace fx::cli {

namespace {

// What a subcommand's callback needs after parsing; kept alive by the callback.
struct MethodCommand {
  std::unique_ptr<methods::Method> method;
  methods::RunContext ctx;
  train::OptionSet options;  // the method's and the verb's, bound to the fields below
  std::string out, run, init_from;
  bool resume = false;
  int64_t replica_check_every = 100;
  int64_t stop_after = 0, n = 2000;
  uint64_t seed = 1;
};

std::shared_ptr<MethodCommand> new_command(const std::string& name) {
  auto c = std::make_shared<MethodCommand>();
  c->method = methods::make_method(name);
  c->ctx.train = c->method->default_train_config();
  return c;
}

void add_train(CLI::App* verb, const std::string& name) {
  auto c = new_command(name);
  c->out = "runs/" + name;
  c->ctx.train.declare(c->options);
  c->method->declare(c->options);
  c->options.add("out", c->out, "run folder");
  c->options.add("resume", c->resume, "continue the run in --out");
  c->options.add("stop-after", c->stop_after,
                 "checkpoint and stop after this step (finish later with --resume)");
  c->options.add("init-from", c->init_from,
                 "warm start: begin from the weights of this run folder (same model options), "
                 "not from fresh ones");
  CLI::App* sub = verb->add_subcommand(name, c->method->summary());
  bind_options(sub, c->options);
  // How to run, not what (kept out of config.json, like --compile).
  sub->add_option("--replica-check-every", c->replica_check_every,
                  "under mpirun: compare a hash of every rank's weights and optimizer state "
                  "every N steps and at the end (0: never)")
      ->capture_default_str();
  sub->callback([c] {
    c->ctx.dir = c->out;
    auto r = train::train_run(*c->method, c->ctx,
                              {c->resume, c->stop_after, c->init_from, c->replica_check_every});
    if (dist::world().rank() != 0) return;
    std::printf("trained %lld steps; checkpoint %s/model.safetensors\n", (long long)r.step,
                c->out.c_str());
  });
}

// Prints scores as `sliced-W2 0.0712 (floor 0.0694)  MMD ...` on one line.
void print_scores(const nlohmann::json& j) {
  static const std::map<std::string, std::string> pretty = {
      {"sliced_w2", "sliced-W2"}, {"mmd", "MMD"}, {"nfe", "NFE"}, {"fd", "FD-FMNIST"}};
  std::string line;
  // Labels first, then counts, then scores (each with its floor when there is one).
  for (int pass = 0; pass < 3; ++pass)
    for (auto& [k, v] : j.items()) {
      if (k.size() > 6 && k.compare(k.size() - 6, 6, "_floor") == 0) continue;
      int kind = v.is_string() ? 0 : v.is_number_integer() ? 1 : 2;
      if (kind != pass) continue;
      auto p = pretty.find(k);
      std::string name = p != pretty.end() ? p->second : k;
      std::string value = v.is_number_float() ? fmt::format("{:.5g}", v.get<double>())
                          : v.is_string()     ? v.get<std::string>()
                                              : v.dump();
      line += fmt::format("{}{} {}", line.empty() ? "" : "  ", name, value);
      if (j.contains(k + "_floor"))
        line += fmt::format(" (floor {:.5g})", j[k + "_floor"].get<double>());
    }
  std::printf("%s\n", line.c_str());
}

void add_sample_or_eval(CLI::App* verb, const std::string& name, bool is_eval) {
  auto c = new_command(name);
  c->n = c->method->default_sample_count();
  c->method->declare_sampling(c->options);
  c->options.add("run", c->run, "run folder (required)");
  c->options.add("num", c->n, is_eval ? "samples to score" : "samples to draw").short_name = "n";
  c->options.add("seed", c->seed, "random seed of the samples");
  c->options.add("precision", c->ctx.sample_precision, "fp32, bf16 or fp16 products");
  c->options.add("compile", c->ctx.sample_compile,
                 "run the network compiled (same results; pays off for large -n)");
  if (!is_eval) c->options.add("out", c->out, "file: .csv or .npy (points), .png or .npy (images)");
  CLI::App* sub = verb->add_subcommand(name, c->method->summary());
  bind_options(sub, c->options);
  sub->callback([c, is_eval] {
    FX_CHECK(!c->run.empty(), "--run is required (the run folder to {})",
             is_eval ? "evaluate" : "sample");
    FX_CHECK(c->n >= (is_eval ? 2 : 1), "--num must be at least {}, got {}", is_eval ? 2 : 1, c->n);
    amp::precision_from_name(c->ctx.sample_precision);
    if (!is_eval && !c->out.empty()) io::check_write_target(c->out);  // before the work
    c->ctx.dir = c->run;
    c->ctx.train.compile = c->ctx.sample_compile;
    int64_t step = train::load_run(*c->method, c->ctx);
    // Under mpirun, sample splits -n over the ranks and rank 0 writes the rows in rank order;
    // eval scores on rank 0 (its metrics need all the samples in one place).
    dist::Communicator& world = dist::world();
    const bool lead = world.rank() == 0;
    if (is_eval) {
      if (!lead) return;
      nlohmann::json scores = c->method->evaluate(c->ctx, c->n, c->seed);
      scores["step"] = step;
      print_scores(scores);
      return;
    }
    if (world.size() > 1 && c->n < world.size())
      dist::fail_all("--num {} is smaller than the {} ranks sharing it", c->n, world.size());
    Tensor x = c->method->sample(c->ctx, dist::rows_of_rank(c->n, world.rank(), world.size()),
                                 dist::seed_of_rank(c->seed, world.rank()));
    if (world.size() > 1) x = dist::gather_rows(world, x);
    if (!lead) return;
    std::string out = c->out;
    if (out.empty()) out = x.rank() == 2 ? "samples.csv" : "samples.png";
    io::write_samples(out, x);
    if (std::string note = c->method->sample_note(); !note.empty())
      std::printf("%s\n", note.c_str());
    std::printf("wrote %lld samples %s to %s\n", (long long)x.dim(0), shape_str(x.shape()).c_str(),
                out.c_str());
  });
}

// Keeps the option sets of method verbs alive for the parse.
std::vector<std::shared_ptr<train::OptionSet>>& verb_options() {
  static std::vector<std::shared_ptr<train::OptionSet>> sets;
  return sets;
}

}  // namespace

void add_method_commands(CLI::App& app) {
  CLI::App* train = app.add_subcommand(
      "train", "train a model into a run folder (default method: rectified-flow)");
  CLI::App* sample =
      app.add_subcommand("sample", "draw samples from a trained run (--run DIR) into a file");
  CLI::App* eval = app.add_subcommand("eval", "score samples of a trained run against the data");
  for (CLI::App* v : {train, sample, eval}) v->require_subcommand(1);
  for (const std::string& name : methods::method_names()) {
    add_train(train, name);
    add_sample_or_eval(sample, name, false);
    add_sample_or_eval(eval, name, true);
    for (methods::Verb& v : methods::make_method(name)->verbs()) {
      auto opts = std::make_shared<train::OptionSet>();
      v.declare(*opts);
      verb_options().push_back(opts);
      CLI::App* sub = app.add_subcommand(v.name, v.help + " (" + name + ")");
      bind_options(sub, *opts);
      sub->callback(v.run);
    }
  }
}

}  // namespace fx::cli
