// Splitting row-wise work (sampling n points or images) over the ranks and putting the
// pieces back in rank order.
#pragma once
#include <cstdint>

#include "fluxion/core/tensor.h"
#include "fluxion/dist/communicator.h"

namespace fx::dist {

// Rows of n that rank r draws: n / size, plus one for the first n % size ranks.
int64_t rows_of_rank(int64_t n, int rank, int size);
// The seed of rank r's share: seed itself for rank 0, so one rank draws what a plain run does.
uint64_t seed_of_rank(uint64_t seed, int rank);
// Every rank's rows (same trailing shape and dtype), concatenated in rank order, on every rank.
Tensor gather_rows(Communicator& c, const Tensor& mine);

}  // namespace fx::dist
