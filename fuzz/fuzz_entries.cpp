#include "fuzz_entries.hpp"

#include <bit>
#include <string>
#include <string_view>

#include "torchlean/core/error.hpp"
#include "torchlean/io/graph_json.hpp"
#include "torchlean/io/npy.hpp"
#include "torchlean/io/paramlist_bits.hpp"
#include "torchlean/io/safetensors.hpp"
#include "torchlean/io/state_dict.hpp"
#include "torchlean/ir/check.hpp"

namespace torchlean::fuzz {
namespace {

std::string_view as_text(std::span<const uint8_t> d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

void require(bool ok, const std::string& what) {
  if (!ok) throw InternalError("fuzz round trip: " + what);
}

// Exact equality, NaN payloads and signed zeros included.
template <class S>
bool same_bits(const Tensor<S>& a, const Tensor<S>& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::bit_cast<std::conditional_t<sizeof(S) == 8, uint64_t, uint32_t>>(a[i]) !=
        std::bit_cast<std::conditional_t<sizeof(S) == 8, uint64_t, uint32_t>>(b[i]))
      return false;
  return true;
}

bool same_payload(const ir::Payload& a, const ir::Payload& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.size() != ib->second.size()) return false;
    for (auto sa = ia->second.begin(), sb = ib->second.begin(); sa != ia->second.end(); ++sa, ++sb)
      if (sa->first != sb->first || !same_bits(sa->second, sb->second)) return false;
  }
  return true;
}

// A value read successfully must be writable: a UserError from the writer here is our bug.
template <class F>
auto must_write(F&& write, const char* what) {
  try {
    return write();
  } catch (const UserError& e) {
    throw InternalError(std::string("fuzz: writing back a value the ") + what + " reader accepted failed: " +
                        e.what());
  }
}

// input (2) -> linear (3) -> relu -> linear (1): the consumer graph for payload mapping.
const ir::Graph& mlp_graph() {
  static const ir::Graph g = [] {
    ir::Graph m;
    m.add(ir::OpKind::input, {}, ir::NoAttrs{}, Shape{2});
    m.add(ir::OpKind::linear, {0}, ir::NoAttrs{}, Shape{3});
    m.add(ir::OpKind::relu, {1}, ir::NoAttrs{}, Shape{3});
    m.add(ir::OpKind::linear, {2}, ir::NoAttrs{}, Shape{1});
    m.input_ids = {0};
    m.output_ids = {3};
    return m;
  }();
  return g;
}

}  // namespace

void graph_json(std::span<const uint8_t> data) {
  io::GraphJson g;
  try {
    g = io::read_graph_json(as_text(data));
  } catch (const UserError&) {
    return;
  }
  const std::string text = must_write([&] { return io::write_graph_json(g.graph, g.inline_payload); }, "graph_json");
  io::GraphJson back = io::read_graph_json(text);
  require(back.graph == g.graph, "graph_json graph differs after write/read");
  require(same_payload(back.inline_payload, g.inline_payload), "graph_json inline payload differs");
  try {
    ir::check_graph(g.graph);
  } catch (const UserError&) {
  }
}

void safetensors(std::span<const uint8_t> data) {
  io::Safetensors st;
  try {
    st = io::read_safetensors(data);
  } catch (const UserError&) {
    return;
  }
  const std::vector<uint8_t> bytes = must_write([&] { return io::write_safetensors(st); }, "safetensors");
  io::Safetensors back = io::read_safetensors(bytes);
  require(back.metadata == st.metadata && back.tensors.size() == st.tensors.size(), "safetensors header differs");
  for (size_t i = 0; i < st.tensors.size(); ++i)
    require(back.tensors[i].name == st.tensors[i].name && back.tensors[i].dtype == st.tensors[i].dtype &&
                same_bits(back.tensors[i].tensor, st.tensors[i].tensor),
            "safetensors tensor differs");
  try {
    io::payload_from_safetensors(st);
  } catch (const UserError&) {
  }
}

void npy(std::span<const uint8_t> data) {
  Tensor<double> t;
  io::NpyHeader h;
  try {
    h = io::read_npy_header(data);
    t = io::read_npy(data);
  } catch (const UserError&) {
    return;
  }
  if (h.dtype == io::NpyDType::f4) {
    Tensor<float> f = io::read_npy_f32(data);
    require(same_bits(io::read_npy_f32(io::write_npy(f)), f), "npy float32 differs");
  }
  require(same_bits(io::read_npy(io::write_npy(t)), t), "npy float64 differs");
}

void state_dict(std::span<const uint8_t> data) {
  io::StateDict sd;
  try {
    sd = io::read_state_dict(as_text(data));
  } catch (const UserError&) {
    return;
  }
  const std::string text = must_write([&] { return io::write_state_dict(sd); }, "state_dict");
  io::StateDict back = io::read_state_dict(text);
  require(back.params.size() == sd.params.size() && back.meta == sd.meta, "state_dict keys or meta differ");
  for (size_t i = 0; i < sd.params.size(); ++i)
    require(back.params[i].first == sd.params[i].first && same_bits(back.params[i].second, sd.params[i].second),
            "state_dict tensor differs");
  try {
    io::payload_from_state_dict(mlp_graph(), sd);
  } catch (const UserError&) {
  }
}

void paramlist_bits(std::span<const uint8_t> data) {
  std::vector<Tensor<double>> ps;
  try {
    ps = io::read_paramlist_bits(as_text(data));
  } catch (const UserError&) {
    return;
  }
  const std::string text = must_write([&] { return io::write_paramlist_bits(ps); }, "paramlist_bits");
  std::vector<Tensor<double>> back = io::read_paramlist_bits(text);
  require(back.size() == ps.size(), "paramlist_bits count differs");
  for (size_t i = 0; i < ps.size(); ++i) require(same_bits(back[i], ps[i]), "paramlist_bits tensor differs");
  try {
    io::payload_from_paramlist(mlp_graph(), ps);
  } catch (const UserError&) {
  }
}

}  // namespace torchlean::fuzz
