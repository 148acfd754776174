// ListOps as generated for Long Range Arena (Tay et al. 2020, lra_benchmarks/data/
// listops.py): nested lists of operations on single digits, e.g. [MAX 4 3 [MIN 2 3 ] 1 0 ]
// -> 4. Trees are drawn as in LRA (a node is a digit with probability 1 - value_p unless at
// max depth, else an operator over 2..max_args sub-trees), and kept when their token count
// lies in [min_length, max_length]. Operators: MIN, MAX, MED (int(np.median): the floor of
// the mean of the two middle values for even counts), SM (sum mod 10). 10 classes.
//
// Tokens: 0 = pad, 1..10 = digits 0..9, 11 = [MIN, 12 = [MAX, 13 = [MED, 14 = [SM, 15 = ].
// LRA's text also has "(" and ")" from Python's tuple printing; they carry no information
// and are left out. Sequences are right-padded with 0 to max_length.
#pragma once
#include <string>

#include "fluxion/data/sequence_set.h"

namespace fx::data {

struct ListOpsOptions {
  int64_t min_length = 500;
  int64_t max_length = 2000;
  int max_depth = 10;
  int max_args = 10;
  double value_p = 0.25;  // LRA's VALUE_P: probability of an operator node
};

inline constexpr int64_t kListOpsVocab = 16;

SequenceSet make_listops(int64_t n, uint64_t seed, const ListOpsOptions& o = {});
// "[MAX 4 3 ] " style text of a token row (padding dropped), for messages and tests.
std::string listops_text(const int64_t* tokens, int64_t length);
// Evaluates a token row (the reference the labels come from); throws on malformed input.
int listops_eval(const int64_t* tokens, int64_t length);

}  // namespace fx::data
