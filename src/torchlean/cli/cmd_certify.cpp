// `torchlean certify`: L-infinity robustness certification of a classifier over a data set, with
// IBP, CROWN or alpha-CROWN in real or float32 semantics; writes the certificate, and optionally a
// summary JSON and a certified-accuracy-vs-eps curve (CSV for `torchlean plot`).
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "torchlean/cert/rational.hpp"
#include "torchlean/cli/commands.hpp"
#include "torchlean/cli/model.hpp"
#include "torchlean/core/error.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/nn/dataset.hpp"
#include "torchlean/verify/certificate.hpp"
#include "torchlean/verify/robustness.hpp"

namespace torchlean::cli {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

int64_t parse_count(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1)
    throw UsageError("--count must be a positive integer, got '" + text + "'");
  return n;
}

struct Dataset {
  std::vector<std::vector<double>> x;
  std::vector<int64_t> y;
};

// Examples from X.npy + y.npy, or from a directory of MNIST-style IDX files (the split's images
// scaled to [0, 1] by one division by 255, as `train` reads them).
Dataset load_dataset(const std::string& data, const std::optional<std::string>& labels_arg,
                     const std::string& split, const Shape& input, int64_t count) {
  Tensor<double> xs, ys;
  std::string labels = labels_arg.value_or("");
  if (std::filesystem::is_directory(data)) {
    const nn::Dataset idx = nn::load_idx_dataset(data, split);
    xs = Tensor<double>(idx.x.shape(), std::vector<double>(idx.x.vec().begin(), idx.x.vec().end()));
    ys = Tensor<double>(idx.y.shape(), std::vector<double>(idx.y.vec().begin(), idx.y.vec().end()));
    labels = data + " (" + split + " labels)";
  } else {
    if (!labels_arg) throw UsageError("certify: --labels is needed unless --data is a directory");
    xs = io::read_npy_file(data);
    ys = io::read_npy_file(labels);
  }
  const int64_t n = ys.numel();
  if (ys.shape().rank() != 1)
    throw UserError(labels + ": labels must be a 1-D array, got shape " + ys.shape().str());
  if (xs.shape().rank() < 1 || xs.shape()[0] != n || xs.numel() != n * input.numel())
    throw UserError(data + ": expected " + std::to_string(n) + " examples of " +
                    std::to_string(input.numel()) + " elements (model input " + input.str() +
                    "), got shape " + xs.shape().str());
  Dataset d;
  const int64_t m = input.numel();
  for (int64_t i = 0; i < std::min(n, count); ++i) {
    d.x.emplace_back(xs.vec().begin() + i * m, xs.vec().begin() + (i + 1) * m);
    const double label = ys[i];
    if (label != std::floor(label) || label < 0)
      throw UserError(labels + ": label " + std::to_string(i) +
                      " is not a class index: " + std::to_string(label));
    d.y.push_back(static_cast<int64_t>(label));
  }
  return d;
}

struct Run {
  mpq_class eps;
  std::vector<verify::ExampleResult> results;
  int64_t clean = 0, certified = 0;
  double seconds = 0;
};

