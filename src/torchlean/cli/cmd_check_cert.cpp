// `torchlean check-cert`: replays a robustness certificate with the independent exact checker.
// Exit 0 accepted, 1 rejected (or unreadable certificate/model), 2 usage error.
#include <chrono>
#include <iostream>

#include "torchlean/cert/checker.hpp"
#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"

namespace torchlean::cli {

namespace {

int run_check_cert(const ParsedArgs& args) {
  auto model_path = args.get("--model");
  if (!model_path) throw UsageError("check-cert: --model MODEL.json is required");
  std::optional<std::filesystem::path> weights;
  if (auto w = args.get("--weights")) weights = *w;
  cert::Certificate c = cert::read_certificate(args.positional(0));
  Model m = load_model(*model_path, weights);
  cert::CheckOptions options;
  if (auto s = args.get("--spec-sha256")) options.expected_spec_sha256 = *s;
  const auto t0 = std::chrono::steady_clock::now();
  cert::CheckReport r = cert::check_certificate(c, m.graph, m.payload, options);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "certificate " << args.positional(0) << ": " << cert::semantics_name(c.semantics)
            << " semantics, method " << cert::method_name(c.method) << ", " << c.examples.size()
            << " examples\n";
  if (!r.accepted) {
    std::cout << "rejected: " << r.reason << "\n";
    return 1;
  }
  std::cout << "accepted: " << r.examples << " examples, " << r.certified << " certified, "
            << r.margins_checked << " margin claims and " << r.layer_bounds_checked
            << " intermediate bounds checked exactly (" << secs << " s)\n";
  return 0;
}

}  // namespace

const Command kCheckCert{
    {"check-cert",
     "CERT.json --model MODEL.json [--weights W] [--spec-sha256 H]",
     "Check a robustness certificate in exact arithmetic (exit 0 accepted, 1 rejected).",
     {"CERT.json"},
     {{"--model", "MODEL.json", "the torchlean.ir.v1 graph the certificate is about"},
      {"--weights", "W", "its weights (.safetensors, state-dict .json, paramlist bits .json)"},
      {"--spec-sha256", "H", "also require the certificate's spec hash to equal H"}}},
    run_check_cert};

}  // namespace torchlean::cli
