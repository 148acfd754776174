// Elementwise primitives: shape rule (numpy broadcasting), dtype rule (operands must
// agree; comparisons give bool) and VJPs. Broadcast operands get their cotangent summed
// back to their own shape with sum_to.
#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {

using In = std::vector<const Node*>;
using V = std::vector<Var>;

void unary_float_rule(Node& n, const In& in) {
  FX_CHECK(is_float(in[0]->dtype), "{}: needs a floating input, got {}{}", op_name(n.op),
           dtype_name(in[0]->dtype), shape_str(in[0]->shape));
  n.shape = in[0]->shape;
  n.dtype = in[0]->dtype;
}

void unary_numeric_rule(Node& n, const In& in) {
  FX_CHECK(in[0]->dtype != DType::boolean, "{}: bool input", op_name(n.op));
  n.shape = in[0]->shape;
  n.dtype = in[0]->dtype;
}

Shape broadcast_rule(const Node& n, const Node& a, const Node& b) {
  Shape out;
  FX_CHECK(broadcast_shapes(a.shape, b.shape, &out), "{}: shapes {} and {} do not broadcast",
           op_name(n.op), shape_str(a.shape), shape_str(b.shape));
  return out;
}

void binary_rule(Node& n, const In& in) {
  n.shape = broadcast_rule(n, *in[0], *in[1]);
  FX_CHECK(in[0]->dtype == in[1]->dtype, "{}: dtypes differ: {}{} vs {}{}", op_name(n.op),
           dtype_name(in[0]->dtype), shape_str(in[0]->shape), dtype_name(in[1]->dtype),
           shape_str(in[1]->shape));
  FX_CHECK(in[0]->dtype != DType::boolean, "{}: bool operands (use logical_and/or)", op_name(n.op));
  n.dtype = in[0]->dtype;
}

void float_binary_rule(Node& n, const In& in) {
  binary_rule(n, in);
  FX_CHECK(is_float(n.dtype), "{}: needs floating operands, got {}", op_name(n.op),
           dtype_name(n.dtype));
}

void compare_rule(Node& n, const In& in) {
  n.shape = broadcast_rule(n, *in[0], *in[1]);
  FX_CHECK(in[0]->dtype == in[1]->dtype, "{}: dtypes differ: {}{} vs {}{}", op_name(n.op),
           dtype_name(in[0]->dtype), shape_str(in[0]->shape), dtype_name(in[1]->dtype),
           shape_str(in[1]->shape));
  n.dtype = DType::boolean;
}

void logical_rule(Node& n, const In& in) {
  for (const Node* x : in)
    FX_CHECK(x->dtype == DType::boolean, "{}: needs bool operands, got {}", op_name(n.op),
             dtype_name(x->dtype));
  n.shape = in.size() == 1 ? in[0]->shape : broadcast_rule(n, *in[0], *in[1]);
  n.dtype = DType::boolean;
}

OpDef unary(const char* name, std::function<V(const VjpArgs&)> vjp) {
  return {name, 1, unary_float_rule, std::move(vjp)};
}

Var half(Var like) { return scalar_like(like, 0.5); }

using E = const ExprArgs&;
std::string call(const char* f, E e) { return std::string(f) + "(" + e.a[0] + ")"; }
// f32 math goes through backend/cpu/vector_math.h's polynomials, as the reference kernels do.
std::string call(const char* f32_fn, const char* f64_fn, E e) {
  return call(e.f32 ? f32_fn : f64_fn, e);
}
std::string infix(const char* op, E e) { return e.a[0] + " " + op + " " + e.a[1]; }
// NaN in either operand propagates (as a + b), as the reference kernels do.
std::string select(const char* cmp, E e) {
  return fmt::format("({0} != {0} || {1} != {1}) ? {0} + {1} : ({0} {2} {1} ? {0} : {1})", e.a[0],
                     e.a[1], cmp);
}

// Per elementwise op: its kind, whether fusion may recompute it, its precision class and
// its codegen expression (the reference kernels' math, so fused results are bit-identical).
struct Traits {
  Op op;
  ElementwiseKind kind;
  bool cheap;
  PrecisionClass precision;
  ExprRule expr;
};
constexpr auto U = ElementwiseKind::unary, B = ElementwiseKind::broadcasting;
constexpr auto F = PrecisionClass::follow_inputs, K = PrecisionClass::keep_f32;

