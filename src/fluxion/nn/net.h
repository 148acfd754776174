// A module mapping one tensor to one tensor (an MLP, a DCGAN generator or discriminator): what
// a GAN or a ratio classifier needs to know of its network, so that the same training code
// runs points through MLPs and images through convolutions.
#pragma once
#include "fluxion/nn/module.h"

namespace fx::nn {

class Net : public Module {
 public:
  virtual Var operator()(Var x) const = 0;
};

}  // namespace fx::nn
