// The checking algorithm (docs/certificates.md, "Checking"): hashes, then per example the region,
// the clean prediction, the claimed intermediate bounds in node order, and the margin claims.
// A claim is accepted iff one of the checker's exact sound bounds (one affine step over IBP boxes,
// or CROWN with the certificate's slopes) proves it.
#include "torchlean/cert/checker.hpp"

#include <map>

#include "torchlean/cert/bounds.hpp"
#include "torchlean/cert/exact_vec.hpp"
#include "torchlean/cert/json_read.hpp"
#include "torchlean/cert/net.hpp"
#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/ir/model_hash.hpp"
#include "torchlean/ops/semantics.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::cert {

namespace {

// "-0.0123 (= -123/10000)": the nearest double, and the exact value when it is short.
std::string show(const mpq_class& q) {
  std::string out = detail::show(q.get_d());
  std::string exact = q.get_str();
  if (exact.size() <= 48 && exact != out) out += " (= " + exact + ")";
  return out;
}

// argmax (first maximum) of values known to lie in [lo, hi]; nullopt when the enclosures do not
// decide it.
std::optional<int64_t> decided_argmax(const std::vector<mpq_class>& lo,
                                      const std::vector<mpq_class>& hi) {
  for (size_t j = 0; j < lo.size(); ++j) {
    bool wins = true;
    for (size_t k = 0; k < lo.size() && wins; ++k) {
      if (k == j) continue;
      wins = k < j ? lo[j] > hi[k] : lo[j] >= hi[k];
    }
    if (wins) return static_cast<int64_t>(j);
  }
  return std::nullopt;
}

// The binary32 logits at x in the F32 reference semantics.
std::vector<double> f32_logits(const ir::Graph& g, const ir::PayloadStore<F32>& payload,
                               const std::vector<double>& x, int64_t input, int64_t output) {
  static const std::map<std::string, Tensor<F32>> kNoPayload;
  std::vector<Tensor<F32>> values(g.nodes.size());
  std::vector<F32> xs;
  for (double v : x) xs.push_back(F32::from_double(v));
  values[static_cast<size_t>(input)] = Tensor<F32>(g.node(input).shape, std::move(xs));
  std::vector<const Tensor<F32>*> parents;
  for (const ir::Node& n : g.nodes) {
    if (n.id > output) break;
    if (n.kind == ir::OpKind::input) continue;
    parents.clear();
    for (int64_t p : n.parents) parents.push_back(&values[static_cast<size_t>(p)]);
    auto it = payload.find(n.id);
    ops::EvalArgs<F32> args{n, parents, it == payload.end() ? kNoPayload : it->second};
    values[static_cast<size_t>(n.id)] = ops::eval_node(args);
  }
  std::vector<double> out;
  for (const F32& v : values[static_cast<size_t>(output)].vec()) out.push_back(v.to_double());
  return out;
}

class Checker {
 public:
  Checker(const Certificate& c, const ir::Graph& g, const ir::Payload& p)
      : cert_(c), g_(g), net_(prepare_net(g, p, c.semantics)), engine_(net_) {
    if (c.semantics == CertSemantics::float32) f32_payload_ = ir::convert_payload<F32>(p);
  }

  void check_example(size_t ei, CheckReport& report) {
    const ExampleClaim& e = cert_.examples[ei];
    where_ = "example " + std::to_string(ei) + " (index " + std::to_string(e.index) + ")";
    const int64_t classes = g_.node(net_.output).shape.numel();
    if (e.label >= classes)
      reject("label " + std::to_string(e.label) + " is not a class of the " +
             std::to_string(classes) + " outputs");
    check_prediction(e);
    ExampleBounds b = region_bounds(e);
    check_layers(e, b, report);
    check_margins(e, classes, b, report);
  }

 private:
  [[noreturn]] void reject(const std::string& what) const { throw Reject{where_ + ": " + what}; }

  ExampleBounds empty_bounds() const {
    ExampleBounds b;
    const size_t n = g_.nodes.size();
    b.box.resize(n);
    b.err.resize(n);
    b.relu_l.resize(n);
    b.relu_u.resize(n);
    b.alpha.assign(n, nullptr);
    return b;
  }