const Traits kTraits[] = {
    {Op::neg, U, true, F, [](E e) { return "-" + e.a[0]; }},
    {Op::exp, U, true, K, [](E e) { return call("fast_exp", "std::exp", e); }},
    {Op::log, U, true, K, [](E e) { return call("fast_log", "std::log", e); }},
    {Op::sin, U, false, K, [](E e) { return call("std::sin", e); }},
    {Op::cos, U, false, K, [](E e) { return call("std::cos", e); }},
    {Op::tanh, U, true, F, [](E e) { return call("fast_tanh", "std::tanh", e); }},
    {Op::sqrt, U, true, K, [](E e) { return call("std::sqrt", e); }},
    {Op::rsqrt, U, true, K,
     [](E e) { return fmt::format("({0})1 / std::sqrt({1})", e.T, e.a[0]); }},
    {Op::abs, U, true, F,
     [](E e) {
       return e.f32 ? call("std::fabs", e) : fmt::format("({0} < 0 ? -{0} : {0})", e.a[0]);
     }},
    {Op::sign, U, true, F,
     [](E e) { return fmt::format("({0})(({1} > 0) - ({1} < 0))", e.T, e.a[0]); }},
    {Op::sigmoid, U, true, F,
     [](E e) {
       return e.f32 ? call("fast_sigmoid", e) : "1.0 / (1.0 + std::exp(-" + e.a[0] + "))";
     }},
    // Cheap in f32: fast_erf is a vectorised rational approximation, as tanh is.
    {Op::erf, U, true, K, [](E e) { return call("fast_erf", "std::erf", e); }},
    {Op::floor, U, false, F, [](E e) { return call("std::floor", e); }},
    {Op::logical_not, U, true, F, [](E e) { return "!" + e.a[0]; }},
    {Op::add, B, true, F, [](E e) { return infix("+", e); }},
    {Op::sub, B, true, F, [](E e) { return infix("-", e); }},
    {Op::mul, B, true, F, [](E e) { return infix("*", e); }},
    {Op::div, B, true, K, [](E e) { return infix("/", e); }},
    {Op::pow, B, false, K, [](E e) { return "std::pow(" + e.a[0] + ", " + e.a[1] + ")"; }},
    {Op::maximum, B, true, F, [](E e) { return select(">", e); }},
    {Op::minimum, B, true, F, [](E e) { return select("<", e); }},
    {Op::lt, B, true, F, [](E e) { return infix("<", e); }},
    {Op::le, B, true, F, [](E e) { return infix("<=", e); }},
    {Op::gt, B, true, F, [](E e) { return infix(">", e); }},
    {Op::ge, B, true, F, [](E e) { return infix(">=", e); }},
    {Op::eq, B, true, F, [](E e) { return infix("==", e); }},
    {Op::ne, B, true, F, [](E e) { return infix("!=", e); }},
    {Op::logical_and, B, true, F, [](E e) { return infix("&&", e); }},
    {Op::logical_or, B, true, F, [](E e) { return infix("||", e); }},
    {Op::where, B, true, F, [](E e) { return e.a[0] + " ? " + e.a[1] + " : " + e.a[2]; }},
    {Op::cast, U, true, F,
     [](E e) { return e.node.dtype == DType::boolean ? e.a[0] + " != 0" : e.a[0]; }},
    {Op::stop_gradient, U, true, F, [](E e) { return e.a[0]; }},
};

}  // namespace

