// The elementwise and vector-reduction kernels (elementwise_kernels.hpp) compiled for portable; the
// dispatchers (elementwise.cpp, reduce.cpp) call them only when the CPU supports it.
// Built with the project's baseline flags; it runs everywhere.
#define TL_ISA_PORTABLE
#include "torchlean/runtime/elementwise_kernels.hpp"

namespace torchlean::runtime::detail {
const EwTable* ew_table_portable() { return &kEwTable; }
}  // namespace torchlean::runtime::detail
