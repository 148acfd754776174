// The processes of a data-parallel job and the few collectives training needs. One
// interface, two implementations: a single process (LocalCommunicator) and MPI ranks
// (mpi_communicator.cpp, built when CMake finds MPI). A GPU backend would add a third whose
// allreduce is NCCL's (docs/distributed.md).
//   dist::Communicator& w = dist::world();
//   w.allreduce_sum(grads);      // every rank gets the sum
#pragma once
#include <span>
#include <string>
#include <vector>

#include "fluxion/core/error.h"

namespace fx::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "local" or "mpi"
  // Element-wise sum over all ranks, in place; every rank gets the result.
  virtual void allreduce_sum(std::span<float> buf) = 0;
  virtual void allreduce_sum(std::span<double> buf) = 0;
  // Root's bytes on every rank (resized on the others).
  virtual void broadcast(std::string& bytes, int root = 0) = 0;
  // Every rank's bytes, in rank order, on every rank (lengths may differ).
  virtual std::vector<std::string> allgather(const std::string& bytes) = 0;
  virtual void barrier() = 0;
  // Stops every rank of the job (a rank-local failure, so that no rank waits forever).
  [[noreturn]] virtual void abort(const std::string& message, int code) = 0;
};

// One process: the collectives are identities.
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  void allreduce_sum(std::span<float>) override {}
  void allreduce_sum(std::span<double>) override {}
  void broadcast(std::string&, int) override {}
  std::vector<std::string> allgather(const std::string& bytes) override { return {bytes}; }
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message, int code) override;
};

// An error every rank raises at the same point from the same data (a config mismatch found
// by an allgather, a batch not divisible by the rank count): rank 0 alone reports it.
struct CollectiveError : Error {
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void fail_all(fmt::format_string<Args...> f, Args&&... args) {
  throw CollectiveError(fmt::format(f, std::forward<Args>(args)...));
}

// The job this process belongs to: MPI ranks when started by mpirun (Open MPI sets
// OMPI_COMM_WORLD_SIZE; init_world() then calls MPI_Init), else one LocalCommunicator.
Communicator& world();
bool built_with_mpi();
// Call once at the start of main(). Started by mpirun in a build without MPI: throws.
void init_world(int* argc, char*** argv);
// Call at a normal exit (MPI_Finalize).
void finalize_world();
// How main() ends on an fx::Error: prints it (rank 0 only for a CollectiveError, with the
// rank otherwise) and returns the exit code; a rank-local error in a job of several ranks
// aborts the job instead of returning.
int exit_on_error(const std::exception& e, bool collective);

}  // namespace fx::dist
