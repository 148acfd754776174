#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fluxion/dist/communicator.h"
#include "fluxion/dist/mpi_communicator.h"

namespace fx::dist {

namespace {
std::unique_ptr<Communicator>& world_ptr() {
  static std::unique_ptr<Communicator> w = std::make_unique<LocalCommunicator>();
  return w;
}
}  // namespace

void LocalCommunicator::abort(const std::string& message, int code) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::exit(code);
}

Communicator& world() { return *world_ptr(); }
bool built_with_mpi() { return mpi_available(); }

void init_world(int* argc, char*** argv) {
  // Open MPI's launcher (mpirun/orterun) sets this in every rank's environment.
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!size) return;
  FX_CHECK(mpi_available(),
           "started by mpirun (OMPI_COMM_WORLD_SIZE={}), but this fluxion was built without "
           "MPI: install libopenmpi-dev (scripts/setup.sh does) and rebuild",
           size);
  world_ptr() = make_mpi_communicator(argc, argv);
}

void finalize_world() {
  world().barrier();
  world_ptr() = std::make_unique<LocalCommunicator>();  // the MPI one finalizes
}

int exit_on_error(const std::exception& e, bool collective) {
  Communicator& w = world();
  if (w.size() == 1) {
    std::fprintf(stderr, "fluxion: error: %s\n", e.what());
    return 1;
  }
  if (!collective)
    w.abort(fmt::format("fluxion: error (rank {} of {}): {}", w.rank(), w.size(), e.what()), 1);
  // Every rank has the same error: rank 0 says it once, then all leave together (a rank that
  // left first could get rank 0 killed before it printed).
  if (w.rank() == 0) {
    std::fprintf(stderr, "fluxion: error: %s\n", e.what());
    std::fflush(stderr);
  }
  finalize_world();
  return 1;
}

}  // namespace fx::dist
