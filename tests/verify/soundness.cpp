// Soundness by sampling (soundness.hpp).
#include "soundness.hpp"

#include <gmpxx.h>

#include <cmath>

#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"
#include "torchlean/verify/engine.hpp"

namespace torchlean::testing {

namespace {

using verify::Box;

double uniform(SplitMix64& rng) { return static_cast<double>(rng.next() >> 11) * 0x1p-53; }

// A point of the box: corners for small inputs (all of them), then random points; in float32
// semantics a binary32 point (rounded inward).
std::vector<std::vector<double>> sample_points(const Box& box, verify::Semantics sem,
                                               SplitMix64& rng, int random_points) {
  const int64_t n = box.size();
  std::vector<std::vector<double>> pts;
  const int64_t corners = n <= 10 ? (int64_t{1} << n) : 64;
  for (int64_t c = 0; c < corners; ++c) {
    std::vector<double> x(n);
    for (int64_t i = 0; i < n; ++i) {
      const bool hi = n <= 10 ? ((c >> i) & 1) : (rng.next() & 1);
      x[i] = hi ? box.hi[i] : box.lo[i];
    }
    pts.push_back(std::move(x));
  }
  for (int k = 0; k < random_points; ++k) {
    std::vector<double> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = box.lo[i] + (box.hi[i] - box.lo[i]) * uniform(rng);
    pts.push_back(std::move(x));
  }
  for (auto& x : pts)
    for (int64_t i = 0; i < n; ++i) {
      x[i] = std::clamp(x[i], box.lo[i], box.hi[i]);
      if (sem == verify::Semantics::float32) {
        float f = static_cast<float>(x[i]);
        if (f < box.lo[i]) f = std::nextafter(f, INFINITY);
        if (f > box.hi[i]) f = std::nextafter(f, -INFINITY);
        x[i] = f;
      }
    }
  return pts;
}

struct Value {
  mpq_class lo, hi;
};

std::vector<std::vector<Value>> evaluate_all(const ir::Graph& g, const ir::Payload& p,
                                             verify::Semantics sem, const std::vector<double>& x) {
  const Shape& in = g.node(g.input_ids[0]).shape;
  std::vector<std::vector<Value>> out;
  if (sem == verify::Semantics::real) {
    std::vector<Exact> v;
    for (double e : x) v.push_back(Exact::from_double(e));
    const Tensor<Exact> t(in, std::move(v));
    for (const auto& node :
         interp::evaluate<Exact>(g, ir::convert_payload<Exact>(p), std::span(&t, 1))) {
      std::vector<Value> vals;
      for (const Exact& e : node.vec()) vals.push_back({e.lo, e.hi});
      out.push_back(std::move(vals));
    }
  } else {
    std::vector<F32> v;
    for (double e : x) v.push_back(F32::from_double(e));
    const Tensor<F32> t(in, std::move(v));
    for (const auto& node :
         interp::evaluate<F32>(g, ir::convert_payload<F32>(p), std::span(&t, 1))) {
      std::vector<Value> vals;
      for (const F32& e : node.vec())
        vals.push_back({mpq_class(static_cast<double>(e.v)), mpq_class(static_cast<double>(e.v))});
      out.push_back(std::move(vals));
    }
  }
  return out;
}

void check_in(SoundnessReport& r, const Value& v, double lo, double hi, const std::string& what) {
  ++r.checks;
  const bool below = std::isfinite(lo) && v.hi < mpq_class(lo);
  const bool above = std::isfinite(hi) && v.lo > mpq_class(hi);
  if (below || above) {
    if (r.violations++ == 0)
      r.first = what + ": value [" + std::to_string(v.lo.get_d()) + ", " +
                std::to_string(v.hi.get_d()) + "] outside [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]";
    return;
  }
  const bool straddle =
      (std::isfinite(lo) && v.lo < mpq_class(lo)) || (std::isfinite(hi) && v.hi > mpq_class(hi));
  if (straddle) ++r.undecided;
}

}  // namespace

Box random_box(int64_t n, uint64_t seed, double r) {
  SplitMix64 rng(seed);
  Box b(n);
  for (int64_t i = 0; i < n; ++i) {
    const float c = static_cast<float>(-2 + 4 * uniform(rng));
    const float w = static_cast<float>(r * uniform(rng));
    b.lo[i] = static_cast<float>(c - w);
    b.hi[i] = static_cast<float>(c + w);
    if (b.lo[i] > b.hi[i]) std::swap(b.lo[i], b.hi[i]);
  }
  return b;
}

SoundnessReport check_soundness(const ir::Graph& g, const ir::Payload& p, verify::Semantics sem,
                                const Box& box, uint64_t seed, int random_points) {
  SplitMix64 rng(seed);
  const verify::BoundEngine eng(g, p, sem);
  const verify::NodeBounds ibp = eng.ibp(box);
  const verify::NodeBounds crown = eng.crown_bounds(box);
  const int64_t out_n = g.node(eng.output_id()).shape.numel();
  const int64_t rows = 3;
  std::vector<double> C(static_cast<size_t>(rows * out_n));
  for (double& c : C) c = std::round((uniform(rng) * 4 - 2) * 8) / 8;  // exact dyadic coefficients
  const std::vector<double> lower = eng.crown_lower(crown, C, rows);
  verify::AlphaSlopes slopes;
  const std::vector<double> alpha = eng.alpha_lower(crown, C, rows, 5, slopes);
  SoundnessReport rep;
  for (const auto& x : sample_points(box, sem, rng, random_points)) {
    const auto vals = evaluate_all(g, p, sem, x);
    for (const ir::Node& n : g.nodes) {
      for (size_t e = 0; e < vals[n.id].size(); ++e) {
        check_in(rep, vals[n.id][e], ibp.boxes[n.id].lo[e], ibp.boxes[n.id].hi[e],
                 "IBP " + n.label() + "[" + std::to_string(e) + "]");
        check_in(rep, vals[n.id][e], crown.boxes[n.id].lo[e], crown.boxes[n.id].hi[e],
                 "CROWN box " + n.label() + "[" + std::to_string(e) + "]");
      }
    }
    const auto& y = vals[eng.output_id()];
    for (int64_t r = 0; r < rows; ++r) {
      Value obj{0, 0};
      for (int64_t o = 0; o < out_n; ++o) {
        const mpq_class c(C[r * out_n + o]);
        obj.lo += c >= 0 ? c * y[o].lo : c * y[o].hi;
        obj.hi += c >= 0 ? c * y[o].hi : c * y[o].lo;
      }
      check_in(rep, obj, lower[r], INFINITY, "CROWN objective " + std::to_string(r));
      check_in(rep, obj, alpha[r], INFINITY, "alpha objective " + std::to_string(r));
    }
  }
  return rep;
}

}  // namespace torchlean::testing
