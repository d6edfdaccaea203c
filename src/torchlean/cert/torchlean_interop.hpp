// Checking TorchLean's own certificate files against bounds recomputed exactly:
// - robust_margin_cert_v0_1 (NN/Examples/Verification/Robustness): per-example logit intervals of
//   a linear classifier over the l-inf ball [x-eps, x+eps] clipped to [0, 1], with a "certified"
//   flag meaning logits_lo[label] > max_{j != label} logits_hi[j];
// - the LiRPA workflow certificates (NN/Examples/Verification/LiRPA): an input box and the
//   claimed IBP box of one result node of a bundled graph.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "torchlean/ir/graph.hpp"
#include "torchlean/ir/payload.hpp"

namespace torchlean::cert {

struct MarginCertV01Report {
  int64_t examples = 0;
  int64_t bounds_sound = 0;  // every claimed interval encloses the exact logit range
  int64_t intervals = 0, intervals_sound = 0;  // per (example, class) interval
  int64_t flag_consistent = 0;  // "certified" equals the predicate on the claimed numbers
  int64_t certified_claimed = 0;
  int64_t certified_confirmed = 0;  // exact min of logit[label]-logit[j] over the region > 0, all j
  int64_t pred_agree = 0;           // "pred" equals the exact argmax at x
  bool weights_hash_ok = false, dataset_hash_ok = false;  // meta.*_sha256 vs the files
  std::vector<std::string> problems;                      // the first discrepancies, one line each
};

// Reads the three TorchLean files; UserError on malformed input.
MarginCertV01Report check_margin_cert_v0_1(const std::string& cert_path,
                                           const std::string& weights_path,
                                           const std::string& dataset_path);
// The same on the files' contents (`source` prefixes error messages).
MarginCertV01Report check_margin_cert_v0_1_text(const std::string& cert_text,
                                                const std::string& weights_text,
                                                const std::string& dataset_text,
                                                const std::string& source);

struct LirpaCertReport {
  std::string graph;  // e.g. "mlp_graph_workflow_v1"
  int64_t node = 0, dim = 0;
  int64_t sound = 0;  // result entries whose claimed [lo, hi] encloses the exact IBP box
  std::vector<std::string> problems;
};

// The bundled graphs of TorchLean's LiRPA workflow examples, rebuilt from the parameters in
// TorchLean's export script: "mlp_graph_workflow_v1" (3 -> linear 4 -> relu -> linear 2) and
// "cnn_graph_workflow_v1" (1x4x4 -> conv 3x3 -> relu -> flatten -> linear 2). UserError otherwise.
// `node_of` maps TorchLean's node ids to ours (our cnn has an explicit flatten node).
struct WorkflowGraph {
  ir::Graph graph;
  ir::Payload payload;
  std::map<int64_t, int64_t> node_of;
};
WorkflowGraph torchlean_workflow_graph(const std::string& name);

// Checks a LiRPA workflow certificate against exact IBP over its input box.
LirpaCertReport check_lirpa_cert(const std::string& cert_path);
LirpaCertReport check_lirpa_cert_text(const std::string& cert_text, const std::string& source);

}  // namespace torchlean::cert
