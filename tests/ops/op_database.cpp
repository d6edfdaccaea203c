// Sample builders, expectation helpers, the MPFR oracle for elementary functions, and the registry
// that collects one entry per op.
#include "op_database.hpp"

#include <mpfr.h>

#include <cmath>
#include <stdexcept>

namespace torchlean::testing {

Tensor<double> tensor(Shape shape, std::vector<double> values) {
  return Tensor<double>(std::move(shape), std::move(values));
}

Tensor<double> scalar(double v) { return Tensor<double>(Shape{}, std::vector<double>{v}); }

namespace {

ir::Graph build_graph(const GraphSpec& spec, std::vector<Tensor<double>>& inputs) {
  ir::Graph g;
  if (spec.kind == ir::OpKind::input) {
    // The op under test is the graph's input itself.
    int64_t id = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, spec.out);
    g.input_ids = {id};
    g.output_ids = {id};
    inputs = spec.inputs;
    return g;
  }
  inputs = spec.inputs;
  if (inputs.empty()) inputs.push_back(scalar(0.0));
  std::vector<int64_t> parents;
  for (const Tensor<double>& t : inputs) {
    int64_t id = g.add(ir::OpKind::input, {}, ir::NoAttrs{}, t.shape());
    g.input_ids.push_back(id);
    if (!spec.inputs.empty()) parents.push_back(id);
  }
  int64_t op = g.add(spec.kind, std::move(parents), spec.attrs, spec.out);
  g.output_ids = {op};
  return g;
}

bool binary32_exact(double v) {
  return std::isnan(v) || static_cast<double>(static_cast<float>(v)) == v;
}

}  // namespace

int64_t op_node_id(const ir::Graph& g) { return g.output_ids.at(0); }

Sample sample(std::string name, GraphSpec spec) {
  Sample s;
  s.name = std::move(name);
  s.graph = build_graph(spec, s.inputs);
  if (!spec.slots.empty()) s.payload[op_node_id(s.graph)] = spec.slots;
  return s;
}

ErrorSample error(std::string name, GraphSpec spec, std::vector<std::string> message_parts,
                  unsigned domains, bool eval_error) {
  ErrorSample e;
  e.name = std::move(name);
  e.graph = build_graph(spec, e.inputs);
  if (!spec.slots.empty()) e.payload[op_node_id(e.graph)] = spec.slots;
  e.message_parts = std::move(message_parts);
  e.domains = domains;
  e.eval_error = eval_error;
  return e;
}

Sample& expect_f64(Sample& s, std::vector<double> values) {
  s.f64 = std::move(values);
  return s;
}

Sample& expect_f32(Sample& s, std::vector<double> values) {
  for (double v : values)
    if (!binary32_exact(v))
      throw std::logic_error(s.name + ": expected binary32 value " + std::to_string(v) +
                             " is not a binary32 number");
  s.f32 = std::move(values);
  return s;
}

Sample& expect_exact(Sample& s, std::vector<ExactExpect> values) {
  s.exact = std::move(values);
  return s;
}

Sample& ieee_only(Sample& s) {
  s.ieee_only = true;
  s.exact.reset();
  return s;
}

Sample& expect_ieee(Sample& s, std::vector<double> values) {
  expect_f32(s, values);
  return expect_f64(s, std::move(values));
}

Sample& expect_all(Sample& s, std::vector<double> values) {
  expect_ieee(s, values);
  if (s.ieee_only) return s;
  std::vector<ExactExpect> exact;
  for (double v : values) {
    if (!std::isfinite(v))
      throw std::logic_error(s.name + ": non-finite expectation in a sample that runs Exact");
    exact.push_back(qd(v));
  }
  return expect_exact(s, std::move(exact));
}

ExactExpect q(const std::string& rational) {
  mpq_class v(rational);
  v.canonicalize();
  return ExactExpect{v, true};
}

ExactExpect qd(double v) {
  mpq_class r(v);  // exact: every finite double is a dyadic rational
  return ExactExpect{r, true};
}

