// glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh mappings and
// unmaps them on free, so every step of an interpreted long-sequence model page-faulted
// in all its large intermediates again (LRU at length 1,024: 6.0 s -> 3.6 s per step with
// this, measured under load). The fluxion process keeps freed memory in its heap instead.
#include <malloc.h>

#include <climits>

#include "commands.h"

namespace fx::cli {

void keep_freed_memory_for_reuse() {
  mallopt(M_MMAP_MAX, 0);              // large blocks from the heap, not fresh mappings
  mallopt(M_TRIM_THRESHOLD, INT_MAX);  // and freed ones stay there for the next step
}

}  // namespace fx::cli
