#include "fuzz_onnx_entry.hpp"

#include <bit>
#include <string>

#include "torchlean/core/error.hpp"
#include "torchlean/io/onnx.hpp"

namespace torchlean::fuzz {

namespace {
void require(bool ok, const std::string& what) {
  if (!ok) throw InternalError("fuzz onnx round trip: " + what);
}
}  // namespace

void onnx_model(std::span<const uint8_t> data) {
  io::OnnxModel m;
  try {
    m = io::import_onnx(data, {.batch = 2}, "fuzz.onnx");
  } catch (const UserError&) {
    return;
  }
  std::vector<uint8_t> bytes;
  try {
    bytes = io::export_onnx(m.graph, m.payload);
  } catch (const UserError& e) {
    throw InternalError(std::string("fuzz: exporting an imported model failed: ") + e.what());
  }
  const io::OnnxModel back = io::import_onnx(bytes, {}, "fuzz round trip");
  require(back.graph == m.graph, "graph differs");
  require(back.payload.size() == m.payload.size(), "payload node count differs");
  for (const auto& [id, slots] : m.payload) {
    require(back.payload.contains(id) && back.payload.at(id).size() == slots.size(),
            "payload slots differ");
    for (const auto& [name, t] : slots) {
      const Tensor<double>& u = back.payload.at(id).at(name);
      require(u.shape() == t.shape(), "payload shape differs");
      for (int64_t i = 0; i < t.numel(); ++i)
        require(std::bit_cast<uint64_t>(u[i]) == std::bit_cast<uint64_t>(t[i]),
                "payload value differs");
    }
  }
}

}  // namespace torchlean::fuzz
