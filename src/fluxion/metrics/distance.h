// Compatibility header: the point-cloud distances live in sliced_wasserstein.h and mmd.h.
// Always report them beside their floor: the same metric between two independent samples
// of the target of the same size (finite-sample noise).
#pragma once
#include "fluxion/metrics/mmd.h"
#include "fluxion/metrics/sliced_wasserstein.h"
