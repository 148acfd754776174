// Keeping the ranks of a data-parallel run the same: a start-up check that every rank has the
// same configuration and data files, rank 0's weights broadcast to all, and a hash of weights
// and optimizer state compared every K steps (a mismatch stops the run naming rank and step).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/dist/communicator.h"

namespace fx::dist {

// 64-bit FNV-1a of bytes, continuing from h.
uint64_t fnv1a(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull);

// config plus, for every string option naming an existing file or folder, its identity
// ("files": {path: "<bytes> bytes, fnv1a <hash>"}; a folder: the same over its files).
nlohmann::json run_identity(const nlohmann::json& config);

// Every rank's identity against rank 0's: throws CollectiveError on all ranks naming the
// first rank that differs and each differing field with both values.
void check_same_run(Communicator& c, const nlohmann::json& identity);

// Rank 0's values of these tensors on every rank (shapes and dtypes must agree already).
void broadcast_tensors(Communicator& c, const std::vector<Tensor*>& tensors,
                       const std::string& what);

// Hash of the tensors' bytes in order.
uint64_t tensors_hash(const std::vector<const Tensor*>& tensors);

// Throws CollectiveError on all ranks if any rank's hash differs from rank 0's, naming the
// ranks and the step.
void check_replicas_agree(Communicator& c, uint64_t hash, int64_t step);

}  // namespace fx::dist
