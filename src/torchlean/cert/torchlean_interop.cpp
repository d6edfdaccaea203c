#include "torchlean/cert/torchlean_interop.hpp"

#include <fstream>
#include <sstream>

#include "torchlean/cert/bounds.hpp"
#include "torchlean/cert/exact_vec.hpp"
#include "torchlean/cert/json_read.hpp"
#include "torchlean/cert/net.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/core/sha256.hpp"
#include "torchlean/ir/builder.hpp"

namespace torchlean::cert {

namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ExampleBounds fresh_bounds(const ir::Graph& g) {
  ExampleBounds b;
  b.box.resize(g.nodes.size());
  b.err.resize(g.nodes.size());
  b.relu_l.resize(g.nodes.size());
  b.relu_u.resize(g.nodes.size());
  b.alpha.assign(g.nodes.size(), nullptr);
  return b;
}

void forward_all(const Net& net, ExampleBounds& b) {
  BoundEngine engine(net);
  for (int64_t id = 0; id <= net.output; ++id)
    if (id != net.input) engine.forward_node(id, b);
}

void note(std::vector<std::string>& problems, const std::string& line) {
  if (problems.size() < 20) problems.push_back(line);
}

std::pair<ir::Graph, ir::Payload> linear_classifier(const std::vector<std::vector<double>>& w,
                                                    const std::vector<double>& bias) {
  const int64_t out = static_cast<int64_t>(w.size()), in = static_cast<int64_t>(w.at(0).size());
  std::vector<double> flat;
  for (const auto& row : w) flat.insert(flat.end(), row.begin(), row.end());
  ir::GraphBuilder b;
  int64_t x = b.input(Shape{in});
  int64_t y = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{out});
  b.set_payload(y, "weight", Tensor<double>(Shape{out, in}, flat));
  b.set_payload(y, "bias", Tensor<double>(Shape{out}, bias));
  b.mark_output(y);
  return std::move(b).finish();
}

}  // namespace

MarginCertV01Report check_margin_cert_v0_1(const std::string& cert_path,
                                           const std::string& weights_path,
                                           const std::string& dataset_path) {
  return check_margin_cert_v0_1_text(slurp(cert_path), slurp(weights_path), slurp(dataset_path),
                                     cert_path);
}

