// Bandwidth strings. Units are spelled out so a reader cannot mistake bits for bytes: "Mbps"
// and "MB/s" are refused because tools disagree on what they mean (tc reads "mbps" as
// megabytes), which would make a cap off by a factor of eight.

// Bit units are matched without regard to case ("mbit" is how tc writes it) since "bit" is
// unambiguous; byte units must say "iB/s" so binary multiples are never a guess.
const BIT_UNITS: Readonly<Record<string, number>> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
};

const BYTE_UNITS: Readonly<Record<string, number>> = {
  'B/s': 1,
  'KiB/s': 1024,
  'MiB/s': 1024 ** 2,
  'GiB/s': 1024 ** 3,
};

const BANDWIDTH = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+(?:\/s)?)$/;

const EXAMPLE = 'use e.g. "100Mbit" or "10MiB/s"';

/**
 * Parses a bandwidth such as `100Mbit`, `1.5Gbit` or `10MiB/s` into whole bytes per second.
 * @throws RangeError naming the text and what to write instead.
 */
export function parseBandwidth(text: string): number {
  const match = BANDWIDTH.exec(text.trim());
  if (match === null) {
    throw new RangeError(`${JSON.stringify(text)} is not a bandwidth; ${EXAMPLE}`);
  }
  const amount = Number(match[1]);
  const unit = match[2]!;
  const bitsPerUnit = BIT_UNITS[unit.toLowerCase()];
  const bytesPerUnit = BYTE_UNITS[unit];
  let bytesPerSec: number;
  if (bitsPerUnit !== undefined) {
    bytesPerSec = (amount * bitsPerUnit) / 8;
  } else if (bytesPerUnit !== undefined) {
    bytesPerSec = amount * bytesPerUnit;
  } else {
    throw new RangeError(`${JSON.stringify(text)} is not a bandwidth; ${EXAMPLE}`);
  }
  // Token buckets count whole bytes in shared memory, so the rate is an integer.
  const rounded = Math.round(bytesPerSec);
  if (rounded < 1) {
    throw new RangeError(`${JSON.stringify(text)} is below the smallest bandwidth, 1 B/s (8bit)`);
  }
  if (!Number.isSafeInteger(rounded)) {
    throw new RangeError(`${JSON.stringify(text)} is too large a bandwidth`);
  }
  return rounded;
}

// Sizes take the same binary units as byte rates, without "/s", and plain bytes.
const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+)$/;

/**
 * Parses a size such as `4MiB`, `512KiB` or `65536B` into whole bytes, between `min` and `max`.
 * @throws RangeError naming the text and what to write instead.
 */
export function parseSize(text: string, min: number, max: number): number {
  const match = SIZE.exec(text.trim());
  const perUnit = match === null ? undefined : SIZE_UNITS[match[2]!];
  if (match === null || perUnit === undefined) {
    throw new RangeError(`${JSON.stringify(text)} is not a size; use e.g. "4MiB", "512KiB" or "65536B"`);
  }
  const bytes = Math.round(Number(match[1]) * perUnit);
  if (bytes < min || bytes > max) {
    throw new RangeError(
      `${JSON.stringify(text)} is out of range; use ${formatSize(min)} to ${formatSize(max)}`,
    );
  }
  return bytes;
}

/** A byte count in the largest unit that divides it, as parseSize reads it back. */
function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    const perUnit = SIZE_UNITS[unit]!;
    if (bytes >= perUnit && bytes % perUnit === 0) return `${bytes / perUnit}${unit}`;
  }
  return `${bytes}B`;
}
