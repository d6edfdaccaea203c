// log_softmax and cross_entropy kernels, exact order (reference: ops/loss_ext.cpp; the order is
// spelled out in loss_kernels.cpp). Row-wise: independent rows may be split among threads.
#pragma once
#include <cstdint>

namespace torchlean::runtime {

// log_softmax along the middle axis of the (outer, len, inner) view of x. y may not alias x.
template <class T>
void log_softmax_exact(const T* x, T* y, int64_t outer, int64_t len, int64_t inner);
// cross_entropy of logits (n, c) against class indices t (n), already checked: the mean over
// rows of -log_softmax(logits)[row, t_row].
template <class T>
T cross_entropy_exact(const T* logits, const T* t, int64_t n, int64_t c);

}  // namespace torchlean::runtime
