// Generic tests over the op database, one parameterised suite instance per op:
//   (a) the evaluated output shape equals ir::infer_shape of the op node;
//   (b) expected values hold bit for bit in F32 and F64, and as points (or tight enclosures of
//       MPFR values) in Exact;
//   (c) every error input throws a UserError (EvalError where stated) carrying the message parts;
//   (d) on random dyadic inputs, F32/F64/Exact agree as the entry's CrossDomain relation says.
#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "op_database.hpp"
#include "torchlean/core/splitmix.hpp"
#include "torchlean/interp/evaluator.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/scalar/exact.hpp"
#include "torchlean/scalar/f32.hpp"

namespace torchlean::testing {
namespace {

std::string hex(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

std::string q_text(const mpq_class& v) { return v.get_str() + " (~" + hex(v.get_d()) + ")"; }

const OpEntry& entry(size_t i) { return op_database().at(i); }

class OpDatabaseTest : public ::testing::TestWithParam<size_t> {};

TEST_P(OpDatabaseTest, EntryMatchesItsOp) {
  const OpEntry& e = entry(GetParam());
  EXPECT_EQ(e.kind, ir::kOpInfos[GetParam()].kind);
  EXPECT_FALSE(e.samples.empty()) << "every op needs sample inputs";
  EXPECT_FALSE(e.errors.empty()) << "every op needs error inputs";
  for (const Sample& s : e.samples) {
    EXPECT_EQ(s.graph.node(op_node_id(s.graph)).kind, e.kind) << s.name;
    EXPECT_TRUE(s.f64 || s.f32 || s.exact) << s.name << ": a sample without expectations";
  }
}

// (a) The shape the semantics produce is the one shape function's answer.
TEST_P(OpDatabaseTest, OutputShapeIsInferShape) {
  const OpEntry& e = entry(GetParam());
  for (const Sample& s : e.samples) {
    SCOPED_TRACE(s.name);
    const ir::Node& n = s.graph.node(op_node_id(s.graph));
    std::vector<Shape> parents;
    for (int64_t p : n.parents) parents.push_back(s.graph.node(p).shape);
    Shape inferred = ir::infer_shape(n, parents);
    Shape got = run<F64>(s.graph, s.payload, s.inputs).shape();
    EXPECT_EQ(got, inferred) << got.str() << " vs " << inferred.str();
    if (!s.ieee_only) {
      EXPECT_EQ(run<Exact>(s.graph, s.payload, s.inputs).shape(), inferred);
    }
  }
}

// (b) Expected values.
template <class S, class Narrow>
void check_ieee(const Sample& s, const std::vector<double>& want, const char* domain) {
  Tensor<S> got = run<S>(s.graph, s.payload, s.inputs);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << domain;
  for (size_t i = 0; i < want.size(); ++i) {
    S w = S::of(static_cast<Narrow>(want[i]));
    EXPECT_EQ(got[static_cast<int64_t>(i)].bits(), w.bits())
        << domain << " element " << i << ": got " << hex(got[static_cast<int64_t>(i)].to_double())
        << ", want " << hex(w.to_double());
  }
}

void check_exact(const Exact& got, const ExactExpect& want, size_t i) {
  if (want.point) {
    EXPECT_TRUE(got.is_point() && got.lo == want.value)
        << "Exact element " << i << ": got [" << q_text(got.lo) << ", " << q_text(got.hi)
        << "], want the point " << q_text(want.value);
    return;
  }
  // The expectation is a 256-bit MPFR value (relative error below 2^-250).
  mpq_class mag = abs(want.value) > 1 ? mpq_class(abs(want.value)) : mpq_class(1);
  mpq_class slack = mag / mpq_class(mpz_class(1) << 200);
  EXPECT_TRUE(got.lo - slack <= want.value && want.value <= got.hi + slack)
      << "Exact element " << i << ": [" << q_text(got.lo) << ", " << q_text(got.hi)
      << "] does not contain " << q_text(want.value);
  EXPECT_LE(got.hi - got.lo, mag / mpq_class(mpz_class(1) << 40))
      << "Exact element " << i << ": enclosure too wide";
}

TEST_P(OpDatabaseTest, ExpectedValues) {
  const OpEntry& e = entry(GetParam());
  for (const Sample& s : e.samples) {
    SCOPED_TRACE(s.name);
    if (s.f64) check_ieee<F64, double>(s, *s.f64, "F64");
    if (s.f32) check_ieee<F32, float>(s, *s.f32, "F32");
    if (s.exact) {
      ASSERT_FALSE(s.ieee_only);
      Tensor<Exact> got = run<Exact>(s.graph, s.payload, s.inputs);
      ASSERT_EQ(got.numel(), static_cast<int64_t>(s.exact->size()));
      for (size_t i = 0; i < s.exact->size(); ++i)
        check_exact(got[static_cast<int64_t>(i)], (*s.exact)[i], i);
    }
  }
}

// (c) Error inputs.
template <class S>
void check_error(const ErrorSample& es, const char* domain) {
  try {
    run<S>(es.graph, es.payload, es.inputs);
    ADD_FAILURE() << domain << ": no exception";
  } catch (const EvalError& err) {
    for (const std::string& part : es.message_parts)
      EXPECT_NE(std::string(err.what()).find(part), std::string::npos)
          << domain << ": message \"" << err.what() << "\" lacks \"" << part << "\"";
  } catch (const UserError& err) {
    EXPECT_FALSE(es.eval_error) << domain
                                << ": expected an EvalError, got UserError: " << err.what();
    for (const std::string& part : es.message_parts)
      EXPECT_NE(std::string(err.what()).find(part), std::string::npos)
          << domain << ": message \"" << err.what() << "\" lacks \"" << part << "\"";
  } catch (const std::exception& err) {
    ADD_FAILURE() << domain << ": expected a UserError, got " << err.what();
  }
}

TEST_P(OpDatabaseTest, ErrorInputs) {
  const OpEntry& e = entry(GetParam());
  for (const ErrorSample& es : e.errors) {
    SCOPED_TRACE(es.name);
    if (es.domains & kF32) check_error<F32>(es, "F32");
    if (es.domains & kF64) check_error<F64>(es, "F64");
    if (es.domains & kExact) check_error<Exact>(es, "Exact");
  }
}

// (d) Cross-domain relations on random dyadic inputs.
double draw(SplitMix64& rng, InputRange range) {
  uint64_t r = rng.next();
  switch (range) {
    case InputRange::any:
      return (static_cast<int64_t>(r % 65) - 32) / 4.0;  // k/4, |k| <= 32
    case InputRange::positive:
      return static_cast<double>(r % 32 + 1) / 4.0;  // (0, 8]
    case InputRange::unit:
      return static_cast<double>(r % 5) / 4.0;  // {0, .25, ..., 1}
  }
  return 0;
}

Tensor<double> randomized(const Tensor<double>& t, SplitMix64& rng, InputRange range) {
  Tensor<double> out(t.shape());
  for (int64_t i = 0; i < out.numel(); ++i) out[i] = draw(rng, range);
  return out;
}

// The binary64 (precision 53) or binary32 (24) number nearest to q.
double nearest(const mpq_class& q, int precision) {
  mpfr_t m;
  mpfr_init2(m, precision);
  mpfr_set_q(m, q.get_mpq_t(), MPFR_RNDN);
  double d = mpfr_get_d(m, MPFR_RNDN);
  mpfr_clear(m);
  return d;
}

double ulp(double r, int precision) {
  int e = 0;
  std::frexp(r, &e);
  return std::ldexp(1.0, std::max(e - precision, precision == 24 ? -149 : -1074));
}

void check_cross(CrossDomain cross, const Tensor<F32>& r32, const Tensor<F64>& r64,
                 const Tensor<Exact>& rq) {
  ASSERT_EQ(r64.numel(), rq.numel());
  ASSERT_EQ(r32.numel(), rq.numel());
  for (int64_t i = 0; i < rq.numel(); ++i) {
    const Exact& x = rq[i];
    const double v64 = r64[i].to_double(), v32 = r32[i].to_double();
    SCOPED_TRACE("element " + std::to_string(i) + ": F64 " + hex(v64) + ", F32 " + hex(v32) +
                 ", Exact [" + q_text(x.lo) + ", " + q_text(x.hi) + "]");
    ASSERT_TRUE(std::isfinite(v64));
    switch (cross) {
      case CrossDomain::exact:
        EXPECT_TRUE(x.is_point() && x.lo == mpq_class(v64));
        EXPECT_EQ(v32, v64);
        break;
      case CrossDomain::exact_f64:
        EXPECT_TRUE(x.is_point() && x.lo == mpq_class(v64));
        break;
      case CrossDomain::rounded_once:
        ASSERT_TRUE(x.is_point());
        EXPECT_EQ(v64, nearest(x.lo, 53));
        EXPECT_EQ(v32, nearest(x.lo, 24));
        break;
      case CrossDomain::elementary: {
        const mpq_class u64(ulp(v64, 53)), u32(ulp(v32, 24));
        EXPECT_TRUE(x.lo - u64 <= mpq_class(v64) && mpq_class(v64) <= x.hi + u64);
        EXPECT_TRUE(x.lo - u32 <= mpq_class(v32) && mpq_class(v32) <= x.hi + u32);
        EXPECT_LE(x.hi - x.lo, u64);
        break;
      }
      case CrossDomain::composite: {
        const mpq_class mid = (x.lo + x.hi) / 2;
        const double m = mid.get_d();
        const double scale = std::max(1.0, std::fabs(m));
        EXPECT_LE(std::fabs(v64 - m), 1e-12 * scale);
        EXPECT_LE(std::fabs(v32 - m), 1e-5 * scale);
        EXPECT_LE(mpq_class(x.hi - x.lo).get_d(), 1e-12 * scale);
        break;
      }
    }
  }
}

TEST_P(OpDatabaseTest, CrossDomainOnDyadicInputs) {
  const OpEntry& e = entry(GetParam());
  SplitMix64 rng(0x5eed0000ull + GetParam());
  for (const Sample& s : e.samples) {
    if (s.skip_cross) continue;
    for (int trial = 0; trial < 3; ++trial) {
      SCOPED_TRACE(s.name + ", trial " + std::to_string(trial));
      std::vector<Tensor<double>> inputs;
      for (const Tensor<double>& t : s.inputs) inputs.push_back(randomized(t, rng, e.range));
      ir::Payload payload = s.payload;
      if (e.randomize_payload)
        for (auto& [id, slots] : payload)
          for (auto& [name, t] : slots) t = randomized(t, rng, InputRange::any);
      check_cross(e.cross, run<F32>(s.graph, payload, inputs), run<F64>(s.graph, payload, inputs),
                  run<Exact>(s.graph, payload, inputs));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpDatabaseTest, ::testing::Range<size_t>(0, ir::kOpInfos.size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(ir::kOpInfos[info.param].json_kind);
                         });

TEST(OpDatabase, HasOneEntryPerRegistryOp) {
  ASSERT_EQ(op_database().size(), ir::kOpInfos.size());
  for (size_t i = 0; i < ir::kOpInfos.size(); ++i)
    EXPECT_EQ(op_database()[i].kind, ir::kOpInfos[i].kind);
}

}  // namespace
}  // namespace torchlean::testing
