#include "fluxion/api/row_shard.h"

namespace fx {

namespace {
thread_local const Graph* active_graph = nullptr;
thread_local RowShard active_shard;
}  // namespace

ScopedRowShard::ScopedRowShard(const Graph& g, RowShard s)
    : previous_graph_(active_graph), previous_(active_shard) {
  active_graph = &g;
  active_shard = s;
}

ScopedRowShard::~ScopedRowShard() {
  active_graph = previous_graph_;
  active_shard = previous_;
}

const RowShard* active_row_shard(const Graph& g) {
  return active_graph == &g && active_shard.total > active_shard.rows ? &active_shard : nullptr;
}

}  // namespace fx
