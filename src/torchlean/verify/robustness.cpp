// Robustness certification (robustness.hpp).
#include "torchlean/verify/robustness.hpp"

#include <chrono>
#include <cmath>

#include "torchlean/core/error.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"
#include "torchlean/verify/rounding.hpp"

namespace torchlean::verify {

namespace {

double q_down(const mpq_class& q) {
  double d = q.get_d();
  if (mpq_class(d) > q) d = std::nextafter(d, -kInf);
  return d;
}
double q_up(const mpq_class& q) {
  double d = q.get_d();
  if (mpq_class(d) < q) d = std::nextafter(d, kInf);
  return d;
}

template <class S>
int64_t argmax_of(const Tensor<S>& y) {
  int64_t best = 0;
  for (int64_t i = 1; i < y.numel(); ++i) {
    if constexpr (S::is_exact) {
      if (y[i].lo + y[i].hi > y[best].lo + y[best].hi) best = i;
    } else {
      if (y[i].v > y[best].v) best = i;
    }
  }
  return best;
}

}  // namespace

std::string method_name(Method m) {
  switch (m) {
    case Method::ibp:
      return "ibp";
    case Method::crown:
      return "crown";
    case Method::alpha:
      return "alpha";
  }
  return "?";
}

Method parse_method(const std::string& name) {
  if (name == "ibp") return Method::ibp;
  if (name == "crown") return Method::crown;
  if (name == "alpha") return Method::alpha;
  throw UserError("method: expected ibp, crown or alpha, got '" + name + "'");
}

Box region_box(const std::vector<double>& x, const RobustnessConfig& cfg) {
  if (cfg.eps < 0) throw UserError("eps: must be >= 0, got " + cfg.eps.get_str());
  const double eps_up = q_up(cfg.eps);
  Box b(static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]))
      throw UserError("region: input element " + std::to_string(i) + " is not finite");
    b.lo[i] = sub_down(x[i], eps_up);
    b.hi[i] = add_up(x[i], eps_up);
    if (cfg.clip) {
      b.lo[i] = std::max(b.lo[i], q_down(cfg.clip->first));
      b.hi[i] = std::min(b.hi[i], q_up(cfg.clip->second));
      if (b.lo[i] > b.hi[i])
        throw UserError("region: input element " + std::to_string(i) + " = " +
                        std::to_string(x[i]) + " is more than eps outside the clip box");
    }
  }
  return b;
}

RobustnessVerifier::RobustnessVerifier(const ir::Graph& g, const ir::Payload& payload,
                                       Semantics sem)
    : g_(g), payload_(payload), engine_(g, payload, sem) {}

int64_t RobustnessVerifier::predict(const std::vector<double>& x) const {
  const Shape& in = g_.node(g_.input_ids[0]).shape;
  if (engine_.semantics() == Semantics::real) {
    // The outward-rounded IBP enclosure of the point decides the argmax unless two logits are
    // within rounding of each other; only then is the (slow) exact evaluation needed. Ties go to
    // the first maximiser, as in argmax_of, so the decision demands strict separation.
    Box point(static_cast<int64_t>(x.size()));
    point.lo = x;
    point.hi = x;
    const NodeBounds nb = engine_.ibp(point);
    const Box& y = nb.boxes[engine_.output_id()];
    int64_t best = 0;
    for (int64_t i = 1; i < y.size(); ++i)
      if (y.lo[i] > y.lo[best]) best = i;
    bool decided = true;
    for (int64_t i = 0; i < y.size(); ++i) decided = decided && (i == best || y.hi[i] < y.lo[best]);
    if (decided) return best;
    std::vector<Exact> v;
    for (double e : x) v.push_back(Exact::from_double(e));
    const Tensor<Exact> t(in, std::move(v));
    const auto ys =
        interp::evaluate_outputs<Exact>(g_, ir::convert_payload<Exact>(payload_), std::span(&t, 1));
    return argmax_of(ys[0]);
  }
  std::vector<F32> v;
  for (double e : x) v.push_back(F32::from_double(e));
  const Tensor<F32> t(in, std::move(v));
  const auto ys =
      interp::evaluate_outputs<F32>(g_, ir::convert_payload<F32>(payload_), std::span(&t, 1));
  return argmax_of(ys[0]);
}

ExampleResult RobustnessVerifier::certify(int64_t index, const std::vector<double>& x,
                                          int64_t label, const RobustnessConfig& cfg) const {
  const auto start = std::chrono::steady_clock::now();
  const int64_t classes = g_.node(engine_.output_id()).shape.numel();
  if (label < 0 || label >= classes)
    throw UserError("certify: example " + std::to_string(index) + " has label " +
                    std::to_string(label) + " but the model has " + std::to_string(classes) +
                    " outputs");
  ExampleResult res;
  res.index = index;
  res.label = label;
  res.x = x;
  res.prediction = predict(x);
  const Box box = region_box(x, cfg);
  std::vector<int64_t> others;
  for (int64_t j = 0; j < classes; ++j)
    if (j != label) others.push_back(j);
  const int64_t rows = static_cast<int64_t>(others.size());
  std::vector<double> lower(static_cast<size_t>(rows));
  if (cfg.method == Method::ibp) {
    const NodeBounds nb = engine_.ibp(box);
    const Box& y = nb.boxes[engine_.output_id()];
    for (int64_t r = 0; r < rows; ++r) lower[r] = sub_down(y.lo[label], y.hi[others[r]]);
  } else {
    const NodeBounds nb = engine_.crown_bounds(box);
    std::vector<double> C(static_cast<size_t>(rows * classes), 0.0);
    for (int64_t r = 0; r < rows; ++r) C[r * classes + label] = 1, C[r * classes + others[r]] = -1;
    AlphaSlopes slopes;
    if (cfg.method == Method::crown) {
      lower = engine_.crown_lower(nb, C, rows);
      slopes = engine_.default_alpha(nb, rows);
    } else {
      lower = engine_.alpha_lower(nb, C, rows, cfg.alpha_iterations, slopes);
    }
    // Back-substitution with the adaptive slope can lose to the interval margin (a hand-derived
    // case is in tests/verify/test_engine.cpp); both are sound, so keep the larger: the logit
    // box here is IBP over the CROWN-tightened pre-activations, never looser than plain IBP.
    const Box& y = nb.boxes[engine_.output_id()];
    for (int64_t r = 0; r < rows; ++r)
      lower[r] = std::max(lower[r], sub_down(y.lo[label], y.hi[others[r]]));
    for (const auto& [id, a] : slopes) {
      ReluLayerClaim layer;
      layer.node = id;
      const Box& pre = nb.boxes[g_.node(id).parents[0]];
      layer.lower = pre.lo;
      layer.upper = pre.hi;
      const size_t n = pre.lo.size();
      for (int64_t r = 0; r < rows; ++r)
        layer.alpha[others[r]] = std::vector<double>(a.begin() + r * n, a.begin() + (r + 1) * n);
      res.layers.push_back(std::move(layer));
    }
  }
  res.certified = res.prediction == label;
  for (int64_t r = 0; r < rows; ++r) {
    res.margins.push_back({others[r], lower[r]});
    res.certified = res.certified && lower[r] > 0;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace torchlean::verify
