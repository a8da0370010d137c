// A row as node:sqlite answers it, and the conversions from its loosely typed values.

import type { SQLOutputValue } from 'node:sqlite';

export type Row = Record<string, SQLOutputValue>;

export function str(value: SQLOutputValue | undefined): string {
  return String(value);
}

export function strOrNull(value: SQLOutputValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function num(value: SQLOutputValue | undefined): number {
  return Number(value);
}

export function numOrNull(value: SQLOutputValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}
