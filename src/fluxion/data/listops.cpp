#include "fluxion/data/listops.h"

#include <algorithm>
#include <numeric>

#include "fluxion/core/error.h"

namespace fx::data {

namespace {

enum : int64_t { kPad = 0, kDigit0 = 1, kMin = 11, kMax = 12, kMed = 13, kSm = 14, kEnd = 15 };

// Appends one tree's tokens; gives up (returns false) once the sequence is longer than
// `cap`, which only rejects trees that would be rejected anyway.
bool gen_tree(SeqRng& rng, int depth, const ListOpsOptions& o, int64_t cap,
              std::vector<int64_t>& out) {
  if ((int64_t)out.size() > cap) return false;
  double r = depth < o.max_depth ? rng.uniform() : 1.0;
  if (r > o.value_p) {
    out.push_back(kDigit0 + rng.below(10));
    return true;
  }
  int nargs = 2 + (int)rng.below(o.max_args - 1);  // randint(2, max_args)
  out.push_back(kMin + rng.below(4));
  for (int i = 0; i < nargs; ++i)
    if (!gen_tree(rng, depth + 1, o, cap, out)) return false;
  out.push_back(kEnd);
  return true;
}

int apply(int64_t op, std::vector<int>& v) {
  switch (op) {
    case kMin:
      return *std::min_element(v.begin(), v.end());
    case kMax:
      return *std::max_element(v.begin(), v.end());
    case kSm:
      return std::accumulate(v.begin(), v.end(), 0) % 10;
    case kMed: {
      std::sort(v.begin(), v.end());
      size_t n = v.size();
      return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;  // int(np.median)
    }
  }
  fail("listops: bad operator token {}", op);
}

int eval_at(const int64_t* t, int64_t len, int64_t& pos) {
  FX_CHECK(pos < len, "listops: expression ends early");
  int64_t tok = t[pos++];
  if (tok >= kDigit0 && tok < kDigit0 + 10) return (int)(tok - kDigit0);
  FX_CHECK(tok >= kMin && tok <= kSm, "listops: unexpected token {} at {}", tok, pos - 1);
  std::vector<int> args;
  while (pos < len && t[pos] != kEnd) args.push_back(eval_at(t, len, pos));
  FX_CHECK(pos < len && !args.empty(), "listops: unterminated or empty list");
  ++pos;  // ]
  return apply(tok, args);
}

}  // namespace

int listops_eval(const int64_t* tokens, int64_t length) {
  int64_t pos = 0;
  int v = eval_at(tokens, length, pos);
  while (pos < length) FX_CHECK(tokens[pos++] == kPad, "listops: tokens after the expression");
  return v;
}

std::string listops_text(const int64_t* tokens, int64_t length) {
  static const char* names[] = {"",  "0", "1", "2",    "3",    "4",    "5",   "6",
                                "7", "8", "9", "[MIN", "[MAX", "[MED", "[SM", "]"};
  std::string s;
  for (int64_t i = 0; i < length && tokens[i] != kPad; ++i) {
    if (!s.empty()) s += ' ';
    s += names[tokens[i]];
  }
  return s;
}

SequenceSet make_listops(int64_t n, uint64_t seed, const ListOpsOptions& o) {
  FX_CHECK(n > 0, "listops: need a positive number of examples, got {}", n);
  FX_CHECK(o.min_length >= 1 && o.min_length <= o.max_length,
           "listops: need 1 <= min_length <= max_length, got {} and {}", o.min_length,
           o.max_length);
  FX_CHECK(o.max_args >= 2 && o.max_depth >= 1, "listops: max_args {} / max_depth {} invalid",
           o.max_args, o.max_depth);
  SeqRng rng(seed);
  SequenceSet s;
  s.vocab = kListOpsVocab;
  s.n_classes = 10;
  s.x = Tensor::zeros({n, o.max_length}, DType::i64);
  s.y = Tensor({n}, DType::i64);
  std::vector<int64_t> seq;
  int64_t tries = 0;
  for (int64_t i = 0; i < n;) {
    FX_CHECK(++tries < 10000 * (n + 100),
             "listops: no trees with lengths in [{}, {}] after {} tries", o.min_length,
             o.max_length, tries);
    seq.clear();
    // A tree always starts with an operator in LRA (a lone digit is not a list).
    if (!gen_tree(rng, 1, o, o.max_length, seq) || seq.size() < 2) continue;
    if ((int64_t)seq.size() < o.min_length || (int64_t)seq.size() > o.max_length) continue;
    std::copy(seq.begin(), seq.end(), s.x.data<int64_t>() + i * o.max_length);
    s.y.data<int64_t>()[i] = listops_eval(seq.data(), (int64_t)seq.size());
    ++i;
  }
  return s;
}

}  // namespace fx::data
