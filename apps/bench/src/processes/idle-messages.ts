// The IPC messages between the idle-memory scenario and its two helper processes: the holder
// (the target: accepts and holds connections) and the client (opens connections through the
// contender). Neither runs in the measured process, and neither runs in the bench process.

export type IdleRequest =
  | { readonly type: 'count' }
  | { readonly type: 'open'; readonly port: number; readonly count: number; readonly concurrency: number }
  | { readonly type: 'close' };

export type IdleReply =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'count'; readonly open: number }
  | {
      readonly type: 'opened';
      readonly open: number;
      readonly failed: number;
      readonly firstError: string | null;
    }
  | { readonly type: 'closed'; readonly open: number };

export function isIdleRequest(value: unknown): value is IdleRequest {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';
}

export function isIdleReply(value: unknown): value is IdleReply {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';
}
