// The vocabulary of the bound engines: the two target semantics, per-node boxes, and the
// linearisation an op rule hands to CROWN (an exact affine map, an elementwise relaxation, or
// "use my box").
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace torchlean::verify {

// What the bounds enclose: the real-valued network (payload as stored, exact real arithmetic), or
// the binary32 execution of the exact-order runtime (payload rounded to binary32, every op's
// rounding modelled). docs/verification.md states the rounding model.
enum class Semantics { real, float32 };
std::string semantics_name(Semantics s);
Semantics parse_semantics(const std::string& name);  // UserError for anything else

// An enclosure of every element of one node's value (row-major): lo[i] <= value[i] <= hi[i].
struct Box {
  std::vector<double> lo, hi;
  Box() = default;
  explicit Box(int64_t n) : lo(static_cast<size_t>(n), 0.0), hi(static_cast<size_t>(n), 0.0) {}
  int64_t size() const { return static_cast<int64_t>(lo.size()); }
};

// One term of an affine map: coef * parent[index], where the real coefficient lies in
// [coef - rad, coef + rad] (rad > 0 only when the coefficient itself is irrational, e.g.
// batchnorm's gamma / sqrt(var + eps) in real semantics).
struct AffineTerm {
  int32_t parent;  // position in the node's parent list
  int64_t index;   // element of that parent
  double coef;
  double rad;
};

// y[o] = sum of row o's terms + c[o] + delta[o], with c[o] in [c_lo[o], c_hi[o]] and |delta[o]|
// <= err[o] (err: the binary32 rounding of the op in float32 semantics, 0 in real semantics).
// Parents that do not depend on the network input are folded into the coefficients and c.
struct AffineMap {
  std::vector<int64_t> row_start;  // size outputs + 1
  std::vector<AffineTerm> terms;
  std::vector<double> c_lo, c_hi, err;
  int64_t outputs() const { return static_cast<int64_t>(c_lo.size()); }
};

// Elementwise relaxation of y = f(x) over the parent's box, per element i:
//   ls[i] x + lt[i] - err[i] <= y <= us[i] x + ut[i] + err[i]   for every x in the box,
// rigorous (slopes are any doubles; intercepts were computed so that the lines are sound).
// `alpha_lo` marks relu-like ops whose lower line may be replaced by y >= a x for any a in
// [alpha_lo, 1] on unstable elements (lo < 0 < hi); `unstable` lists those elements.
struct Relaxation {
  std::vector<double> ls, lt, us, ut, err;
  bool relu_like = false;
  double alpha_lo = 0;
  std::vector<uint8_t> unstable;
};

// No linear relaxation: CROWN uses the node's box (constant bounds) at this node.
struct UseBox {};

using Linearization = std::variant<AffineMap, Relaxation, UseBox>;

// Linear bound coefficients on a node: rows objectives x cols elements, with a per-entry radius
// (the exact coefficient lies within coef +- rad; rounding is paid for when the node is reached).
struct CoefMat {
  int64_t rows = 0, cols = 0;
  std::vector<double> a, rad;
  CoefMat() = default;
  CoefMat(int64_t r, int64_t c)
      : rows(r),
        cols(c),
        a(static_cast<size_t>(r * c), 0.0),
        rad(static_cast<size_t>(r * c), 0.0) {}
};

}  // namespace torchlean::verify