MarginCertV01Report check_margin_cert_v0_1_text(const std::string& cert_text,
                                                const std::string& weights_text,
                                                const std::string& data_text,
                                                const std::string& source) {
  MarginCertV01Report rep;
  detail::JsonReader rc(source), rw(source + " (weights)"), rd(source + " (dataset)");
  const json cert = rc.parse(cert_text), weights = rw.parse(weights_text),
             data = rd.parse(data_text);
  rc.object(cert, "certificate");
  if (rc.string(rc.field(cert, "format", "certificate"), "format") != "robust_margin_cert_v0_1")
    rc.fail("format", "expected \"robust_margin_cert_v0_1\"");
  if (rc.string(rc.field(cert, "norm", "certificate"), "norm") != "linf")
    rc.fail("norm", "expected \"linf\"");
  const mpq_class eps = exact_of(rc.number(rc.field(cert, "eps", "certificate"), "eps"));
  const json& meta = rc.object(rc.field(cert, "meta", "certificate"), "meta");
  rep.weights_hash_ok =
      rc.string(rc.field(meta, "weights_sha256", "meta"), "meta.weights_sha256") ==
      core::to_hex(core::sha256(weights_text));
  rep.dataset_hash_ok = rc.string(rc.field(meta, "dataset_sha256", "meta"),
                                  "meta.dataset_sha256") == core::to_hex(core::sha256(data_text));

  rw.object(weights, "weights");
  const json& wj = rw.array(rw.field(weights, "layers.0.weight", "weights"), "layers.0.weight");
  std::vector<std::vector<double>> w;
  for (size_t i = 0; i < wj.size(); ++i)
    w.push_back(rw.numbers(wj[i], "layers.0.weight[" + std::to_string(i) + "]"));
  std::vector<double> bias =
      rw.numbers(rw.field(weights, "layers.0.bias", "weights"), "layers.0.bias");
  if (w.empty() || w[0].empty() || bias.size() != w.size())
    rw.fail("weights", "inconsistent layer shapes");
  for (const auto& row : w)
    if (row.size() != w[0].size()) rw.fail("layers.0.weight", "rows of different lengths");
  auto [g, p] = linear_classifier(w, bias);
  const Net net = prepare_net(g, p, CertSemantics::real);
  const BoundEngine engine(net);
  const size_t classes = w.size(), in_dim = w[0].size();

  std::map<int64_t, const json*> by_id;
  const json& dex = rd.array(rd.field(data, "examples", "dataset"), "examples");
  for (size_t i = 0; i < dex.size(); ++i)
    by_id[rd.natural(rd.field(dex[i], "id", "examples[" + std::to_string(i) + "]"), "id")] =
        &dex[i];

  const json& examples = rc.array(rc.field(cert, "examples", "certificate"), "examples");
  for (size_t i = 0; i < examples.size(); ++i) {
    const std::string where = "examples[" + std::to_string(i) + "]";
    const json& e = rc.object(examples[i], where);
    const int64_t id = rc.natural(rc.field(e, "id", where), where + ".id");
    const int64_t label = rc.natural(rc.field(e, "label", where), where + ".label");
    const int64_t pred = rc.natural(rc.field(e, "pred", where), where + ".pred");
    const bool certified = rc.boolean(rc.field(e, "certified", where), where + ".certified");
    std::vector<double> lo = rc.numbers(rc.field(e, "logits_lo", where), where + ".logits_lo");
    std::vector<double> hi = rc.numbers(rc.field(e, "logits_hi", where), where + ".logits_hi");
    if (lo.size() != classes || hi.size() != classes || static_cast<size_t>(label) >= classes)
      rc.fail(where,
              "logit bounds or label do not match the " + std::to_string(classes) + " classes");
    auto it = by_id.find(id);
    if (it == by_id.end())
      rc.fail(where + ".id", "no dataset example with id " + std::to_string(id));
    const std::string dw = "examples[id " + std::to_string(id) + "]";
    std::vector<double> x = rd.numbers(rd.field(*it->second, "x", dw), dw + ".x");
    if (x.size() != in_dim) rd.fail(dw + ".x", "expected " + std::to_string(in_dim) + " values");
    if (rd.natural(rd.field(*it->second, "y", dw), dw + ".y") != label)
      note(rep.problems, "id " + std::to_string(id) + ": label differs from the dataset");
    ++rep.examples;

    // Exact logits at x, and the exact IBP box (= the exact range: one affine layer).
    ExampleBounds at_x = fresh_bounds(g), over = fresh_bounds(g);
    std::vector<mpq_class> xq, rlo, rhi;
    for (double v : x) {
      mpq_class q = exact_of(v);
      mpq_class l = q - eps, h = q + eps;
      if (l < 0) l = 0;
      if (h > 1) h = 1;
      xq.push_back(q);
      rlo.push_back(l);
      rhi.push_back(h);
    }
    at_x.box[static_cast<size_t>(net.input)] = make_box(xq, xq);
    over.box[static_cast<size_t>(net.input)] = make_box(rlo, rhi);
    forward_all(net, at_x);
    forward_all(net, over);
    const std::vector<mpq_class> logits = to_mpq(at_x.box[static_cast<size_t>(net.output)]->lo);
    const std::vector<mpq_class> elo = to_mpq(over.box[static_cast<size_t>(net.output)]->lo);
    const std::vector<mpq_class> ehi = to_mpq(over.box[static_cast<size_t>(net.output)]->hi);
    size_t argmax = 0;
    for (size_t j = 1; j < classes; ++j)
      if (logits[j] > logits[argmax]) argmax = j;
    if (static_cast<int64_t>(argmax) == pred)
      ++rep.pred_agree;
    else
      note(rep.problems, "id " + std::to_string(id) + ": pred " + std::to_string(pred) +
                             " but the exact argmax is " + std::to_string(argmax));
    bool sound = true;
    for (size_t j = 0; j < classes; ++j) {
      ++rep.intervals;
      if (exact_of(lo[j]) <= elo[j] && exact_of(hi[j]) >= ehi[j]) {
        ++rep.intervals_sound;
      } else {
        sound = false;
        note(rep.problems, "id " + std::to_string(id) + ": class " + std::to_string(j) +
                               " claimed [" + detail::show(lo[j]) + ", " + detail::show(hi[j]) +
                               "] misses the exact range [" + detail::show(elo[j].get_d()) + ", " +
                               detail::show(ehi[j].get_d()) + "]");
      }
    }
    if (sound) ++rep.bounds_sound;
    double max_other = -1e308;
    for (size_t j = 0; j < classes; ++j)
      if (static_cast<int64_t>(j) != label && hi[j] > max_other) max_other = hi[j];
    if (certified == (lo[static_cast<size_t>(label)] > max_other))
      ++rep.flag_consistent;
    else
      note(rep.problems, "id " + std::to_string(id) + ": certified flag disagrees with its bounds");
    if (certified) {
      ++rep.certified_claimed;
      bool robust = true;
      for (size_t j = 0; j < classes && robust; ++j) {
        if (static_cast<int64_t>(j) == label) continue;
        SVec lam(classes);
        lam.num[static_cast<size_t>(label)] = 1;
        lam.num[j] = -1;
        robust = sgn(engine.box_lower(net.output, lam, over)) > 0;
      }
      if (robust)
        ++rep.certified_confirmed;
      else
        note(rep.problems,
             "id " + std::to_string(id) + ": certified but the exact margin is not positive");
    }
  }
  return rep;
}

