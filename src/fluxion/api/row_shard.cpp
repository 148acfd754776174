#include "fluxion/api/row_shard.h"

namespace fx {

namespace {
thread_local const Graph* shard_graph = nullptr;
thread_local RowShard shard;
}  // namespace

ScopedRowShard::ScopedRowShard(const Graph& g, RowShard s)
    : previous_graph_(shard_graph), previous_(shard) {
  shard_graph = &g;
  shard = s;
}

ScopedRowShard::~ScopedRowShard() {
  shard_graph = previous_graph_;
  shard = previous_;
}

const RowShard* active_row_shard(const Graph& g) {
  return shard_graph == &g && shard.total > shard.rows ? &shard : nullptr;
}

}  // namespace fx
