// The vectorised binary32 elementary functions (vmath_kernels.hpp) compiled for avx2; the
// dispatcher in vmath.cpp calls them only when the CPU supports it.
// Built with -mavx2 -mfma on x86-64 (CMakeLists.txt).
#if defined(__AVX2__) && defined(__FMA__)
#define TL_ISA_AVX2
#include "torchlean/runtime/vmath_kernels.hpp"

namespace torchlean::runtime::detail {
const VmathTable* vmath_table_avx2() { return &kVmathTable; }
}  // namespace torchlean::runtime::detail
#else
#include "torchlean/runtime/vmath_isa.hpp"

namespace torchlean::runtime::detail {
const VmathTable* vmath_table_avx2() { return nullptr; }
}  // namespace torchlean::runtime::detail
#endif