Run certify_all(const verify::RobustnessVerifier& v, const Dataset& d, verify::RobustnessConfig cfg,
                const mpq_class& eps, bool print) {
  cfg.eps = eps;
  Run run;
  run.eps = eps;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < d.x.size(); ++i) {
    verify::ExampleResult r = v.certify(static_cast<int64_t>(i), d.x[i], d.y[i], cfg);
    run.clean += r.prediction == r.label;
    run.certified += r.certified;
    if (print) {
      double worst = INFINITY;
      for (const auto& m : r.margins) worst = std::min(worst, m.lower);
      std::cout << "example " << i << ": label " << r.label << " prediction " << r.prediction << " "
                << (r.certified ? "certified" : "not certified") << " margin_lower "
                << std::setprecision(17) << worst << std::setprecision(6) << "\n";
    }
    run.results.push_back(std::move(r));
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

int run_certify(const ParsedArgs& args) {
  const std::optional<std::string> data = args.get("--data"), labels = args.get("--labels"),
                                   eps_text = args.get("--eps"), cert_path = args.get("--cert");
  if (!data || !eps_text || !cert_path)
    throw UsageError("certify needs --data, --eps and --cert (and --labels for .npy data)");
  const verify::Semantics sem = verify::parse_semantics(args.get_or("--semantics", "real"));
  verify::RobustnessConfig cfg;
  cfg.method = verify::parse_method(args.get_or("--method", "crown"));
  if (auto it = args.get("--alpha-iters"))
    cfg.alpha_iterations = static_cast<int>(parse_count(*it));
  if (auto clip = args.get("--clip")) {
    const std::vector<std::string> parts = split(*clip, ',');
    if (parts.size() != 2) throw UsageError("--clip expects LO,HI, got '" + *clip + "'");
    cfg.clip = std::make_pair(cert::parse_rational(parts[0], "--clip"),
                              cert::parse_rational(parts[1], "--clip"));
    if (cfg.clip->first > cfg.clip->second)
      throw UsageError("--clip: LO must be <= HI, got '" + *clip + "'");
  }
  const mpq_class eps = cert::parse_rational(*eps_text, "--eps");
  if (eps < 0) throw UsageError("--eps must be >= 0, got '" + *eps_text + "'");
  int64_t count = INT64_MAX;
  if (auto c = args.get("--count")) count = parse_count(*c);

  const Model m = load_model(args.positional(0), args.get("--weights"));
  const Shape& input = m.graph.node(m.graph.input_ids.at(0)).shape;
  const Dataset d = load_dataset(*data, labels, args.get_or("--split", "t10k"), input, count);
  const verify::RobustnessVerifier v(m.graph, m.payload, sem);

  std::cout << "certify: " << d.x.size() << " examples, method " << verify::method_name(cfg.method)
            << ", semantics " << verify::semantics_name(sem) << ", eps "
            << cert::rational_string(eps)
            << (cfg.clip ? ", clip [" + cert::rational_string(cfg.clip->first) + ", " +
                               cert::rational_string(cfg.clip->second) + "]"
                         : std::string())
            << "\n";
  Run main_run = certify_all(v, d, cfg, eps, true);
  cfg.eps = eps;
  {
    std::ofstream out(*cert_path);
    if (!out) throw UserError(*cert_path + ": cannot write the certificate");
    out << verify::certificate_json(m.graph, m.payload, sem, cfg, main_run.results).dump(1) << "\n";
  }
  const double n = static_cast<double>(std::max<size_t>(d.x.size(), 1));
  std::cout << "summary (semantics " << verify::semantics_name(sem) << ", method "
            << verify::method_name(cfg.method) << ", eps " << cert::rational_string(eps)
            << "): clean accuracy " << main_run.clean << "/" << d.x.size() << " ("
            << 100.0 * static_cast<double>(main_run.clean) / n << "%), certified "
            << main_run.certified << "/" << d.x.size() << " ("
            << 100.0 * static_cast<double>(main_run.certified) / n << "%), time "
            << main_run.seconds << " s (" << 1000.0 * main_run.seconds / n << " ms per example)\n";
  std::cout << "certificate written to " << *cert_path << "\n";

  // Certified accuracy against eps (--eps-list), for the curve and the summary.
  std::vector<Run> curve;
  if (auto list = args.get("--eps-list"))
    for (const std::string& e : split(*list, ','))
      curve.push_back(certify_all(v, d, cfg, cert::parse_rational(e, "--eps-list"), false));
  if (auto path = args.get("--curve")) {
    std::ofstream out(*path);
    if (!out) throw UserError(*path + ": cannot write the curve");
    out << "eps,certified_accuracy\n" << std::setprecision(12);
    if (curve.empty()) curve.push_back(main_run);
    for (const Run& r : curve)
      out << r.eps.get_d() << "," << static_cast<double>(r.certified) / n << "\n";
  }
  if (auto path = args.get("--summary-json")) {
    nlohmann::ordered_json s;
    s["semantics"] = verify::semantics_name(sem);
    s["method"] = verify::method_name(cfg.method);
    s["eps"] = cert::rational_string(eps);
    s["examples"] = d.x.size();
    s["clean_correct"] = main_run.clean;
    s["certified"] = main_run.certified;
    s["clean_accuracy"] = static_cast<double>(main_run.clean) / n;
    s["certified_accuracy"] = static_cast<double>(main_run.certified) / n;
    s["seconds"] = main_run.seconds;
    nlohmann::ordered_json c = nlohmann::ordered_json::array();
    for (const Run& r : curve)
      c.push_back({{"eps", cert::rational_string(r.eps)}, {"certified", r.certified}});
    s["curve"] = std::move(c);
    std::ofstream out(*path);
    if (!out) throw UserError(*path + ": cannot write the summary");
    out << s.dump(1) << "\n";
  }
  return 0;
}

}  // namespace

const Command kCertify{
    {"certify",
     "MODEL [--weights W] --data X.npy --labels y.npy|--data DIR [--split S] --eps E [--eps-list e1,e2,..] [--method "
     "ibp|crown|alpha] "
     "[--semantics real|float32] [--count N] [--clip lo,hi] --cert OUT.json [--summary-json PATH] "
     "[--curve PATH.csv]",
     "Certify L-infinity robustness of a classifier per example and write a checkable certificate.",
     {"MODEL"},
     {{"--weights", "W", "weights (.safetensors, state-dict .json, paramlist bits .json)"},
      {"--data", "X.npy|DIR", "inputs, one example per leading index; or a directory of MNIST-style IDX files"},
      {"--labels", "y.npy", "class labels (1-D); not needed for an IDX directory"},
      {"--split", "S", "with an IDX directory: the split to read, t10k (default) or train"},
      {"--eps", "E", "radius, an exact rational: 0.02, 1/255, 4e-3"},
      {"--eps-list", "E1,E2", "also certify at these radii (for --curve and the summary)"},
      {"--method", "M", "ibp, crown (default) or alpha (alpha-CROWN)"},
      {"--alpha-iters", "K", "alpha-CROWN iterations (default 20)"},
      {"--semantics", "S",
       "real (default): the real-valued network; float32: its binary32 execution"},
      {"--count", "N", "only the first N examples"},
      {"--clip", "LO,HI", "intersect every region with [LO, HI] per coordinate"},
      {"--cert", "OUT.json", "the certificate (torchlean_cpp.robustness_cert.v1)"},
      {"--summary-json", "PATH",
       "summary: examples, clean_correct, certified, accuracies, time, curve"},
      {"--curve", "PATH.csv", "eps,certified_accuracy rows (--eps-list, else --eps)"}}},
    run_certify};

}  // namespace torchlean::cli
