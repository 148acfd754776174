// The compiler's unit of work: a graph plus the ids of its outputs. Passes are functions
// Program -> Program that rebuild the graph (the IR is append-only SSA), so every pass is
// a pure transform that can be dumped, diffed and unit-tested on its own.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fluxion/ir/graph.h"

namespace fx::compiler {

// How far apart, in nodes, a value and a reader count as "far" (forward and backward
// pass): the rematerialisation pass recomputes values for readers this far away, and
// fusion does not pull such a reader back into the value's kernel.
constexpr int kLateReaderDistance = 48;

struct Program {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  std::vector<int> outputs;

  Program() = default;
  Program(const Graph& g, const std::vector<Var>& outs);  // copies g
  Program(Program&&) = default;
  Program& operator=(Program&&) = default;

  const Node& node(int id) const { return graph->node(id); }
  int size() const { return graph->size(); }
  // The listing FLUXION_DUMP writes: the graph, then the outputs.
  std::string dump() const;
};

// Builds a new program node by node from an old one. map(old) gives the new id of an old
// node already emitted; copy() re-adds an old node with mapped inputs (shape rules rerun,
// so a rewrite that breaks a shape throws at once, naming the op).
class Rebuilder {
 public:
  explicit Rebuilder(const Program& src);
  Var copy(int old_id);  // same op and attrs, inputs mapped
  void set(int old_id, Var v) { map_[old_id] = v.id; }
  bool has(int old_id) const { return map_[old_id] >= 0; }
  Var var(int old_id) const { return Var{dst_.graph.get(), map_[old_id]}; }
  Graph& graph() { return *dst_.graph; }
  // Finishes: outputs mapped; returns the new program.
  Program finish();

 private:
  const Program& src_;
  Program dst_;
  std::vector<int> map_;
};

// Nodes the outputs depend on (by id), in id order: the live set every pass starts from.
std::vector<char> live_nodes(const Program& p);

// A local rewrite pass: every live node but inputs and constants goes through
// rule(node, its inputs as already rewritten), which returns its replacement, or an invalid
// Var to keep the node as it is. Replaced nodes are left behind for DCE.
using RewriteRule = std::function<Var(const Node& n, const std::vector<Var>& in)>;
Program rewrite_nodes(const Program& p, const RewriteRule& rule);

// Structural hash: ops, attrs, shapes, dtypes, constant bytes, input names and outputs.
// Two graphs with the same hash compile to the same executable (the cache key).
uint64_t structural_hash(const Program& p);

// Counts of nodes by op ("add": 12, ...), for tests and the pass log.
int count_op(const Program& p, Op op);

}  // namespace fx::compiler
