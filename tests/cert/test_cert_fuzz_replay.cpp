// Replays the certificate fuzz entry (fuzz/fuzz_cert_entry.hpp) on its seed corpus
// (fuzz/corpus/cert) and on deterministic mutations of it: bit flips, truncations, token and
// byte insertions, deletions. Every input must be accepted or rejected without any exception
// other than the UserError the entry absorbs; the seeds themselves must be accepted.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fuzz_cert_entry.hpp"
#include "torchlean/cert/torchlean_interop.hpp"
#include "torchlean/core/splitmix.hpp"

namespace torchlean::cert {
namespace {

using Bytes = std::vector<uint8_t>;

const std::vector<std::string> kTokens = {"-1",
                                          "0",
                                          "1e308",
                                          "1e-320",
                                          "-0",
                                          "1e999",
                                          "18446744073709551616",
                                          "null",
                                          "true",
                                          "[]",
                                          "{}",
                                          "[",
                                          "]",
                                          "{",
                                          "}",
                                          ",",
                                          ":",
                                          "\"",
                                          "\"1/0\"",
                                          "\"-1/3\"",
                                          "\"real\"",
                                          "\"float32\"",
                                          "\"alpha\"",
                                          "\"ibp\"",
                                          "\"layers\"",
                                          "\"alpha\"",
                                          "\"node\"",
                                          "\"lower\"",
                                          "\"upper\"",
                                          "9007199254740993",
                                          "\"0\"",
                                          "\"1\"",
                                          "2",
                                          "3",
                                          "0.5",
                                          "1.5",
                                          "-3.5"};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Bytes> seeds() {
  std::vector<std::filesystem::path> files;
  for (const auto& e :
       std::filesystem::directory_iterator(TORCHLEAN_SOURCE_DIR "/fuzz/corpus/cert"))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Bytes> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    out.emplace_back(s.begin(), s.end());
  }
  return out;
}

Bytes mutate(Bytes b, SplitMix64& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng.next() % n); };
  for (int r = 1 + static_cast<int>(rng.next() % 3); r > 0; --r) {
    switch (rng.next() % 5) {
      case 0:
        if (!b.empty()) b[below(b.size())] ^= static_cast<uint8_t>(1u << (rng.next() % 8));
        break;
      case 1:
        b.resize(below(b.size() + 1));
        break;
      case 2: {
        const std::string& t = kTokens[below(kTokens.size())];
        b.insert(b.begin() + static_cast<long>(below(b.size() + 1)), t.begin(), t.end());
        break;
      }
      case 3: {
        if (b.empty()) break;
        const size_t at = below(b.size());
        b.erase(b.begin() + static_cast<long>(at),
                b.begin() + static_cast<long>(at + 1 + below(std::min<size_t>(12, b.size() - at))));
        break;
      }
      default:
        b.insert(b.begin() + static_cast<long>(below(b.size() + 1)),
                 static_cast<uint8_t>(rng.next()));
    }
  }
  return b;
}

TEST(CertFuzzReplay, SeedsAreAccepted) {
  const auto& [g, p] = fuzz::cert_fuzz_model();
  const std::vector<Bytes> corpus = seeds();
  ASSERT_EQ(corpus.size(), 4u);
  for (const Bytes& s : corpus) {
    Certificate c = parse_certificate(
        std::string_view(reinterpret_cast<const char*>(s.data()), s.size()), "seed");
    CheckReport r = check_certificate(c, g, p);
    EXPECT_TRUE(r.accepted) << r.reason;
  }
}

TEST(CertFuzzReplay, MutantsNeverEscape) {
  const std::vector<Bytes> corpus = seeds();
  SplitMix64 rng(6);
  for (int i = 0; i < 3000; ++i) {
    const Bytes input = mutate(corpus[static_cast<size_t>(i) % corpus.size()], rng);
    try {
      fuzz::certificate(input);
    } catch (const std::exception& e) {
      FAIL() << "mutant " << i << " escaped with: " << e.what()
             << "\ninput: " << std::string(input.begin(), input.end());
    }
  }
}

// TorchLean's certificate readers (torchlean_interop.hpp) on mutants of the bundled fixtures:
// only UserError may stop them.
template <class Fn>
void replay_interop(const std::vector<std::string>& corpus, int mutants, uint64_t seed, Fn entry) {
  SplitMix64 rng(seed);
  for (int i = 0; i < mutants; ++i) {
    const std::string& s = corpus[static_cast<size_t>(i) % corpus.size()];
    const Bytes m = mutate(Bytes(s.begin(), s.end()), rng);
    const std::string text(m.begin(), m.end());
    try {
      entry(text);
    } catch (const UserError&) {
    } catch (const std::exception& e) {
      FAIL() << "mutant " << i << " escaped with: " << e.what()
             << "\ninput: " << text.substr(0, 400);
    }
  }
}

const std::filesystem::path kTl = TORCHLEAN_SOURCE_DIR "/../shared/data/torchlean/Verification";

TEST(CertFuzzReplay, LirpaCertificates) {
  replay_interop({slurp(kTl / "LiRPA/mlp_cert.json"), slurp(kTl / "LiRPA/cnn_cert.json")}, 2000, 7,
                 [](const std::string& t) { (void)check_lirpa_cert_text(t, "fuzz.json"); });
}

TEST(CertFuzzReplay, MarginCertificates) {
  // The digits fixture cut to its first two examples keeps each mutant cheap.
  nlohmann::json cert =
      nlohmann::json::parse(slurp(kTl / "Robustness/digits_linear_margin_cert.json"));
  cert["examples"].erase(cert["examples"].begin() + 2, cert["examples"].end());
  const std::string weights = slurp(kTl / "Robustness/digits_linear_weights.json");
  const std::string data = slurp(kTl / "Robustness/digits_test.json");
  replay_interop({cert.dump(1)}, 300, 8, [&](const std::string& t) {
    (void)check_margin_cert_v0_1_text(t, weights, data, "fuzz.json");
  });
}

}  // namespace
}  // namespace torchlean::cert
