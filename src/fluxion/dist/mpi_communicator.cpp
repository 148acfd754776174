#include "fluxion/dist/mpi_communicator.h"

#ifdef FLUXION_HAVE_MPI
#include <mpi.h>

#include <climits>
#include <cstdio>

namespace fx::dist {

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail("{} failed: {}", what, std::string(text, len));
}

int count_of(size_t n, const char* what) {
  FX_CHECK(n <= (size_t)INT_MAX, "{}: {} elements exceed MPI's int count", what, n);
  return (int)n;
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  void allreduce_sum(std::span<float> buf) override {
    check(MPI_Allreduce(MPI_IN_PLACE, buf.data(), count_of(buf.size(), "allreduce"), MPI_FLOAT,
                        MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void allreduce_sum(std::span<double> buf) override {
    check(MPI_Allreduce(MPI_IN_PLACE, buf.data(), count_of(buf.size(), "allreduce"), MPI_DOUBLE,
                        MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void broadcast(std::string& bytes, int root) override {
    unsigned long long n = bytes.size();
    check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
    bytes.resize(n);
    check(MPI_Bcast(bytes.data(), count_of(n, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD),
          "MPI_Bcast");
  }
  std::vector<std::string> allgather(const std::string& bytes) override {
    int mine = count_of(bytes.size(), "allgather");
    std::vector<int> lens(size_), offsets(size_);
    check(MPI_Allgather(&mine, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD),
          "MPI_Allgather");
    size_t total = 0;
    for (int r = 0; r < size_; ++r) offsets[r] = count_of(total, "allgather"), total += lens[r];
    std::string all(total, '\0');
    check(MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, all.data(), lens.data(), offsets.data(),
                         MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> out(size_);
    for (int r = 0; r < size_; ++r) out[r] = all.substr(offsets[r], lens[r]);
    return out;
  }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  [[noreturn]] void abort(const std::string& message, int code) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool mpi_available() { return true; }

std::unique_ptr<Communicator> make_mpi_communicator(int* argc, char*** argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (checked above) instead of killing the job without a message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::make_unique<MpiCommunicator>();
}

}  // namespace fx::dist

#else

namespace fx::dist {
bool mpi_available() { return false; }
std::unique_ptr<Communicator> make_mpi_communicator(int*, char***) { return nullptr; }
}  // namespace fx::dist

#endif
