// The elementwise and vector-reduction kernels (elementwise_kernels.hpp) compiled for avx2; the
// dispatchers (elementwise.cpp, reduce.cpp) call them only when the CPU supports it.
// Built with -mavx2 -mfma on x86-64 (CMakeLists.txt).
#if defined(__AVX2__) && defined(__FMA__)
#define TL_ISA_AVX2
#include "torchlean/runtime/elementwise_kernels.hpp"

namespace torchlean::runtime::detail {
const EwTable* ew_table_avx2() { return &kEwTable; }
}  // namespace torchlean::runtime::detail
#else
#include "torchlean/runtime/elementwise_isa.hpp"

namespace torchlean::runtime::detail {
const EwTable* ew_table_avx2() { return nullptr; }
}  // namespace torchlean::runtime::detail
#endif