WorkflowGraph torchlean_workflow_graph(const std::string& name) {
  ir::GraphBuilder b;
  std::map<int64_t, int64_t> node_of;
  if (name == "mlp_graph_workflow_v1") {
    // hidden W[i][j] = 1 + i + j, b[i] = i + 1; output W[i][j] = 2 + i + j, b[i] = i.
    std::vector<double> w1, b1, w2, b2;
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 3; ++j) w1.push_back(1 + i + j);
      b1.push_back(i + 1);
    }
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 4; ++j) w2.push_back(2 + i + j);
      b2.push_back(i);
    }
    int64_t x = b.input(Shape{3});
    int64_t h = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{4});
    b.set_payload(h, "weight", Tensor<double>(Shape{4, 3}, w1));
    b.set_payload(h, "bias", Tensor<double>(Shape{4}, b1));
    int64_t r = b.add(ir::OpKind::relu, {h});
    int64_t y = b.add(ir::OpKind::linear, {r}, ir::NoAttrs{}, Shape{2});
    b.set_payload(y, "weight", Tensor<double>(Shape{2, 4}, w2));
    b.set_payload(y, "bias", Tensor<double>(Shape{2}, b2));
    b.mark_output(y);
    node_of = {{0, x}, {1, h}, {2, r}, {3, y}};
  } else if (name == "cnn_graph_workflow_v1") {
    // conv kernel K[di][dj] = 1 + di + dj (1 channel, 3x3, stride 1, no padding), bias 0;
    // output W[i][j] = 2 + i + j over the 4 flattened conv outputs, b[i] = i.
    std::vector<double> k, w2, b2;
    for (int di = 0; di < 3; ++di)
      for (int dj = 0; dj < 3; ++dj) k.push_back(1 + di + dj);
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 4; ++j) w2.push_back(2 + i + j);
      b2.push_back(i);
    }
    int64_t x = b.input(Shape{1, 4, 4});
    int64_t c = b.add(ir::OpKind::conv2d, {x}, ir::Conv2dAttrs{1, 1, 3, 3, 1, 0});
    b.set_payload(c, "weight", Tensor<double>(Shape{1, 1, 3, 3}, k));
    b.set_payload(c, "bias", Tensor<double>(Shape{1}, {0.0}));
    int64_t r = b.add(ir::OpKind::relu, {c});
    int64_t f = b.add(ir::OpKind::flatten, {r}, ir::FlattenAttrs{Shape{1, 2, 2}});
    int64_t y = b.add(ir::OpKind::linear, {f}, ir::NoAttrs{}, Shape{2});
    b.set_payload(y, "weight", Tensor<double>(Shape{2, 4}, w2));
    b.set_payload(y, "bias", Tensor<double>(Shape{2}, b2));
    b.mark_output(y);
    node_of = {{0, x}, {1, c}, {2, r}, {3, y}};
  } else {
    throw UserError("torchlean interop: unknown workflow graph '" + name + "'");
  }
  auto [g, p] = std::move(b).finish();
  return {std::move(g), std::move(p), std::move(node_of)};
}

