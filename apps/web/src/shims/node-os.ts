// The browser's stand-in for node:os: @sluice/config names a standalone edge after its host,
// which a rule pushed from the console never needs.

export function hostname(): string {
  return 'browser';
}
