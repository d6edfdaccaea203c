// Payload slot rules and the payload checker's messages.
#include <gtest/gtest.h>

#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::ir {
namespace {

using K = OpKind;

// 0 input (1,4,4) -> 1 conv2d 1->2 3x3 p1 (2,4,4) -> 2 const (2,4,4) -> 3 add -> 4 flatten (32)
// -> 5 linear (3) -> 6 relu; plus 7 input (2,2,1,1) -> 8 batch_norm (2 channels).
Graph model() {
  Graph g;
  g.add(K::input, {}, NoAttrs{}, Shape{1, 4, 4});
  g.add(K::conv2d, {0}, Conv2dAttrs{1, 2, 3, 3, 1, 1}, Shape{2, 4, 4});
  g.add(K::constant, {}, ConstAttrs{Shape{2, 4, 4}}, Shape{2, 4, 4});
  g.add(K::add, {1, 2}, NoAttrs{}, Shape{2, 4, 4});
  g.add(K::flatten, {3}, FlattenAttrs{Shape{2, 4, 4}}, Shape{32});
  g.add(K::linear, {4}, NoAttrs{}, Shape{3});
  g.add(K::relu, {5}, NoAttrs{}, Shape{3});
  g.add(K::input, {}, NoAttrs{}, Shape{2, 2, 1, 1});
  g.add(K::batch_norm2d_nchw_eval, {7}, BatchNormAttrs{2}, Shape{2, 2, 1, 1});
  g.input_ids = {0, 7};
  g.output_ids = {6, 8};
  return g;
}

template <class S>
void put(PayloadStore<S>& p, int64_t id, const std::string& name, Shape s) {
  p[id].insert_or_assign(name, Tensor<S>(std::move(s)));
}

template <class S>
PayloadStore<S> full_payload() {
  PayloadStore<S> p;
  put(p, 1, "weight", {2, 1, 3, 3});
  put(p, 1, "bias", {2});
  put(p, 2, "value", {2, 4, 4});
  put(p, 5, "weight", {3, 32});
  put(p, 5, "bias", {3});
  for (const char* slot : {"gamma", "beta", "mean", "var"}) put(p, 8, slot, {2});
  put(p, 8, "eps", {});
  return p;
}

std::string payload_error(const Graph& g, const Payload& p) {
  try {
    check_payload(g, p);
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "payload accepted";
  return "";
}

TEST(PayloadSlots, ShapesFollowTheNode) {
  Graph g = model();
  auto slots = [&](int64_t id) {
    std::string out;
    for (const PayloadSlot& s : payload_slots(g, g.node(id))) out += s.name + s.shape.str() + " ";
    return out;
  };
  EXPECT_EQ(slots(1), "weight(2,1,3,3) bias(2) ");  // OIHW
  EXPECT_EQ(slots(2), "value(2,4,4) ");
  EXPECT_EQ(slots(5), "weight(3,32) bias(3) ");     // W is (out, in)
  EXPECT_EQ(slots(8), "gamma(2) beta(2) mean(2) var(2) eps() ");
  EXPECT_EQ(slots(6), "");
  EXPECT_EQ(parameterised_nodes(g), (std::vector<int64_t>{1, 2, 5, 8}));
}

TEST(PayloadSlots, LinearOnBatchedInputUsesLastDims) {
  Graph g;
  g.add(K::input, {}, NoAttrs{}, Shape{2, 7, 3});
  g.add(K::linear, {0}, NoAttrs{}, Shape{2, 7, 8});
  std::vector<PayloadSlot> s = payload_slots(g, g.node(1));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].shape, (Shape{8, 3}));
  EXPECT_EQ(s[1].shape, (Shape{8}));
}

TEST(CheckPayload, AcceptsCompletePayloadInAnyDomain) {
  EXPECT_NO_THROW(check_payload(model(), full_payload<double>()));
  EXPECT_NO_THROW(check_payload(model(), full_payload<float>()));
}

TEST(CheckPayload, MissingSlotOrNode) {
  Payload p = full_payload<double>();
  p[5].erase("weight");
  EXPECT_EQ(payload_error(model(), p), "[linear] node 5: missing payload 'weight'");
  p = full_payload<double>();
  p.erase(8);
  EXPECT_EQ(payload_error(model(), p), "[batch_norm2d_nchw_eval] node 8: missing payload 'gamma'");
}

TEST(CheckPayload, WrongShape) {
  Payload p = full_payload<double>();
  put(p, 5, "weight", {32, 3});  // transposed
  EXPECT_EQ(payload_error(model(), p),
            "[linear] node 5: payload 'weight' has shape (32,3), expected (3,32)");
  p = full_payload<double>();
  put(p, 8, "eps", {1});
  EXPECT_EQ(payload_error(model(), p),
            "[batch_norm2d_nchw_eval] node 8: payload 'eps' has shape (1), expected ()");
  p = full_payload<double>();
  put(p, 1, "weight", {2, 1, 3, 2});
  EXPECT_EQ(payload_error(model(), p),
            "[conv2d] node 1: payload 'weight' has shape (2,1,3,2), expected (2,1,3,3)");
  p = full_payload<double>();
  put(p, 2, "value", {32});
  EXPECT_EQ(payload_error(model(), p),
            "[const] node 2: payload 'value' has shape (32), expected (2,4,4)");
}

TEST(CheckPayload, StrayPayload) {
  Payload p = full_payload<double>();
  put(p, 9, "value", {1});
  EXPECT_EQ(payload_error(model(), p),
            "[payload] payload for node 9, which does not exist (graph has 9 nodes)");
  p = full_payload<double>();
  put(p, 6, "weight", {3});
  EXPECT_EQ(payload_error(model(), p),
            "[relu] node 6: has payload 'weight' but the op takes no parameters");
  p = full_payload<double>();
  put(p, 5, "gamma", {3});
  EXPECT_EQ(payload_error(model(), p),
            "[linear] node 5: unexpected payload 'gamma' (3) (the op takes 'weight', 'bias')");
}

TEST(CheckPayload, ChecksTheGraphFirst) {
  Graph g = model();
  g.nodes[6].shape = Shape{4};
  EXPECT_EQ(payload_error(g, full_payload<double>()),
            "[relu] node 6: declared shape (4) but inferred (3) from parent shapes [(3)]");
}

}  // namespace
}  // namespace torchlean::ir
