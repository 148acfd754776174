// Mixed precision as a graph pass, in the manner of PyTorch's autocast allow/deny lists, but
// applied to a whole traced step (forward, backward and optimizer update) after grad():
//   - allow list (matmul, convolution and its two transposes): inputs cast to bf16/f16,
//     product in low precision (f32 accumulation inside the kernel);
//   - deny list (reductions, exp/log/pow/div/sqrt...): inputs cast up to f32 — softmax,
//     norm statistics, losses and everything numerically delicate stay in f32;
//   - every other op runs in the widest float dtype among its inputs, so an f32 parameter
//     (the master weight) meeting a bf16 activation promotes to f32: the optimizer update is
//     always f32, and low-precision copies of weights exist only inside the step.
// The policy is data (JSON), with per-module overrides by parameter-name prefix, and it can
// measure: an allow-listed op whose low-precision kernel is slower on the running CPU than
// f32 (e.g. bf16 GEMM on a CPU without AVX512_BF16) stays in f32, and the report says so.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fluxion/exec/interpreter.h"
#include "fluxion/ir/graph.h"
#include "fluxion/ir/op_def.h"

namespace fx::amp {

enum class Precision { fp32, bf16, fp16 };
Precision precision_from_name(std::string_view name);  // throws listing fp32|bf16|fp16
const char* precision_name(Precision p);
DType compute_dtype(Precision p);  // f32, bf16 or f16

struct PrecisionPolicy {
  Precision precision = Precision::fp32;
  // Defaults from each op's OpDef::precision class.
  std::vector<Op> low_precision_ops = ops_with_precision(PrecisionClass::low_precision_product);
  std::vector<Op> fp32_ops = ops_with_precision(PrecisionClass::keep_f32);
  // Parameter-name prefixes (e.g. "net.layers.3") whose products stay in f32.
  std::vector<std::string> fp32_modules;
  // Time each allow-listed op's distinct shape in f32 and in low precision on this CPU, and
  // keep f32 where it is faster.
  bool measure = true;
  // Low precision is adopted only when measured at least this much faster: a 5% margin
  // keeps timing noise on a busy machine from flipping a product that is really no faster
  // (which would change the arithmetic for nothing and break "never slower than fp32").
  double min_speedup = 1.05;

  nlohmann::json to_json() const;
  // Fields: precision, low_precision_ops, fp32_ops, fp32_modules, measure, min_speedup.
  // Errors name `file`, the field and the value.
  static PrecisionPolicy from_json(const nlohmann::json& j, const std::string& file);
};

// What the pass decided for one allow-listed node.
struct PrecisionDecision {
  int node = -1;          // id in the input graph
  std::string signature;  // op and shapes, e.g. "dot f32[1024,256] x f32[256,256]^T"
  DType chosen = DType::f32;
  double ms_f32 = 0, ms_low = 0;  // measured (0 when not measured)
  std::string reason;
};

struct PrecisionResult {
  std::unique_ptr<Graph> graph;  // a new graph with the same named inputs
  std::vector<Var> outputs;      // same order, dtypes and shapes as the input's outputs
  std::vector<PrecisionDecision> decisions;
  int casts_inserted = 0;
  std::string report() const;  // one line per decision, for logs and FLUXION_DUMP
};

// Rewrites `outputs` of `g` under `policy`. With Precision::fp32 the result is a copy of the
// needed part of the graph. Graph outputs keep their original dtypes (casts are appended).
PrecisionResult apply_precision(const Graph& g, const std::vector<Var>& outputs,
                                const PrecisionPolicy& policy);

// Largest finite value and smallest positive normal of a float dtype: constants such as a
// masking "-infinity" or an epsilon must be chosen per dtype (1e12 overflows f16; 1e-8
// vanishes in it).
double finite_max(DType d);
double smallest_normal(DType d);

}  // namespace fx::amp
