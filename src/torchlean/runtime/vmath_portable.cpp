// The vectorised binary32 elementary functions (vmath_kernels.hpp) compiled for portable; the
// dispatcher in vmath.cpp calls them only when the CPU supports it.
// Built with the project's baseline flags; it runs everywhere.
#define TL_ISA_PORTABLE
#include "torchlean/runtime/vmath_kernels.hpp"

namespace torchlean::runtime::detail {
const VmathTable* vmath_table_portable() { return &kVmathTable; }
}  // namespace torchlean::runtime::detail
