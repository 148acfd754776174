// The op table's start-up check: every op has a name, a shape rule and consistent traits,
// so a missing codegen rule is an error when the table is built, not a run-time fallback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

OpTable copy_of_table() {
  OpTable t;
  for (int i = 0; i < (int)Op::count; ++i) t.push_back(op_def(Op(i)));
  return t;
}

std::string check_error(const OpTable& t) {
  try {
    check_op_table(t);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(IrOpTable, EveryOpPassesTheStartupCheck) {
  EXPECT_EQ(check_error(copy_of_table()), "");
  for (int i = 0; i < (int)Op::count; ++i) EXPECT_STREQ(op_def(Op(i)).name, op_name(Op(i)));
}

TEST(IrOpTable, ElementwiseOpWithoutCodegenRuleIsAnError) {
  OpTable t = copy_of_table();
  t[(int)Op::sin].codegen = nullptr;
  EXPECT_THAT(check_error(t), AllOf(HasSubstr("sin"), HasSubstr("codegen")));
}

TEST(IrOpTable, ExplicitNoCodegenIsAccepted) {
  OpTable t = copy_of_table();
  t[(int)Op::sin].codegen = &no_codegen;
  EXPECT_EQ(check_error(t), "");
  EXPECT_FALSE(t[(int)Op::sin].has_codegen());
  // Recomputing needs the expression.
  t[(int)Op::sin].cheap_to_recompute = true;
  EXPECT_THAT(check_error(t), AllOf(HasSubstr("sin"), HasSubstr("cheap")));
}

TEST(IrOpTable, MissingOrWrongNameIsAnError) {
  OpTable t = copy_of_table();
  t[(int)Op::gather].name = nullptr;
  EXPECT_THAT(check_error(t), AllOf(HasSubstr("gather"), HasSubstr("no name")));
  t[(int)Op::gather].name = "scatter_add";
  EXPECT_THAT(check_error(t), HasSubstr("gather"));
}

TEST(IrOpTable, InconsistentTraitsAreErrors) {
  OpTable t = copy_of_table();
  t[(int)Op::dot].codegen = op_def(Op::add).codegen;  // not elementwise
  EXPECT_THAT(check_error(t), AllOf(HasSubstr("dot"), HasSubstr("not elementwise")));
  t = copy_of_table();
  t[(int)Op::concat].aliases_input = true;  // variadic
  EXPECT_THAT(check_error(t), HasSubstr("concat"));
  t = copy_of_table();
  t[(int)Op::mul].precision = PrecisionClass::low_precision_product;
  EXPECT_THAT(check_error(t), HasSubstr("mul"));
  t = copy_of_table();
  t[(int)Op::reshape].infer = nullptr;
  EXPECT_THAT(check_error(t), AllOf(HasSubstr("reshape"), HasSubstr("shape rule")));
}

// The traits reproduce the lists they replaced (fusion, simplifier, aliasing, precision).
TEST(IrOpTable, TraitsMatchTheFormerPerPassLists) {
  EXPECT_EQ(op_def(Op::where).elementwise, ElementwiseKind::broadcasting);
  EXPECT_EQ(op_def(Op::logical_not).elementwise, ElementwiseKind::unary);
  EXPECT_EQ(op_def(Op::cast).elementwise, ElementwiseKind::unary);
  EXPECT_EQ(op_def(Op::reduce_sum).elementwise, ElementwiseKind::none);
  EXPECT_TRUE(op_def(Op::reshape).aliases_input);
  EXPECT_TRUE(op_def(Op::stop_gradient).aliases_input);
  EXPECT_FALSE(op_def(Op::permute).aliases_input);
  EXPECT_TRUE(op_def(Op::sigmoid).cheap_to_recompute);
  EXPECT_FALSE(op_def(Op::pow).cheap_to_recompute);  // a libm call
  EXPECT_EQ(ops_with_precision(PrecisionClass::low_precision_product),
            (std::vector<Op>{Op::dot, Op::conv2d, Op::conv2d_backward_data,
                             Op::conv2d_backward_weights}));
  EXPECT_EQ(ops_with_precision(PrecisionClass::keep_f32).size(), 11u);
}

}  // namespace
}  // namespace fx
