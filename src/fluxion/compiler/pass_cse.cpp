// Common-subexpression elimination by value numbering: a node is keyed by its op, attrs
// and the (already deduplicated) ids of its inputs; constants by their bytes.
#include <cstring>
#include <map>
#include <tuple>

#include "fluxion/compiler/passes.h"

namespace fx::compiler {

namespace {

bool same_literal(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

bool same_attrs(const Attrs& a, const Attrs& b) {
  return a.axes == b.axes && a.starts == b.starts && a.limits == b.limits && a.steps == b.steps &&
         a.shape == b.shape && std::memcmp(&a.value, &b.value, sizeof a.value) == 0 &&
         a.dtype == b.dtype && a.keepdims == b.keepdims && a.transpose_a == b.transpose_a &&
         a.transpose_b == b.transpose_b && a.reverse == b.reverse && a.groups == b.groups &&
         a.plain_layout == b.plain_layout && a.name == b.name && same_literal(a.literal, b.literal);
}

uint64_t literal_hash(const Tensor& t) {
  uint64_t h = 1469598103934665603ull;
  if (!t.defined()) return h;
  const auto* c = static_cast<const uint8_t*>(t.raw());
  for (size_t i = 0; i < t.nbytes(); ++i) h = (h ^ c[i]) * 1099511628211ull;
  return h ^ (uint64_t)t.dtype();
}

}  // namespace

Program common_subexpression_elimination(const Program& p) {
  std::vector<char> live = live_nodes(p);
  Rebuilder rb(p);
  // Candidates by (op, new input ids, literal hash); attrs compared on a hit.
  std::map<std::tuple<int, std::vector<int>, uint64_t>, std::vector<int>> seen;  // -> old ids
  for (int i = 0; i < p.size(); ++i) {
    if (!live[i]) continue;
    const Node& n = p.node(i);
    if (n.op == Op::input) {
      rb.copy(i);
      continue;
    }
    std::vector<int> ins;
    for (int in : n.inputs) ins.push_back(rb.var(in).id);
    auto key = std::make_tuple((int)n.op, ins, literal_hash(n.attrs.literal));
    auto& bucket = seen[key];
    int match = -1;
    for (int old : bucket) {
      const Node& m = p.node(old);
      if (m.shape == n.shape && m.dtype == n.dtype && same_attrs(m.attrs, n.attrs)) {
        match = old;
        break;
      }
    }
    if (match >= 0) {
      rb.set(i, rb.var(match));
    } else {
      rb.copy(i);
      bucket.push_back(i);
    }
  }
  return rb.finish();
}

}  // namespace fx::compiler
