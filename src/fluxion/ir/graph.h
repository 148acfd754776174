// A Graph is an append-only SSA list of Nodes: a node's inputs always come before it,
// so the node order is a valid schedule. Var is the front end's handle to one value.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "fluxion/ir/op.h"

namespace fx {

class Graph;

struct Var {
  Graph* graph = nullptr;
  int id = -1;

  bool valid() const { return graph != nullptr && id >= 0; }
  const Node& node() const;
  // By value: a reference into the graph's node storage would dangle as soon as another
  // node is appended (VJPs and composites read a shape, then add nodes).
  Shape shape() const { return node().shape; }
  DType dtype() const { return node().dtype; }
  int rank() const { return (int)node().shape.size(); }
  int64_t dim(int i) const;
  int64_t numel() const { return fx::numel(node().shape); }
};

class Graph {
 public:
  // Appends a node after checking its inputs and computing its shape and dtype with
  // the op's rule; a rule violation throws fx::Error naming the op and the shapes.
  Var add(Op op, std::vector<Var> inputs, Attrs attrs = {});

  // A named feed (parameter, batch tensor, optimizer state, RNG key, hyperparameter).
  Var input(const std::string& name, Shape shape, DType dtype = DType::f32);
  Var constant(Tensor value);
  Var scalar(double value, DType dtype = DType::f32);

  const Node& node(int id) const { return nodes_.at(id); }
  int size() const { return (int)nodes_.size(); }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int>& input_ids() const { return inputs_; }
  Var find_input(const std::string& name);  // throws if absent
  bool has_input(const std::string& name) const { return input_by_name_.count(name) > 0; }

  // Sets Attrs::plain_layout on conv2d node `id` (runtime/plain_pointwise_convs.h); the one
  // change to an existing node: it picks a kernel, never a value's shape or dtype.
  void set_plain_layout(int id);

  // Human-readable listing, one node per line (the form FLUXION_DUMP writes).
  std::string dump() const;

 private:
  std::vector<Node> nodes_;
  std::vector<int> inputs_;
  std::unordered_map<std::string, int> input_by_name_;
};

std::string node_str(const Graph& g, int id);

}  // namespace fx
