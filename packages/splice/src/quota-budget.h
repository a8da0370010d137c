// An owner's monthly quota on this edge, seen from the splice path: the arithmetic of
// packages/qos/src/quota-budget.ts, line for line. Two words of the owner's QoS entity, whose
// offsets come from JS at init (packages/qos/src/qos-layout.ts is the only layout).
#pragma once

#include <cstdint>

namespace sluice {
namespace quota {

struct QuotaLayout {
  uint32_t capped = 0;  // 1: a quota applies
  uint32_t left = 0;    // bytes the owner may still move
};

inline bool Capped(const int64_t* owner, const QuotaLayout& l) {
  return __atomic_load_n(owner + l.capped, __ATOMIC_SEQ_CST) != 0;
}

// Up to `want` bytes from the budget: all when uncapped, 0 when spent.
inline uint64_t Take(int64_t* owner, const QuotaLayout& l, uint64_t want) {
  if (!Capped(owner, l)) return want;
  int64_t* word = owner + l.left;
  for (;;) {
    int64_t left = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (left <= 0) return 0;
    const uint64_t granted = static_cast<uint64_t>(left) < want ? static_cast<uint64_t>(left) : want;
    if (__atomic_compare_exchange_n(word, &left, left - static_cast<int64_t>(granted), false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
      return granted;
    }
  }
}

inline void Refund(int64_t* owner, const QuotaLayout& l, uint64_t granted, uint64_t used) {
  if (granted > used && Capped(owner, l)) {
    __atomic_fetch_add(owner + l.left, static_cast<int64_t>(granted - used), __ATOMIC_SEQ_CST);
  }
}

}  // namespace quota
}  // namespace sluice
