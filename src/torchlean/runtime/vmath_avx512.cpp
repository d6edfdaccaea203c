// The vectorised binary32 elementary functions (vmath_kernels.hpp) compiled for avx512; the
// dispatcher in vmath.cpp calls them only when the CPU supports it.
// Built with -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma on x86-64 (CMakeLists.txt).
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__FMA__)
#define TL_ISA_AVX512
#include "torchlean/runtime/vmath_kernels.hpp"

namespace torchlean::runtime::detail {
const VmathTable* vmath_table_avx512() { return &kVmathTable; }
}  // namespace torchlean::runtime::detail
#else
#include "torchlean/runtime/vmath_isa.hpp"

namespace torchlean::runtime::detail {
const VmathTable* vmath_table_avx512() { return nullptr; }
}  // namespace torchlean::runtime::detail
#endif