LirpaCertReport check_lirpa_cert(const std::string& cert_path) {
  return check_lirpa_cert_text(slurp(cert_path), cert_path);
}

LirpaCertReport check_lirpa_cert_text(const std::string& cert_text, const std::string& source) {
  detail::JsonReader r(source);
  const json c = r.parse(cert_text);
  r.object(c, "certificate");
  LirpaCertReport rep;
  rep.graph = r.string(r.field(c, "graph", "certificate"), "graph");
  const WorkflowGraph wg = torchlean_workflow_graph(rep.graph);
  const ir::Graph& g = wg.graph;
  const json& in = r.object(r.field(c, "input_box", "certificate"), "input_box");
  const json& res = r.object(r.field(c, "result", "certificate"), "result");
  std::vector<double> ilo = r.numbers(r.field(in, "lo", "input_box"), "input_box.lo");
  std::vector<double> ihi = r.numbers(r.field(in, "hi", "input_box"), "input_box.hi");
  const Net net = prepare_net(g, wg.payload, CertSemantics::real);
  const int64_t in_numel = g.node(net.input).shape.numel();
  if (static_cast<int64_t>(ilo.size()) != in_numel || ihi.size() != ilo.size())
    r.fail("input_box", "expected " + std::to_string(in_numel) + " lo and hi values");
  rep.node = r.natural(r.field(res, "node_id", "result"), "result.node_id");
  auto mapped = wg.node_of.find(rep.node);
  if (mapped == wg.node_of.end()) r.fail("result.node_id", "no such node");
  const int64_t ours = mapped->second;
  std::vector<double> rlo = r.numbers(r.field(res, "lo", "result"), "result.lo");
  std::vector<double> rhi = r.numbers(r.field(res, "hi", "result"), "result.hi");
  rep.dim = g.node(ours).shape.numel();
  if (static_cast<int64_t>(rlo.size()) != rep.dim || rhi.size() != rlo.size())
    r.fail("result", "expected " + std::to_string(rep.dim) + " lo and hi values");
  ExampleBounds b = fresh_bounds(g);
  std::vector<mpq_class> lo, hi;
  for (size_t i = 0; i < ilo.size(); ++i) {
    lo.push_back(exact_of(ilo[i]));
    hi.push_back(exact_of(ihi[i]));
    if (lo.back() > hi.back()) r.fail("input_box", "lo > hi at " + std::to_string(i));
  }
  b.box[static_cast<size_t>(net.input)] = make_box(lo, hi);
  forward_all(net, b);
  const Box& out = *b.box[static_cast<size_t>(ours)];
  for (int64_t i = 0; i < rep.dim; ++i) {
    const mpq_class el = out.lo.at(static_cast<size_t>(i)), eh = out.hi.at(static_cast<size_t>(i));
    if (exact_of(rlo[static_cast<size_t>(i)]) <= el &&
        exact_of(rhi[static_cast<size_t>(i)]) >= eh) {
      ++rep.sound;
    } else {
      note(rep.problems, "result[" + std::to_string(i) + "] claimed [" +
                             detail::show(rlo[static_cast<size_t>(i)]) + ", " +
                             detail::show(rhi[static_cast<size_t>(i)]) +
                             "] misses the exact IBP box [" + el.get_str() + ", " + eh.get_str() +
                             "]");
    }
  }
  return rep;
}

}  // namespace torchlean::cert
