// Complex arithmetic on (re, im) pairs stored in a trailing axis of size 2, the layout
// linear_scan uses. Composites of primitives, so they differentiate for free.
#pragma once
#include "fluxion/api/fx.h"

namespace fx {

Var complex_pair(Var re, Var im);  // same shapes -> [..., 2]
Var real_part(Var z);              // [..., 2] -> [...]
Var imag_part(Var z);
Var conj(Var z);
Var complex_mul(Var x, Var y);  // broadcasting over the leading axes
// sum over every axis of x * conj(y) except the trailing pair, reduced to `shape`
// (numpy broadcasting, as sum_to): the gradient of a broadcast complex coefficient.
Var sum_mul_conj_to(Var x, Var y, const Shape& shape);

}  // namespace fx
