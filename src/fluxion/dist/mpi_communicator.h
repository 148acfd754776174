// The MPI implementation of dist::Communicator (MPI_COMM_WORLD). Only this file's .cpp sees
// mpi.h: CMake compiles it with FLUXION_HAVE_MPI when find_package(MPI) succeeds.
#pragma once
#include <memory>

#include "fluxion/dist/communicator.h"

namespace fx::dist {

// False in a build without MPI (make_mpi_communicator then returns null).
bool mpi_available();
// Calls MPI_Init_thread (funneled: only the main thread calls MPI, OpenMP threads never do).
std::unique_ptr<Communicator> make_mpi_communicator(int* argc, char*** argv);

}  // namespace fx::dist
