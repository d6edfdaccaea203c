#include "torchlean/nn/checkpoint.hpp"

#include <charconv>

#include "torchlean/core/error.hpp"
#include "torchlean/io/safetensors.hpp"

namespace torchlean::nn {
namespace {

constexpr const char* kFormat = "torchlean_cpp.checkpoint.v1";

}  // namespace

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& ck) {
  io::Safetensors st;
  st.metadata = ck.meta;
  st.metadata["format"] = kFormat;
  st.metadata["step"] = std::to_string(ck.step);
  for (const auto& e : ck.params.entries())
    st.tensors.push_back({(e.trainable ? "param." : "buffer.") + e.name, io::DType::f32, e.value});
  for (const auto& e : ck.optimizer.entries())
    st.tensors.push_back({"optim." + e.name, io::DType::f32, e.value});
  // Write to a temporary name first, so an interrupted write never replaces a good checkpoint.
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  io::write_safetensors_file(tmp, st);
  std::filesystem::rename(tmp, path);
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  const io::Safetensors st = io::read_safetensors_file(path);
  const std::string where = "checkpoint: '" + path.string() + "'";
  auto fmt = st.metadata.find("format");
  TL_USER_CHECK(fmt != st.metadata.end() && fmt->second == kFormat,
                where + ": metadata format is not " + std::string(kFormat));
  Checkpoint ck;
  ck.meta = st.metadata;
  ck.meta.erase("format");
  auto step = st.metadata.find("step");
  TL_USER_CHECK(step != st.metadata.end(), where + ": metadata has no step");
  const std::string& s = step->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ck.step);
  TL_USER_CHECK(ec == std::errc() && ptr == s.data() + s.size() && ck.step >= 0,
                where + ": step '" + s + "' is not a natural number");
  ck.meta.erase("step");
  // Tensors come back in data-offset order, which is the order they were written in.
  for (const auto& e : st.tensors) {
    auto starts = [&](const char* p) { return e.name.rfind(p, 0) == 0; };
    if (starts("param."))
      ck.params.add(e.name.substr(6), e.tensor, true);
    else if (starts("buffer."))
      ck.params.add(e.name.substr(7), e.tensor, false);
    else if (starts("optim."))
      ck.optimizer.add(e.name.substr(6), e.tensor, false);
    else
      throw UserError(where + ": unknown tensor '" + e.name +
                      "' (expected param., buffer. or optim.)");
  }
  return ck;
}

}  // namespace torchlean::nn