  void check_prediction(const ExampleClaim& e) {
    std::optional<int64_t> pred;
    if (cert_.semantics == CertSemantics::float32) {
      std::vector<double> logits = f32_logits(g_, f32_payload_, e.x, net_.input, net_.output);
      std::vector<mpq_class> q;
      for (double v : logits) {
        if (std::isnan(v)) reject("the binary32 logits contain NaN");
        q.push_back(std::isinf(v) ? mpq_class(v > 0 ? 1 : -1) * pow2(200) : exact_of(v));
      }
      pred = decided_argmax(q, q);
      if (!pred) reject("the model has no outputs to predict");
    } else {
      ExampleBounds b = empty_bounds();
      std::vector<mpq_class> x;
      for (double v : e.x) x.push_back(exact_of(v));
      b.box[static_cast<size_t>(net_.input)] = make_box(x, x);
      for (int64_t id = 0; id <= net_.output; ++id)
        if (id != net_.input) engine_.forward_node(id, b);
      const auto& ob = b.box[static_cast<size_t>(net_.output)];
      if (!ob) throw Reject{net_.nodes[static_cast<size_t>(net_.output)].unsupported};
      pred = decided_argmax(to_mpq(ob->lo), to_mpq(ob->hi));
      if (!pred) reject("the exact enclosure of the logits at x does not decide the prediction");
    }
    if (*pred != e.prediction)
      reject("prediction " + std::to_string(e.prediction) + " but the argmax at x in " +
             semantics_name(cert_.semantics) + " semantics is " + std::to_string(*pred));
  }

  ExampleBounds region_bounds(const ExampleClaim& e) {
    ExampleBounds b = empty_bounds();
    std::vector<mpq_class> lo, hi;
    lo.reserve(e.x.size());
    hi.reserve(e.x.size());
    for (size_t i = 0; i < e.x.size(); ++i) {
      mpq_class x = exact_of(e.x[i]);
      mpq_class l = x - cert_.eps, h = x + cert_.eps;
      if (cert_.clip) {
        if (l < cert_.clip->first) l = cert_.clip->first;
        if (h > cert_.clip->second) h = cert_.clip->second;
      }
      if (l > h) reject("x[" + std::to_string(i) + "] is farther than eps outside the clip range");
      lo.push_back(std::move(l));
      hi.push_back(std::move(h));
    }
    b.box[static_cast<size_t>(net_.input)] = make_box(lo, hi);
    return b;
  }

  // Forward IBP in node order; at the input of each claimed relu node, checks the claim (IBP
  // first, CROWN for the neurons IBP does not prove) and then relaxes that relu over the claim.
  void check_layers(const ExampleClaim& e, ExampleBounds& b, CheckReport& report) {
    std::map<int64_t, std::vector<const LayerClaim*>> by_input;
    std::map<int64_t, const LayerClaim*> by_node;
    for (const LayerClaim& l : e.layers) {
      if (l.node < 0 || l.node >= static_cast<int64_t>(g_.nodes.size()) ||
          net_.nodes[static_cast<size_t>(l.node)].role != NodeRole::relu)
        reject("relaxation layer node " + std::to_string(l.node) +
               " is not a relu/leaky_relu node");
      if (!by_node.emplace(l.node, &l).second)
        reject("relaxation layer node " + std::to_string(l.node) + " is listed twice");
      const int64_t in = g_.node(l.node).parents[0];
      if (static_cast<int64_t>(l.lower.size()) != g_.node(in).shape.numel())
        reject("relaxation layer node " + std::to_string(l.node) + " has " +
               std::to_string(l.lower.size()) + " bounds for an input of " +
               std::to_string(g_.node(in).shape.numel()) + " elements");
      by_input[in].push_back(&l);
      b.alpha[static_cast<size_t>(l.node)] = &l.alpha;
    }
    for (int64_t id = 0; id <= net_.output; ++id) {
      if (id != net_.input) engine_.forward_node(id, b);
      if (auto it = by_node.find(id); it != by_node.end()) {  // relax over the claim
        std::vector<mpq_class> l, u;
        for (size_t i = 0; i < it->second->lower.size(); ++i) {
          l.push_back(exact_of(it->second->lower[i]));
          u.push_back(exact_of(it->second->upper[i]));
        }
        b.relu_l[static_cast<size_t>(id)] = std::move(l);
        b.relu_u[static_cast<size_t>(id)] = std::move(u);
      }
      auto it = by_input.find(id);
      if (it == by_input.end()) continue;
      auto& box = b.box[static_cast<size_t>(id)];
      if (!box) throw Reject{net_.nodes[static_cast<size_t>(id)].unsupported};
      std::vector<mpq_class> lo = to_mpq(box->lo), hi = to_mpq(box->hi);
      for (const LayerClaim* claim : it->second) {
        for (size_t i = 0; i < claim->lower.size(); ++i) {
          const mpq_class cl = exact_of(claim->lower[i]), cu = exact_of(claim->upper[i]);
          SVec unit(claim->lower.size());
          if (lo[i] < cl) {
            unit.num[i] = 1;
            mpq_class crown = engine_.crown_lower(id, unit, std::nullopt, b);
            if (crown < cl)
              reject("claimed lower bound " + show(cl) + " of node " + std::to_string(id) + "[" +
                     std::to_string(i) + "] (input of relu node " + std::to_string(claim->node) +
                     ") is above the exact bound " + show(crown > lo[i] ? crown : lo[i]));
          }
          if (hi[i] > cu) {
            unit.num[i] = -1;
            mpq_class crown = -engine_.crown_lower(id, unit, std::nullopt, b);
            if (crown > cu)
              reject("claimed upper bound " + show(cu) + " of node " + std::to_string(id) + "[" +
                     std::to_string(i) + "] (input of relu node " + std::to_string(claim->node) +
                     ") is below the exact bound " + show(crown < hi[i] ? crown : hi[i]));
          }
          // Both enclosures are sound: keep their intersection for later boxes.
          if (cl > lo[i]) lo[i] = cl;
          if (cu < hi[i]) hi[i] = cu;
          ++report.layer_bounds_checked;
        }
      }
      box = make_box(lo, hi);
    }
  }