void register_elementwise_ops(OpTable& t) {
  t[(int)Op::neg] = {"neg", 1, unary_numeric_rule, [](const VjpArgs& a) -> V { return {-a.g}; }};
  t[(int)Op::exp] = unary("exp", [](const VjpArgs& a) -> V { return {a.g * a.out}; });
  t[(int)Op::log] = unary("log", [](const VjpArgs& a) -> V { return {a.g / a.in[0]}; });
  t[(int)Op::sin] = unary("sin", [](const VjpArgs& a) -> V { return {a.g * cos(a.in[0])}; });
  t[(int)Op::cos] = unary("cos", [](const VjpArgs& a) -> V { return {-(a.g * sin(a.in[0]))}; });
  t[(int)Op::tanh] =
      unary("tanh", [](const VjpArgs& a) -> V { return {a.g * (1.0 - a.out * a.out)}; });
  t[(int)Op::sqrt] =
      unary("sqrt", [](const VjpArgs& a) -> V { return {a.g * half(a.out) / a.out}; });
  t[(int)Op::rsqrt] =
      unary("rsqrt", [](const VjpArgs& a) -> V { return {a.g * (a.out * a.out * a.out) * -0.5}; });
  t[(int)Op::abs] = {"abs", 1, unary_numeric_rule,
                     [](const VjpArgs& a) -> V { return {a.g * sign(a.in[0])}; }};
  t[(int)Op::sign] = {"sign", 1, unary_numeric_rule, nullptr, true};
  t[(int)Op::sigmoid] =
      unary("sigmoid", [](const VjpArgs& a) -> V { return {a.g * a.out * (1.0 - a.out)}; });
  t[(int)Op::erf] = unary("erf", [](const VjpArgs& a) -> V {
    return {a.g * exp(-(a.in[0] * a.in[0])) * (2.0 / std::sqrt(M_PI))};
  });
  t[(int)Op::floor] = {"floor", 1, unary_float_rule, nullptr, true};
  t[(int)Op::logical_not] = {"logical_not", 1, logical_rule, nullptr, true};

  auto shp = [](const VjpArgs& a, int i) -> Shape { return a.in[i].shape(); };
  t[(int)Op::add] = {"add", 2, binary_rule, [shp](const VjpArgs& a) -> V {
                       return {sum_to(a.g, shp(a, 0)), sum_to(a.g, shp(a, 1))};
                     }};
  t[(int)Op::sub] = {"sub", 2, binary_rule, [shp](const VjpArgs& a) -> V {
                       return {sum_to(a.g, shp(a, 0)), sum_to(-a.g, shp(a, 1))};
                     }};
  t[(int)Op::mul] = {"mul", 2, binary_rule, [shp](const VjpArgs& a) -> V {
                       return {sum_to(a.g * a.in[1], shp(a, 0)), sum_to(a.g * a.in[0], shp(a, 1))};
                     }};
  t[(int)Op::div] = {"div", 2, binary_rule, [shp](const VjpArgs& a) -> V {
                       Var ga = a.g / a.in[1];
                       return {sum_to(ga, shp(a, 0)), sum_to(-(ga * a.out), shp(a, 1))};
                     }};
  // d/da a^b = b a^(b-1); d/db a^b = a^b log a (taken as 0 where a == 0, as PyTorch does).
  t[(int)Op::pow] = {
      "pow", 2, float_binary_rule, [shp](const VjpArgs& a) -> V {
        Var x = a.in[0], y = a.in[1];
        Var da = a.g * y * pow(x, y - 1.0);
        Var zero = zeros_like(a.out);
        Var logx = log(where(eq(x, scalar_like(x, 0.0)), ones_like(x), x));
        Var db = a.g * a.out * broadcast_to(logx, a.out.shape());
        return {sum_to(da, shp(a, 0)),
                sum_to(where(eq(broadcast_to(x, a.out.shape()), zero), zero, db), shp(a, 1))};
      }};
  // Ties split the gradient evenly, as torch.maximum/minimum do.
  auto minmax_vjp = [shp](bool is_max) {
    return [shp, is_max](const VjpArgs& a) -> V {
      Var x = a.in[0], y = a.in[1];
      Var pick_x = is_max ? gt(x, y) : lt(x, y);
      Var tie = eq(x, y);
      Var g = a.g, zero = zeros_like(a.g), hg = a.g * 0.5;
      Var gx = where(tie, hg, where(pick_x, g, zero));
      Var gy = where(tie, hg, where(pick_x, zero, g));
      return {sum_to(gx, shp(a, 0)), sum_to(gy, shp(a, 1))};
    };
  };
  t[(int)Op::maximum] = {"maximum", 2, binary_rule, minmax_vjp(true)};
  t[(int)Op::minimum] = {"minimum", 2, binary_rule, minmax_vjp(false)};
  for (Op op : {Op::lt, Op::le, Op::gt, Op::ge, Op::eq, Op::ne})
    t[(int)op] = {op_name(op), 2, compare_rule, nullptr, true};
  for (Op op : {Op::logical_and, Op::logical_or})
    t[(int)op] = {op_name(op), 2, logical_rule, nullptr, true};

  t[(int)Op::where] = {
      "where", 3,
      [](Node& n, const In& in) {
        FX_CHECK(in[0]->dtype == DType::boolean, "where: condition must be bool, got {}",
                 dtype_name(in[0]->dtype));
        FX_CHECK(in[1]->dtype == in[2]->dtype, "where: branch dtypes differ: {}{} vs {}{}",
                 dtype_name(in[1]->dtype), shape_str(in[1]->shape), dtype_name(in[2]->dtype),
                 shape_str(in[2]->shape));
        Shape ab, out;
        FX_CHECK(broadcast_shapes(in[1]->shape, in[2]->shape, &ab) &&
                     broadcast_shapes(in[0]->shape, ab, &out),
                 "where: shapes {}, {}, {} do not broadcast", shape_str(in[0]->shape),
                 shape_str(in[1]->shape), shape_str(in[2]->shape));
        n.shape = out;
        n.dtype = in[1]->dtype;
      },
      [shp](const VjpArgs& a) -> V {
        Var zero = zeros_like(a.g);
        return {Var{}, sum_to(where(a.in[0], a.g, zero), shp(a, 1)),
                sum_to(where(a.in[0], zero, a.g), shp(a, 2))};
      }};

  t[(int)Op::cast] = {"cast", 1,
                      [](Node& n, const In& in) {
                        n.shape = in[0]->shape;
                        n.dtype = n.attrs.dtype;
                      },
                      [](const VjpArgs& a) -> V {
                        if (!is_float(a.in[0].dtype())) return {Var{}};
                        return {cast(a.g, a.in[0].dtype())};
                      }};
  t[(int)Op::stop_gradient] = {"stop_gradient", 1,
                               [](Node& n, const In& in) {
                                 n.shape = in[0]->shape;
                                 n.dtype = in[0]->dtype;
                               },
                               nullptr, true};
  t[(int)Op::stop_gradient].aliases_input = true;  // a gradient barrier only: no copy

  for (const Traits& tr : kTraits) {
    OpDef& d = t[(int)tr.op];
    d.elementwise = tr.kind;
    d.cheap_to_recompute = tr.cheap;
    d.precision = tr.precision;
    d.codegen = tr.expr;
  }
}

}  // namespace fx
