// Rematerialisation for memory (compiler/pass_remat.cpp): big cheap values read far later
// are recomputed there from values live anyway, and never from a value that would
// otherwise die; the compiled step keeps the interpreter's bits; scan checkpointing
// (recompute_scans) gives the same training bits in less memory.
#include <gtest/gtest.h>

#include <cstring>

#include "fluxion/api/fx.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/compiler/passes.h"
#include "lru_test_util.h"

namespace fx::optest::compiler_remat {

using namespace fx::compiler;

namespace {

// A value far after `from` (a stand-in for the rest of a forward and backward pass).
Var far_after(Var from) {
  Var z = from;
  for (int i = 0; i < 40; ++i) z = cos(z) * 0.5;
  return z;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST(CompilerRemat, RecomputesACheapValueForItsLateReader) {
  Graph g;
  Var x = g.input("x", {256, 256}), w = g.input("w", {256, 256});
  Var a = sigmoid(x) * x;  // SiLU of an input: recomputable from x alone
  Var late = far_after(dot(a, w)) * a;
  Program p(g, {late});
  Program q = rematerialize_for_memory(p);
  EXPECT_EQ(count_op(q, Op::sigmoid), 2);
  // The late multiply reads the clone, made after the long chain.
  const Node& out = q.node(q.outputs[0]);
  EXPECT_GT(out.inputs[1], out.inputs[0]);

  Feeds feeds{{"x", random_tensor({256, 256}, 1, DType::f32)},
              {"w", random_tensor({256, 256}, 2, DType::f32)}};
  Tensor compiled = compile(g, {late})->run(feeds)[0];
  Tensor interpreted = evaluate(std::vector<Var>{late}, feeds)[0];
  EXPECT_TRUE(same_bits(compiled, interpreted));
}

TEST(CompilerRemat, NeverKeepsAValueAliveThatWouldDie) {
  Graph g;
  Var x = g.input("x", {256, 256}), w = g.input("w", {256, 256});
  Var d = dot(x, w);
  Var s = sigmoid(d);  // recomputing it late would need d, which dies after this
  Var late = far_after(dot(s, w)) * s;
  Program p(g, {late});
  EXPECT_EQ(count_op(rematerialize_for_memory(p), Op::sigmoid), 1);

  // When d is read late anyway, s is recomputed from it.
  Graph h;
  Var x2 = h.input("x", {256, 256}), w2 = h.input("w", {256, 256});
  Var d2 = dot(x2, w2);
  Var s2 = sigmoid(d2);
  Var late2 = far_after(dot(s2, w2)) * s2 + d2;
  EXPECT_EQ(count_op(rematerialize_for_memory(Program(h, {late2})), Op::sigmoid), 2);
}

TEST(CompilerRemat, LeavesSmallAndNearValuesAlone) {
  Graph g;
  Var x = g.input("x", {64, 64});  // 4096 elements: below min_elements
  Var a = sigmoid(x) * x;
  Var late = far_after(a) * a;
  EXPECT_EQ(count_op(rematerialize_for_memory(Program(g, {late})), Op::sigmoid), 1);
  Graph h;
  Var y = h.input("y", {256, 256});
  Var b = sigmoid(y) * y;
  Var near = exp(exp(b)) * b;  // a reader a few nodes later
  EXPECT_EQ(count_op(rematerialize_for_memory(Program(h, {near})), Op::sigmoid), 1);
}

// Scan checkpointing on an LRU classifier big enough for the pass (65,536-element states):
// the same parameters after a few Adam steps, bit for bit, in less planned memory.
TEST(CompilerRemat, ScanCheckpointingTrainsTheSameBitsInLessMemory) {
  auto train = [](bool recompute_scans) {
    optim::TrainerOptions o;
    o.compile = true;
    o.recompute_scans = recompute_scans;
    nn::LRUConfig lru{.d_model = 32, .d_state = 16, .r_min = 0.9, .r_max = 0.999};
    return train_small_lru(lru, 3, /*batch=*/8, /*length=*/256, 3, o, false);
  };
  LruTrainRun plain = train(false), checkpointed = train(true);
  EXPECT_EQ(plain.values, checkpointed.values);
  EXPECT_LT(checkpointed.peak_bytes, plain.peak_bytes);
}

}  // namespace fx::optest::compiler_remat
