#include "fluxion/amp/precision_policy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/exec/interpreter.h"

namespace fx::amp {
namespace {

Op op_from_name(std::string_view name, const std::string& file, const char* field) {
  for (int i = 0; i < (int)Op::count; ++i)
    if (name == op_name(Op(i))) return Op(i);
  fail("{}: {}: unknown op '{}'", file, field, name);
}

bool contains(const std::vector<Op>& ops, Op op) {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

// The parameter a matmul operand comes from, looking through layout ops and casts, or "".
std::string source_input_name(const Graph& g, int id) {
  for (int hops = 0; hops < 8; ++hops) {
    const Node& n = g.node(id);
    if (n.op == Op::input) return n.attrs.name;
    if (n.op != Op::permute && n.op != Op::reshape && n.op != Op::broadcast_to && n.op != Op::cast)
      return "";
    id = n.inputs[0];
  }
  return "";
}

bool under_module(const std::string& param, const std::string& prefix) {
  return param.size() >= prefix.size() && param.compare(0, prefix.size(), prefix) == 0 &&
         (param.size() == prefix.size() || param[prefix.size()] == '.');
}

std::string signature(const Graph& g, const Node& n) {
  std::string s = op_name(n.op);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Node& in = g.node(n.inputs[i]);
    s += (i ? " x " : " ") + std::string(dtype_name(in.dtype)) + shape_str(in.shape);
  }
  if (n.attrs.transpose_a) s += " ^Ta";
  if (n.attrs.transpose_b) s += " ^Tb";
  return s + " -> " + shape_str(n.shape);  // convolutions differing only in stride differ here
}

// The node alone on random operands, in f32 or with its float operands cast to `compute`
// and the result cast back (what the rewritten graph will run).
struct NodeTimer {
  Graph mini;
  Feeds feeds;
  std::unique_ptr<Interpreter> exec;
  NodeTimer(const Graph& g, const Node& n, DType compute) {
    std::vector<Var> ins;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Node& in = g.node(n.inputs[i]);
      const std::string name = "operand" + std::to_string(i);
      Var v = mini.input(name, in.shape, in.dtype);
      Tensor t(in.shape, DType::f32);
      philox_uniform(7, i << 20, t.data<float>(), t.numel());
      feeds[name] = t.to(in.dtype);
      ins.push_back(is_float(in.dtype) && compute != in.dtype ? cast(v, compute) : v);
    }
    Var out = mini.add(n.op, ins, n.attrs);
    if (out.dtype() != n.dtype) out = cast(out, n.dtype);
    exec = std::make_unique<Interpreter>(mini, std::vector<Var>{out});
    exec->run(feeds);  // warm-up: primitive creation, first-touch of buffers
  }
  double run_ms() {
    auto t0 = std::chrono::steady_clock::now();
    exec->run(feeds);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
};

// Best of 7 alternating runs of each variant: other load on the machine only ever adds time,
// and alternating keeps a burst of it from landing on one variant alone (timing all f32 runs,
// then all low-precision ones, flipped 7 of the U-Net's 109 decisions on a busy machine).
std::pair<double, double> time_f32_and_low(const Graph& g, const Node& n, DType low) {
  NodeTimer f32(g, n, DType::f32), lo(g, n, low);
  double best_f32 = INFINITY, best_low = INFINITY;
  for (int rep = 0; rep < 7; ++rep) {
    best_f32 = std::min(best_f32, f32.run_ms());
    best_low = std::min(best_low, lo.run_ms());
  }
  return {best_f32, best_low};
}

// Measurements are per process and signature: a step traced twice is not timed twice.
std::pair<double, double> measure(const Graph& g, const Node& n, DType low) {
  static std::mutex mu;
  static std::map<std::string, std::pair<double, double>> cache;
  const std::string key = signature(g, n) + " as " + std::string(dtype_name(low));
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto r = time_f32_and_low(g, n, low);
  cache[key] = r;
  return r;
}

}  // namespace

Precision precision_from_name(std::string_view name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "bf16") return Precision::bf16;
  if (name == "fp16") return Precision::fp16;
  fail("unknown precision '{}' (available: fp32, bf16, fp16)", name);
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32:
      return "fp32";
    case Precision::bf16:
      return "bf16";
    case Precision::fp16:
      return "fp16";
  }
  return "?";
}

