// Token buckets in the QoS shared buffer, seen from the splice path. The arithmetic is the
// TypeScript reference in packages/qos/src/token-bucket.ts, line for line: GCRA over one TAT
// word per bucket, integer nanoseconds, costs rounded up, one compare-and-swap per grant. The
// word offsets come from JS at init (packages/qos/src/qos-layout.ts is the only layout).
#pragma once

#include <cstdint>

namespace sluice {
namespace qos {

// Offsets of a bucket's three words from its first word.
// Word offsets within a bucket, given by init() from packages/qos's layout (never defaulted here).
struct BucketLayout {
  uint32_t rate = 0;      // units per 1000 s; 0 = no cap
  uint32_t limit_ns = 0;  // the burst, as the time the rate takes to earn it
  uint32_t tat_ns = 0;    // theoretical arrival time, on the uv_hrtime() clock
};

constexpr __int128 kNsPerRateUnit = 1000000000000;  // ns in 1000 s
constexpr uint64_t kMaxMinChunk = 16384;
constexpr int64_t kMinChunkNs = 10000000;  // 10 ms of rate
// The most one grant hands out when it can be had: 5 ms of rate (at least the minimum chunk).
// Connections sharing a bucket then take turns in slices, instead of the first to wake taking
// everything the bucket holds while the others wait.
constexpr int64_t kQuantumNs = 5000000;

inline int64_t Load(const int64_t* word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }

inline int64_t CostNs(uint64_t units, int64_t rate) {
  return static_cast<int64_t>((static_cast<__int128>(units) * kNsPerRateUnit + rate - 1) / rate);
}

inline uint64_t UnitsIn(int64_t ns, int64_t rate) {
  return ns <= 0 ? 0 : static_cast<uint64_t>(static_cast<__int128>(ns) * rate / kNsPerRateUnit);
}

inline bool Capped(const int64_t* bucket, const BucketLayout& l) { return Load(bucket + l.rate) != 0; }

inline uint64_t MinChunk(int64_t rate, int64_t limit_ns) {
  uint64_t chunk = UnitsIn(kMinChunkNs, rate);
  if (chunk > kMaxMinChunk) chunk = kMaxMinChunk;
  uint64_t burst = UnitsIn(limit_ns, rate);
  if (chunk > burst) chunk = burst;
  return chunk < 1 ? 1 : chunk;
}

// The largest grant a connection takes at once from this bucket.
inline uint64_t Quantum(int64_t rate, int64_t limit_ns) {
  uint64_t quantum = UnitsIn(kQuantumNs, rate);
  uint64_t least = MinChunk(rate, limit_ns);
  return quantum > least ? quantum : least;
}

struct Grant {
  uint64_t granted = 0;  // 0: wait wait_ns
  int64_t wait_ns = 0;
};

// As many of `want` units as the bucket holds, but not fewer than min(want, MinChunk).
inline Grant GrantUnits(int64_t* bucket, const BucketLayout& l, int64_t now, uint64_t want) {
  Grant g;
  const int64_t rate = Load(bucket + l.rate);
  if (rate == 0) {
    g.granted = want;
    return g;
  }
  const int64_t limit = Load(bucket + l.limit_ns);
  const uint64_t quantum = Quantum(rate, limit);
  if (want > quantum) want = quantum;
  const uint64_t min_chunk = MinChunk(rate, limit);
  const uint64_t least = want < min_chunk ? want : min_chunk;
  for (;;) {
    int64_t tat = Load(bucket + l.tat_ns);
    const int64_t base = tat > now ? tat : now;
    const uint64_t held = UnitsIn(now + limit - base, rate);
    if (held < least) {
      g.wait_ns = base + CostNs(least, rate) - limit - now;
      return g;
    }
    const uint64_t granted = held < want ? held : want;
    if (__atomic_compare_exchange_n(bucket + l.tat_ns, &tat, base + CostNs(granted, rate), false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
      g.granted = granted;
      return g;
    }
  }
}

// Gives back what a grant took but did not use.
inline void Refund(int64_t* bucket, const BucketLayout& l, uint64_t granted, uint64_t used) {
  const int64_t rate = Load(bucket + l.rate);
  if (rate == 0 || granted <= used) return;
  __atomic_fetch_sub(bucket + l.tat_ns, CostNs(granted, rate) - CostNs(used, rate), __ATOMIC_SEQ_CST);
}

}  // namespace qos
}  // namespace sluice
