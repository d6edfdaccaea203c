// The structural checker (level 1), the declared-shape checker (level 2) and their messages.
#include <gtest/gtest.h>

#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::ir {
namespace {

using K = OpKind;

// input (1,4) -> linear (1,3) -> relu (1,3)
Graph mlp() {
  Graph g;
  g.add(K::input, {}, NoAttrs{}, Shape{1, 4});
  g.add(K::linear, {0}, NoAttrs{}, Shape{1, 3});
  g.add(K::relu, {1}, NoAttrs{}, Shape{1, 3});
  g.input_ids = {0};
  g.output_ids = {2};
  return g;
}

// Runs `f`, requires a UserError, and returns its message.
template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UserError thrown";
  return "";
}

#define EXPECT_MESSAGE(expr, substring)                                   \
  do {                                                                    \
    std::string msg_ = user_error([&] { (void)(expr); });                 \
    EXPECT_NE(msg_.find(substring), std::string::npos) << "message: " << msg_; \
  } while (0)

TEST(CheckGraph, AcceptsValidGraphAndReturnsShapes) {
  std::vector<Shape> shapes = check_graph(mlp());
  ASSERT_EQ(shapes.size(), 3u);
  EXPECT_EQ(shapes[0], (Shape{1, 4}));
  EXPECT_EQ(shapes[1], (Shape{1, 3}));
  EXPECT_EQ(shapes[2], (Shape{1, 3}));
}

// A small CNN on one CHW image, every declared shape worked out by hand from the v1 rules
// (conv 3x3 s1 p1 keeps 8x8; 2x2 s2 pooling halves it; 4*4*4 = 64 features).
TEST(CheckGraph, AcceptsCnnChain) {
  Graph g;
  g.add(K::input, {}, NoAttrs{}, Shape{1, 8, 8});
  g.add(K::conv2d, {0}, Conv2dAttrs{1, 4, 3, 3, 1, 1}, Shape{4, 8, 8});
  g.add(K::relu, {1}, NoAttrs{}, Shape{4, 8, 8});
  g.add(K::max_pool2d, {2}, Pool2dAttrs{2, 2, 2}, Shape{4, 4, 4});
  g.add(K::flatten, {3}, FlattenAttrs{Shape{4, 4, 4}}, Shape{64});
  g.add(K::linear, {4}, NoAttrs{}, Shape{10});
  g.add(K::softmax, {5}, AxisAttrs{0}, Shape{10});
  g.input_ids = {0};
  g.output_ids = {6};
  EXPECT_EQ(check_graph(g).back(), (Shape{10}));
}

TEST(CheckGraph, AcceptsSeveralInputsAndRepeatedOutputs) {
  Graph g;
  g.add(K::input, {}, NoAttrs{}, Shape{2, 3});
  g.add(K::input, {}, NoAttrs{}, Shape{3, 4});
  g.add(K::matmul, {0, 1}, NoAttrs{}, Shape{2, 4});
  g.add(K::concat, {2, 2, 2}, AxisAttrs{1}, Shape{2, 12});
  g.input_ids = {1, 0};
  g.output_ids = {3, 2, 3};
  EXPECT_EQ(check_graph(g)[3], (Shape{2, 12}));
}

TEST(CheckStructure, IdMustEqualPosition) {
  Graph g = mlp();
  g.nodes[1].id = 5;
  EXPECT_MESSAGE(check_structure(g), "[linear] node at position 1 has id 5");
}

TEST(CheckStructure, SelfAndForwardParentsAreCycles) {
  Graph g = mlp();
  g.nodes[2].parents = {2};
  EXPECT_MESSAGE(check_structure(g), "[relu] node 2: parent 2 is not an earlier node");
  g = mlp();
  g.nodes[1].parents = {2};
  EXPECT_MESSAGE(check_structure(g), "[linear] node 1: parent 2 is not an earlier node");
  g = mlp();
  g.nodes[1].parents = {-1};
  EXPECT_MESSAGE(check_structure(g), "parent -1 is not an earlier node");
}