  void check_margins(const ExampleClaim& e, int64_t classes, const ExampleBounds& b,
                     CheckReport& report) {
    std::map<int64_t, mpq_class> claimed;
    for (const MarginClaim& m : e.margins) {
      if (m.cls >= classes || m.cls == e.label)
        reject("margin class " + std::to_string(m.cls) + " is not a class other than the label");
      if (!claimed.emplace(m.cls, exact_of(m.lower)).second)
        reject("margin class " + std::to_string(m.cls) + " is listed twice");
    }
    for (const auto& [cls, lower] : claimed) {
      SVec lam(static_cast<size_t>(classes));
      lam.num[static_cast<size_t>(e.label)] = 1;
      lam.num[static_cast<size_t>(cls)] = -1;
      mpq_class bound = engine_.box_lower(net_.output, lam, b);
      if (bound < lower && cert_.method != CertMethod::ibp) {
        mpq_class crown = engine_.crown_lower(net_.output, lam, cls, b);
        if (crown > bound) bound = crown;
      }
      if (bound < lower)
        reject("class " + std::to_string(cls) + ": claimed lower bound " + show(lower) +
               " of logit[" + std::to_string(e.label) + "] - logit[" + std::to_string(cls) +
               "] but the exact " + method_name(cert_.method) + " bound is " + show(bound));
      ++report.margins_checked;
    }
    if (e.certified) {
      for (int64_t j = 0; j < classes; ++j) {
        if (j == e.label) continue;
        auto it = claimed.find(j);
        if (it == claimed.end())
          reject("certified, but class " + std::to_string(j) + " has no margin");
        if (sgn(it->second) <= 0)
          reject("certified, but the margin against class " + std::to_string(j) + " is " +
                 show(it->second) + " (must be > 0)");
      }
      ++report.certified;
    }
  }

  const Certificate& cert_;
  const ir::Graph& g_;
  Net net_;
  BoundEngine engine_;
  ir::PayloadStore<F32> f32_payload_;
  std::string where_;
};

}  // namespace

CheckReport check_certificate(const Certificate& cert, const ir::Graph& g, const ir::Payload& p,
                              const CheckOptions& options) {
  CheckReport report;
  try {
    const std::string model = ir::model_sha256_hex(g, p);
    if (model != cert.model_sha256)
      throw Reject{"model hash mismatch: the certificate is for " + cert.model_sha256 +
                   ", the model is " + model};
    const std::string spec = spec_sha256_hex(cert.spec());
    if (spec != cert.spec_sha256)
      throw Reject{"spec hash mismatch: the certificate states " + cert.spec_sha256 +
                   ", its eps, clip and examples hash to " + spec};
    if (options.expected_spec_sha256 && *options.expected_spec_sha256 != spec)
      throw Reject{"spec hash mismatch: expected " + *options.expected_spec_sha256 +
                   ", the certificate is for " + spec};
    Checker checker(cert, g, p);
    const Shape& in_shape = g.node(g.input_ids.at(0)).shape;
    if (in_shape != cert.input_shape)
      throw Reject{"input_shape " + cert.input_shape.str() + " but the model's input is " +
                   in_shape.str()};
    for (size_t i = 0; i < cert.examples.size(); ++i) {
      checker.check_example(i, report);
      ++report.examples;
    }
    report.accepted = true;
  } catch (const Reject& r) {
    report.accepted = false;
    report.reason = r.reason;
  }
  return report;
}

}  // namespace torchlean::cert
