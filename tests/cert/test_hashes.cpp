// SHA-256 against FIPS 180-4 / NIST example vectors, and the model and spec hashes against
// canonical bytes written out by hand (digests from Python's hashlib over the same bytes).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "torchlean/cert/rational.hpp"
#include "torchlean/cert/spec_hash.hpp"
#include "torchlean/core/sha256.hpp"
#include "torchlean/ir/builder.hpp"
#include "torchlean/ir/model_hash.hpp"

namespace torchlean {
namespace {

std::string hex(std::string_view s) { return core::to_hex(core::sha256(s)); }

TEST(Sha256, Fips180Vectors) {
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // 55 bytes fit one block with the length; 56 and 64 need a second block (hashlib digests).
  EXPECT_EQ(hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string msg(1000, 'x');
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<char>('a' + i % 26);
  core::Sha256 h;
  for (size_t i = 0; i < msg.size(); i += 37) h.update(std::string_view(msg).substr(i, 37));
  EXPECT_EQ(core::to_hex(h.finish()), hex(msg));
}

std::pair<ir::Graph, ir::Payload> tiny_linear(double w0) {
  ir::GraphBuilder b;
  int64_t x = b.input(Shape{2});
  int64_t y = b.add(ir::OpKind::linear, {x}, ir::NoAttrs{}, Shape{1});
  b.set_payload(y, "weight", Tensor<double>(Shape{1, 2}, {w0, -2.0}));
  b.set_payload(y, "bias", Tensor<double>(Shape{1}, {0.5}));
  b.mark_output(y);
  return std::move(b).finish();
}

TEST(ModelHash, CanonicalBytesAndDigest) {
  auto [g, p] = tiny_linear(1.0);
  std::string expected =
      "0 input () (2) {}\n1 linear (0) (1) {}\ninputs 0\noutputs 1\n1.bias (1)\n";
  expected += std::string("\x00\x00\x00\x00\x00\x00\xe0\x3f", 8);  // 0.5
  expected += "1.weight (1,2)\n";
  expected += std::string("\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);  // 1.0
  expected += std::string("\x00\x00\x00\x00\x00\x00\x00\xc0", 8);  // -2.0
  EXPECT_EQ(ir::model_canonical_bytes(g, p), expected);
  EXPECT_EQ(ir::model_sha256_hex(g, p),
            "d5a3d7484696056c12e95b2225577bffce49d770e947b740fb1d78fa9a0f90ff");
}

TEST(ModelHash, ChangesWithOneWeightBit) {
  auto [g, p] = tiny_linear(1.0);
  auto [g2, p2] = tiny_linear(std::nextafter(1.0, 2.0));
  EXPECT_NE(ir::model_sha256_hex(g, p), ir::model_sha256_hex(g2, p2));
}

TEST(SpecHash, CanonicalBytesAndDigest) {
  cert::RobustnessSpec spec;
  spec.eps = cert::parse_rational("2/510", "eps");  // canonicalised to 1/255
  spec.clip = std::make_pair(mpq_class(0), mpq_class(1));
  spec.examples.push_back({7, 3, {0.25, 1.0}});
  std::string expected = "eps 1/255\nclip 0 1\nexample 7 3 2\n";
  expected += std::string("\x00\x00\x00\x00\x00\x00\xd0\x3f", 8);  // 0.25
  expected += std::string("\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);  // 1.0
  EXPECT_EQ(cert::spec_canonical_bytes(spec), expected);
  EXPECT_EQ(cert::spec_sha256_hex(spec),
            "922d7ff58c8a1599df32983b659e2f7f37568719eb0c4bca9efbb80056fee8c8");
  spec.clip.reset();
  EXPECT_NE(cert::spec_sha256_hex(spec),
            "922d7ff58c8a1599df32983b659e2f7f37568719eb0c4bca9efbb80056fee8c8");
}

TEST(Rational, ParsesForms) {
  EXPECT_EQ(cert::parse_rational("1/255", "eps"), mpq_class(1, 255));
  EXPECT_EQ(cert::parse_rational("-3", "eps"), mpq_class(-3));
  EXPECT_EQ(cert::parse_rational("0.0039", "eps"), mpq_class(39, 10000));
  EXPECT_EQ(cert::parse_rational("1e-3", "eps"), mpq_class(1, 1000));
  EXPECT_EQ(cert::parse_rational("2.5E2", "eps"), mpq_class(250));
  EXPECT_EQ(cert::parse_rational(".5", "eps"), mpq_class(1, 2));
  EXPECT_EQ(cert::rational_string(mpq_class(6, 4)), "3/2");
}

TEST(Rational, RejectsMalformed) {
  for (const char* bad :
       {"", "1/0", "abc", "1/", "/2", "1e", "1e999", "--1", "1.2.3", "0x10", "."}) {
    try {
      cert::parse_rational(bad, "cert eps");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cert eps", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace torchlean