TEST(CheckStructure, Arity) {
  Graph g = mlp();
  g.add(K::add, {2}, NoAttrs{}, Shape{1, 3});
  g.output_ids = {3};
  EXPECT_MESSAGE(check_structure(g), "[add] node 3: expected 2 parents, got 1");
  g = mlp();
  g.add(K::concat, {}, AxisAttrs{0}, Shape{1, 3});
  EXPECT_MESSAGE(check_structure(g), "[concat] node 3: expected at least 1 parent, got 0");
  g = mlp();
  g.nodes[0].parents = {};
  g.add(K::rand_uniform, {0}, SeedAttrs{1}, Shape{2});
  EXPECT_MESSAGE(check_structure(g), "[rand_uniform] node 3: expected 0 parents, got 1");
}

TEST(CheckStructure, AttributeType) {
  Graph g = mlp();
  g.nodes[2].attrs = AxisAttrs{0};
  EXPECT_MESSAGE(check_structure(g), "[relu] node 2: attributes are AxisAttrs, expected NoAttrs");
  g = mlp();
  g.add(K::conv2d, {2}, Pool2dAttrs{1, 1, 1}, Shape{1, 3});
  EXPECT_MESSAGE(check_structure(g), "[conv2d] node 3: attributes are Pool2dAttrs, expected Conv2dAttrs");
}

TEST(CheckStructure, InputAndOutputIds) {
  Graph g = mlp();
  g.input_ids = {};
  EXPECT_MESSAGE(check_structure(g), "[graph] input_ids is empty");
  g = mlp();
  g.output_ids = {};
  EXPECT_MESSAGE(check_structure(g), "[graph] output_ids is empty");
  g = mlp();
  g.input_ids = {3};
  EXPECT_MESSAGE(check_structure(g), "[graph] input id 3 out of range (graph has 3 nodes)");
  g = mlp();
  g.input_ids = {0, 1};
  EXPECT_MESSAGE(check_structure(g), "[graph] input id 1 names node 1 (linear), not an input node");
  g = mlp();
  g.input_ids = {0, 0};
  EXPECT_MESSAGE(check_structure(g), "[graph] input id 0 is listed twice");
  g = mlp();
  g.output_ids = {-1};
  EXPECT_MESSAGE(check_structure(g), "[graph] output id -1 out of range");
  g = mlp();
  g.add(K::input, {}, NoAttrs{}, Shape{2});
  EXPECT_MESSAGE(check_structure(g), "[input] node 3: input node is not listed in input_ids [0]");
}

TEST(CheckGraph, DeclaredShapeMismatchNamesNodeOpAndShapes) {
  Graph g = mlp();
  g.nodes[2].shape = Shape{3, 1};
  EXPECT_MESSAGE(check_graph(g),
                 "[relu] node 2: declared shape (3,1) but inferred (1,3) from parent shapes [(1,3)]");
}

TEST(CheckGraph, ShapeRuleErrorsSurfaceFromTheGraph) {
  Graph g;
  g.add(K::input, {}, NoAttrs{}, Shape{1, 2, 2});
  g.add(K::max_pool2d, {0}, Pool2dAttrs{3, 3, 1}, Shape{1, 0, 0});
  g.input_ids = {0};
  g.output_ids = {1};
  EXPECT_MESSAGE(check_graph(g),
                 "[max_pool2d] node 1: window 3x3 (stride 1, padding 0) does not fit input (1,2,2)");
}

TEST(CheckGraph, StructureIsCheckedBeforeShapes) {
  Graph g = mlp();
  g.nodes[1].shape = Shape{9, 9};  // a level-2 error on node 1 ...
  g.nodes[2].parents = {1, 1};     // ... and a level-1 error on node 2: level 1 wins
  EXPECT_MESSAGE(check_graph(g), "[relu] node 2: expected 1 parent, got 2");
}

}  // namespace
}  // namespace torchlean::ir
