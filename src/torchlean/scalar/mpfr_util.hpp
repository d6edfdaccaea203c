// Internal MPFR helpers for the scalar layer: an RAII mpfr_t (which also arranges for MPFR's
// per-thread caches to be freed when the thread exits), a guard that narrows MPFR's exponent
// range to an IEEE format (so results round into that format's subnormals and overflow to inf
// exactly where the format does), and exact MPFR <-> GMP rational conversions.
#pragma once
#include <gmpxx.h>
#include <mpfr.h>

namespace torchlean::detail {

// MPFR keeps per-thread caches (constants such as pi and log 2) that must be freed before a
// thread exits. Any thread that creates an Mpfr registers a thread_local whose destructor does it.
struct MpfrThreadCache {
  MpfrThreadCache() = default;
  MpfrThreadCache(const MpfrThreadCache&) = delete;
  MpfrThreadCache& operator=(const MpfrThreadCache&) = delete;
  ~MpfrThreadCache() { mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE); }
};
inline void free_mpfr_cache_at_thread_exit() {
  thread_local MpfrThreadCache cache;
  (void)cache;
}

class Mpfr {
 public:
  explicit Mpfr(mpfr_prec_t prec) {
    free_mpfr_cache_at_thread_exit();
    mpfr_init2(v_, prec);
  }
  ~Mpfr() { mpfr_clear(v_); }
  Mpfr(const Mpfr&) = delete;
  Mpfr& operator=(const Mpfr&) = delete;
  mpfr_ptr get() { return v_; }
  mpfr_srcptr get() const { return v_; }
  operator mpfr_ptr() { return v_; }  // NOLINT: lets Mpfr be passed straight to mpfr_* calls
  operator mpfr_srcptr() const { return v_; }

 private:
  mpfr_t v_;
};

// Sets MPFR's (thread-local) exponent range for the lifetime of the guard and restores the old one.
// The emin/emax of binary32 are -148/128 and of binary64 -1073/1024 in MPFR's 0.1xxx * 2^e
// convention; together with mpfr_subnormalize this makes an MPFR result at 24 (53) bits the
// correctly rounded binary32 (binary64) result, subnormals and overflow included.
class ExponentRange {
 public:
  ExponentRange(mpfr_exp_t emin, mpfr_exp_t emax) : old_min_(mpfr_get_emin()), old_max_(mpfr_get_emax()) {
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
  }
  ~ExponentRange() {
    mpfr_set_emin(old_min_);
    mpfr_set_emax(old_max_);
  }
  ExponentRange(const ExponentRange&) = delete;
  ExponentRange& operator=(const ExponentRange&) = delete;

 private:
  mpfr_exp_t old_min_, old_max_;
};

inline constexpr mpfr_exp_t kF32Emin = -148, kF32Emax = 128;
inline constexpr mpfr_exp_t kF64Emin = -1073, kF64Emax = 1024;

// The exact rational value of a finite MPFR number.
inline mpq_class mpfr_to_mpq(mpfr_srcptr x) {
  mpq_class q;
  mpfr_get_q(q.get_mpq_t(), x);
  return q;
}

}  // namespace torchlean::detail