namespace {

// f(x) into `out` at out's precision, rounded to nearest; returns MPFR's ternary value.
int apply(Fn f, mpfr_t out, const mpfr_t x) {
  switch (f) {
    case Fn::exp:
      return mpfr_exp(out, x, MPFR_RNDN);
    case Fn::log:
      return mpfr_log(out, x, MPFR_RNDN);
    case Fn::tanh:
      return mpfr_tanh(out, x, MPFR_RNDN);
    case Fn::sin:
      return mpfr_sin(out, x, MPFR_RNDN);
    case Fn::cos:
      return mpfr_cos(out, x, MPFR_RNDN);
    case Fn::sqrt:
      return mpfr_sqrt(out, x, MPFR_RNDN);
    case Fn::erf:
      return mpfr_erf(out, x, MPFR_RNDN);
    case Fn::gelu:
    case Fn::softplus:
    case Fn::silu: {
      // At 320 bits, then one rounding (as sigmoid below).
      mpfr_t t, u;
      mpfr_init2(t, 320);
      mpfr_init2(u, 320);
      if (f == Fn::gelu) {
        mpfr_sqrt_ui(t, 2, MPFR_RNDN);
        mpfr_div(t, x, t, MPFR_RNDN);
        mpfr_erf(t, t, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        mpfr_mul(t, t, x, MPFR_RNDN);
        mpfr_div_ui(t, t, 2, MPFR_RNDN);
      } else if (f == Fn::softplus) {
        mpfr_exp(t, x, MPFR_RNDN);
        mpfr_log1p(t, t, MPFR_RNDN);
      } else {
        mpfr_neg(u, x, MPFR_RNDN);
        mpfr_exp(u, u, MPFR_RNDN);
        mpfr_add_ui(u, u, 1, MPFR_RNDN);
        mpfr_div(t, x, u, MPFR_RNDN);
      }
      int ternary = mpfr_set(out, t, MPFR_RNDN);
      mpfr_clear(t);
      mpfr_clear(u);
      return ternary;
    }
    case Fn::sigmoid: {
      // 1 / (1 + exp(-x)) at 320 bits, then one rounding to out's precision. The 320-bit value is
      // within 2^-310 relative of the true one, far closer than the few sample points come to a
      // rounding boundary. Callers run this in the default (wide) exponent range.
      mpfr_t t;
      mpfr_init2(t, 320);
      mpfr_neg(t, x, MPFR_RNDN);
      mpfr_exp(t, t, MPFR_RNDN);
      mpfr_add_ui(t, t, 1, MPFR_RNDN);
      mpfr_ui_div(t, 1, t, MPFR_RNDN);
      int ternary = mpfr_set(out, t, MPFR_RNDN);
      mpfr_clear(t);
      return ternary;
    }
  }
  throw std::logic_error("apply: unknown function");
}

}  // namespace

double mpfr_rounded(Fn f, double x, int precision) {
  if (precision != 24 && precision != 53)
    throw std::logic_error("mpfr_rounded: precision 24 or 53");
  const mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
  mpfr_t in, out, wide;
  mpfr_init2(in, 53);
  mpfr_init2(out, precision);
  mpfr_init2(wide, 320);
  mpfr_set_d(in, x, MPFR_RNDN);
  // sigmoid's intermediate exp(-x) may leave the format's exponent range, so it is computed first,
  // in the default range.
  if (f == Fn::sigmoid) apply(f, wide, in);
  // MPFR's significands are in [1/2, 1): binary32 spans 2^-149 (= 0.1b * 2^-148) to below 2^128,
  // binary64 spans 2^-1074 to below 2^1024.
  mpfr_set_emin(precision == 24 ? -148 : -1073);
  mpfr_set_emax(precision == 24 ? 128 : 1024);
  int ternary = f == Fn::sigmoid ? mpfr_set(out, wide, MPFR_RNDN) : apply(f, out, in);
  ternary = mpfr_check_range(out, ternary, MPFR_RNDN);
  mpfr_subnormalize(out, ternary, MPFR_RNDN);
  double result = mpfr_get_d(out, MPFR_RNDN);
  mpfr_clear(in);
  mpfr_clear(out);
  mpfr_clear(wide);
  mpfr_set_emin(old_emin);
  mpfr_set_emax(old_emax);
  return result;
}

ExactExpect mpfr_enclosed(Fn f, double x) {
  mpfr_t in, out;
  mpfr_init2(in, 53);
  mpfr_init2(out, 256);
  mpfr_set_d(in, x, MPFR_RNDN);
  apply(f, out, in);
  mpq_class value;
  mpfr_get_q(value.get_mpq_t(), out);
  mpfr_clear(in);
  mpfr_clear(out);
  return ExactExpect{value, false};
}

const std::vector<OpEntry>& op_database() {
  static const std::vector<OpEntry> db = {
#define TL_X(name, json, A, arity) entry_##name(),
      TORCHLEAN_OPS(TL_X)
#undef TL_X
  };
  return db;
}

}  // namespace torchlean::testing
