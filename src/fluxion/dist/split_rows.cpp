#include "fluxion/dist/split_rows.h"

#include <cstring>

namespace fx::dist {

int64_t rows_of_rank(int64_t n, int rank, int size) { return n / size + (rank < n % size ? 1 : 0); }

uint64_t seed_of_rank(uint64_t seed, int rank) {
  return seed ^ ((uint64_t)rank * 0x9E3779B97F4A7C15ull);
}

Tensor gather_rows(Communicator& c, const Tensor& mine) {
  FX_CHECK(mine.rank() >= 1, "gather_rows: a scalar has no rows");
  std::vector<std::string> parts =
      c.allgather(std::string(static_cast<const char*>(mine.raw()), mine.nbytes()));
  const size_t row_bytes = mine.dim(0) > 0 ? mine.nbytes() / (size_t)mine.dim(0) : 0;
  size_t total = 0;
  for (const std::string& p : parts) total += p.size();
  Shape s = mine.shape();
  FX_CHECK(row_bytes > 0 && total % row_bytes == 0,
           "gather_rows: rank {}'s rows of {} bytes do not divide the {} bytes gathered", c.rank(),
           row_bytes, total);
  s[0] = (int64_t)(total / row_bytes);
  Tensor out(s, mine.dtype());
  size_t at = 0;
  for (const std::string& p : parts) {
    std::memcpy(static_cast<char*>(out.raw()) + at, p.data(), p.size());
    at += p.size();
  }
  return out;
}

}  // namespace fx::dist
