// Data-parallel tracing: while a rank traces its part of a training step (optim::Trainer over
// several ranks), a random draw whose leading dimension is the rank's batch rows is drawn for
// the whole global batch and sliced to the rank's rows. N ranks then use exactly the random
// numbers one process would (Philox draws depend on the element index, philox.h), so a
// 2-rank run trains on the same samples and noise as a 1-rank run.
#pragma once
#include <cstdint>

#include "fluxion/ir/graph.h"

namespace fx {

struct RowShard {
  int64_t rows = 0;   // this rank's rows
  int64_t start = 0;  // first row of this rank in the global batch
  int64_t total = 0;  // rows of the global batch
};

// Active for graph g while it lives (tracing only; draws made later are not sharded).
class ScopedRowShard {
 public:
  ScopedRowShard(const Graph& g, RowShard shard);
  ~ScopedRowShard();
  ScopedRowShard(const ScopedRowShard&) = delete;
  ScopedRowShard& operator=(const ScopedRowShard&) = delete;

 private:
  const Graph* previous_graph_;
  RowShard previous_;
};

// The shard active for g, or null.
const RowShard* active_row_shard(const Graph& g);

}  // namespace fx