DType compute_dtype(Precision p) {
  return p == Precision::bf16 ? DType::bf16 : p == Precision::fp16 ? DType::f16 : DType::f32;
}

nlohmann::json PrecisionPolicy::to_json() const {
  auto names = [](const std::vector<Op>& ops) {
    std::vector<std::string> v;
    for (Op op : ops) v.push_back(op_name(op));
    return v;
  };
  return {{"precision", precision_name(precision)},
          {"low_precision_ops", names(low_precision_ops)},
          {"fp32_ops", names(fp32_ops)},
          {"fp32_modules", fp32_modules},
          {"measure", measure},
          {"min_speedup", min_speedup}};
}

PrecisionPolicy PrecisionPolicy::from_json(const nlohmann::json& j, const std::string& file) {
  PrecisionPolicy p;
  FX_CHECK(j.is_object(), "{}: a precision policy must be a JSON object", file);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    FX_CHECK(k == "precision" || k == "low_precision_ops" || k == "fp32_ops" ||
                 k == "fp32_modules" || k == "measure" || k == "min_speedup",
             "{}: unknown field '{}' (known: precision, low_precision_ops, fp32_ops, "
             "fp32_modules, measure, min_speedup)",
             file, k);
  }
  try {
    if (j.contains("precision"))
      p.precision = precision_from_name(j.at("precision").get<std::string>());
    auto ops = [&](const char* field, std::vector<Op>& out) {
      if (!j.contains(field)) return;
      out.clear();
      for (const auto& s : j.at(field))
        out.push_back(op_from_name(s.get<std::string>(), file, field));
    };
    ops("low_precision_ops", p.low_precision_ops);
    ops("fp32_ops", p.fp32_ops);
    if (j.contains("fp32_modules"))
      p.fp32_modules = j.at("fp32_modules").get<std::vector<std::string>>();
    if (j.contains("measure")) p.measure = j.at("measure").get<bool>();
    if (j.contains("min_speedup")) {
      p.min_speedup = j.at("min_speedup").get<double>();
      FX_CHECK(p.min_speedup > 0 && std::isfinite(p.min_speedup),
               "min_speedup must be a positive number, got {}", p.min_speedup);
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: bad precision policy: {}", file, e.what());
  } catch (const Error& e) {
    fail("{}: {}", file, e.what());
  }
  return p;
}

std::string PrecisionResult::report() const {
  std::string s;
  for (const PrecisionDecision& d : decisions) {
    s += fmt::format("node {:>5} {:<52} -> {:<4} {}", d.node, d.signature, dtype_name(d.chosen),
                     d.reason);
    if (d.ms_f32 > 0) s += fmt::format(" (f32 {:.3f} ms, low {:.3f} ms)", d.ms_f32, d.ms_low);
    s += "\n";
  }
  s += fmt::format("{} casts inserted\n", casts_inserted);
  return s;
}

