// compile(): check the payload against the graph, lower, and bind the payload.
#include "torchlean/compile/compile.hpp"

#include "torchlean/compile/detail.hpp"
#include "torchlean/ir/check.hpp"
#include "torchlean/runtime/conv.hpp"

namespace torchlean::compile {

namespace detail {

int64_t conv_workspace_elems(const runtime::ConvParams& p) {
  return static_cast<int64_t>(
      runtime::conv2d_workspace_elems(p.in_c, p.in_h, p.in_w, p.k_h, p.k_w, p.stride, p.padding));
}

}  // namespace detail

template <class T>
runtime::Program<T> compile(const ir::Graph& g, const ir::PayloadStore<T>& payload,
                            const CompileOptions& options) {
  ir::check_graph(g);
  ir::check_payload(g, payload);
  return runtime::Program<T>(lower(g, runtime::elem_type_of<T>(), options), payload);
}

template runtime::Program<float> compile(const ir::Graph&, const ir::PayloadStore<float>&,
                                         const CompileOptions&);
template runtime::Program<double> compile(const ir::Graph&, const ir::PayloadStore<double>&,
                                          const CompileOptions&);

}  // namespace torchlean::compile
