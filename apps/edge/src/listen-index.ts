// The listen addresses of the rules an edge holds, indexed by protocol and port, so that a
// pushed rule is checked for an overlap against the few rules on its ports instead of against
// every rule (a push must not cost more as the edge holds more rules).
//
// A listen of a few ports is filed under each of its ports; a wide range (more than WIDE_SPAN
// ports) is kept on a short list checked in full, so one rule over 1-65535 does not make 65,535
// entries.

import { type ListenSpec, listensOverlap, type Protocol } from '@sluice/config';

const WIDE_SPAN = 64;

interface Held<T> {
  readonly protocol: Protocol;
  readonly listen: ListenSpec;
  readonly value: T;
}

export class ListenIndex<T> {
  private readonly byPort = new Map<string, Set<Held<T>>>();
  private readonly wide = new Set<Held<T>>();
  /** Where each value is filed, to take it out again. */
  private readonly held = new Map<T, Held<T>>();

  add(protocol: Protocol, listen: ListenSpec, value: T): void {
    this.delete(value);
    const held: Held<T> = { protocol, listen, value };
    this.held.set(value, held);
    if (isWide(listen)) {
      this.wide.add(held);
      return;
    }
    for (let port = listen.portLo; port <= listen.portHi; port++) {
      const key = keyOf(protocol, port);
      let bucket = this.byPort.get(key);
      if (bucket === undefined) {
        bucket = new Set();
        this.byPort.set(key, bucket);
      }
      bucket.add(held);
    }
  }

  delete(value: T): void {
    const held = this.held.get(value);
    if (held === undefined) return;
    this.held.delete(value);
    if (isWide(held.listen)) {
      this.wide.delete(held);
      return;
    }
    for (let port = held.listen.portLo; port <= held.listen.portHi; port++) {
      const key = keyOf(held.protocol, port);
      const bucket = this.byPort.get(key);
      bucket?.delete(held);
      if (bucket?.size === 0) this.byPort.delete(key);
    }
  }

  /** A value whose listen overlaps `listen` for `protocol`, with that listen; null when none. */
  overlapping(protocol: Protocol, listen: ListenSpec): { value: T; listen: ListenSpec } | null {
    const hit = (held: Held<T>) => held.protocol === protocol && listensOverlap(held.listen, listen);
    for (const held of this.wide) if (hit(held)) return held;
    for (let port = listen.portLo; port <= listen.portHi; port++) {
      const bucket = this.byPort.get(keyOf(protocol, port));
      if (bucket === undefined) continue;
      for (const held of bucket) if (hit(held)) return held;
    }
    return null;
  }
}

function isWide(listen: ListenSpec): boolean {
  return listen.portHi - listen.portLo >= WIDE_SPAN;
}

function keyOf(protocol: Protocol, port: number): string {
  return `${protocol}/${port}`;
}