PrecisionResult apply_precision(const Graph& g, const std::vector<Var>& outputs,
                                const PrecisionPolicy& policy) {
  const DType low = compute_dtype(policy.precision);
  PrecisionResult res;
  res.graph = std::make_unique<Graph>();
  Graph& ng = *res.graph;

  std::vector<char> needed(g.size(), 0);
  for (const Var& v : outputs) needed[v.id] = 1;
  for (int id = g.size() - 1; id >= 0; --id)
    if (needed[id])
      for (int in : g.node(id).inputs) needed[in] = 1;

  std::vector<Var> mapped(g.size());
  std::map<std::pair<int, DType>, Var> cast_memo;  // one cast per (value, dtype)
  auto as_dtype = [&](Var v, DType d) {
    if (v.dtype() == d) return v;
    auto key = std::make_pair(v.id, d);
    auto it = cast_memo.find(key);
    if (it != cast_memo.end()) return it->second;
    ++res.casts_inserted;
    return cast_memo[key] = cast(v, d);
  };

  for (int id = 0; id < g.size(); ++id) {
    if (!needed[id]) continue;
    const Node& n = g.node(id);
    if (n.op == Op::input) {
      mapped[id] = ng.input(n.attrs.name, n.shape, n.dtype);
      continue;
    }
    if (n.op == Op::constant) {
      mapped[id] = ng.constant(n.attrs.literal);
      continue;
    }
    std::vector<Var> ins;
    for (int in : n.inputs) ins.push_back(mapped[in]);
    // Only values that were f32 in the traced graph change precision (f64 tests stay f64).
    auto lowerable = [&](size_t i) { return g.node(n.inputs[i]).dtype == DType::f32; };

    bool run_low = false;
    if (low != DType::f32 && contains(policy.low_precision_ops, n.op)) {
      bool all_f32 = !n.inputs.empty();
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (is_float(g.node(n.inputs[i]).dtype) && !lowerable(i)) all_f32 = false;
      if (all_f32) {
        PrecisionDecision d{id, signature(g, n), low, 0, 0, "allow list"};
        for (int in : n.inputs) {
          const std::string param = source_input_name(g, in);
          for (const std::string& m : policy.fp32_modules)
            if (!param.empty() && under_module(param, m)) {
              d.chosen = DType::f32;
              d.reason = "fp32 module override '" + m + "' (" + param + ")";
            }
        }
        if (d.chosen != DType::f32 && policy.measure) {
          std::tie(d.ms_f32, d.ms_low) = measure(g, n, low);
          if (d.ms_low * policy.min_speedup > d.ms_f32) {
            d.chosen = DType::f32;
            d.reason = d.ms_low >= d.ms_f32
                           ? "measured: low precision is slower on this CPU"
                           : fmt::format("measured: low precision is not {:g}x faster on this CPU",
                                         policy.min_speedup);
          } else {
            d.reason = "measured: low precision is faster on this CPU";
          }
        }
        run_low = d.chosen != DType::f32;
        res.decisions.push_back(d);
      }
    }
    if (run_low) {
      for (size_t i = 0; i < ins.size(); ++i)
        if (lowerable(i)) ins[i] = as_dtype(ins[i], low);
    } else if (contains(policy.fp32_ops, n.op) || contains(policy.low_precision_ops, n.op)) {
      // A product kept in f32 (measured slower, module override) takes f32 operands.
      for (size_t i = 0; i < ins.size(); ++i)
        if (lowerable(i)) ins[i] = as_dtype(ins[i], DType::f32);
    } else {
      // Widest wins: a low-precision value meeting an f32 one is cast up.
      bool mixed = false;
      for (size_t i = 0; i < ins.size(); ++i)
        if (lowerable(i) && ins[i].dtype() == DType::f32) mixed = true;
      if (mixed)
        for (size_t i = 0; i < ins.size(); ++i)
          if (lowerable(i)) ins[i] = as_dtype(ins[i], DType::f32);
    }
    mapped[id] = ng.add(n.op, ins, n.attrs);
  }
  for (const Var& v : outputs) {
    const Var m = mapped[v.id];
    res.outputs.push_back(m.dtype() == v.dtype() ? m : as_dtype(m, v.dtype()));
  }
  return res;
}

double finite_max(DType d) {
  switch (d) {
    case DType::f16:
      return 65504.0;
    case DType::bf16:
      return 3.3895313892515355e38;
    case DType::f32:
      return std::numeric_limits<float>::max();
    default:
      return std::numeric_limits<double>::max();
  }
}

double smallest_normal(DType d) {
  switch (d) {
    case DType::f16:
      return 6.103515625e-05;
    case DType::bf16:
    case DType::f32:
      return std::numeric_limits<float>::min();
    default:
      return std::numeric_limits<double>::min();
  }
}

}  // namespace fx::amp
