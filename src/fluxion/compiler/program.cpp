#include "fluxion/compiler/program.h"

#include <cstring>

#include "fluxion/core/error.h"

namespace fx::compiler {

Program::Program(const Graph& g, const std::vector<Var>& outs) : graph(std::make_unique<Graph>(g)) {
  for (const Var& v : outs) {
    FX_CHECK(v.graph == &g, "compile: output %{} belongs to another graph", v.id);
    outputs.push_back(v.id);
  }
}

std::string Program::dump() const {
  std::string s = graph->dump();
  s += "outputs:";
  for (int o : outputs) s += fmt::format(" %{}", o);
  return s + "\n";
}

Rebuilder::Rebuilder(const Program& src) : src_(src), map_(src.size(), -1) {}

Var Rebuilder::copy(int old_id) {
  const Node& n = src_.node(old_id);
  Graph& g = *dst_.graph;
  Var v;
  if (n.op == Op::input) {
    v = g.input(n.attrs.name, n.shape, n.dtype);
  } else {
    std::vector<Var> ins;
    for (int in : n.inputs) {
      FX_CHECK(map_[in] >= 0, "compiler: %{} used before it was rebuilt", in);
      ins.push_back(Var{&g, map_[in]});
    }
    v = g.add(n.op, std::move(ins), n.attrs);
  }
  map_[old_id] = v.id;
  return v;
}

Program Rebuilder::finish() {
  for (int o : src_.outputs) {
    FX_CHECK(map_[o] >= 0, "compiler: output %{} was dropped by a pass", o);
    dst_.outputs.push_back(map_[o]);
  }
  return std::move(dst_);
}

std::vector<char> live_nodes(const Program& p) {
  std::vector<char> live(p.size(), 0);
  for (int o : p.outputs) live[o] = 1;
  for (int i = p.size() - 1; i >= 0; --i)
    if (live[i])
      for (int in : p.node(i).inputs) live[in] = 1;
  return live;
}

Program rewrite_nodes(const Program& p, const RewriteRule& rule) {
  std::vector<char> live = live_nodes(p);
  Rebuilder rb(p);
  std::vector<Var> in;
  for (int i = 0; i < p.size(); ++i) {
    if (!live[i]) continue;
    const Node& n = p.node(i);
    if (n.op == Op::input || n.op == Op::constant) {
      rb.copy(i);
      continue;
    }
    in.clear();
    for (int k : n.inputs) in.push_back(rb.var(k));
    Var v = rule(n, in);
    if (v.valid())
      rb.set(i, v);
    else
      rb.copy(i);
  }
  return rb.finish();
}

namespace {
struct Hasher {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bit
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
  }
  void i64(int64_t v) { bytes(&v, sizeof v); }
  void vec(const std::vector<int64_t>& v) {
    i64((int64_t)v.size());
    for (int64_t x : v) i64(x);
  }
  void str(const std::string& s) {
    i64((int64_t)s.size());
    bytes(s.data(), s.size());
  }
};
}  // namespace

uint64_t structural_hash(const Program& p) {
  Hasher h;
  for (int i = 0; i < p.size(); ++i) {
    const Node& n = p.node(i);
    const Attrs& a = n.attrs;
    h.i64((int64_t)n.op);
    h.vec(std::vector<int64_t>(n.inputs.begin(), n.inputs.end()));
    h.vec(n.shape);
    h.i64((int64_t)n.dtype);
    h.vec(a.axes);
    h.vec(a.starts);
    h.vec(a.limits);
    h.vec(a.steps);
    h.vec(a.shape);
    h.bytes(&a.value, sizeof a.value);
    h.i64((int64_t)a.dtype);
    h.i64(a.keepdims | (a.transpose_a << 1) | (a.transpose_b << 2) | (a.reverse << 3) |
          (a.plain_layout << 4));
    h.i64(a.groups);
    h.str(a.name);
    if (a.literal.defined()) {
      h.vec(a.literal.shape());
      h.i64((int64_t)a.literal.dtype());
      h.bytes(a.literal.raw(), a.literal.nbytes());
    }
  }
  h.vec(std::vector<int64_t>(p.outputs.begin(), p.outputs.end()));
  return h.h;
}

int count_op(const Program& p, Op op) {
  std::vector<char> live = live_nodes(p);
  int c = 0;
  for (int i = 0; i < p.size(); ++i) c += live[i] && p.node(i).op == op;
  return c;
}

}  // namespace fx::compiler
