import { describe, expect, it } from 'vitest';
import { parseReplicaMessage } from './replica-messages.ts';

describe('replica messages', () => {
  it('reads each kind of message', () => {
    const call = {
      type: 'call',
      from: 'a',
      to: 'b',
      callId: 'c1',
      op: { kind: 'push', edgeId: 'e_1', upsert: ['r_1'], remove: [], owners: false, quotas: true },
    };
    expect(parseReplicaMessage(JSON.stringify(call))).toEqual(call);
    const reply = {
      type: 'reply',
      from: 'b',
      to: 'a',
      callId: 'c1',
      outcome: { kind: 'acked', pushId: 3, results: [{ ruleId: 'r_1', revision: 1, state: 'active' }] },
    };
    expect(parseReplicaMessage(JSON.stringify(reply))).toEqual(reply);
    const joined = { type: 'membership', from: 'a' };
    expect(parseReplicaMessage(JSON.stringify(joined))).toEqual(joined);
    const claimed = { type: 'claimed', from: 'a', edgeId: 'e_1', sessionId: 's' };
    expect(parseReplicaMessage(JSON.stringify(claimed))).toEqual(claimed);
  });

  it('answers null for what is not a message, never throws', () => {
    for (const payload of [
      '',
      'not json',
      '{}',
      '[]',
      'null',
      JSON.stringify({ type: 'claimed', from: 'a', edgeId: 'e_1' }),
      JSON.stringify({ type: 'claimed', from: 'a', edgeId: 'e_1', sessionId: 's', extra: 1 }),
      JSON.stringify({ type: 'call', from: 'a', to: 'b', callId: 'c', op: { kind: 'reboot', edgeId: 'e' } }),
      JSON.stringify({
        type: 'reply',
        from: 'a',
        to: 'b',
        callId: 'c',
        outcome: { kind: 'acked', pushId: 1 },
      }),
      JSON.stringify({ type: 'gossip', from: 'a' }),
    ]) {
      expect(parseReplicaMessage(payload), payload).toBeNull();
    }
  });
});

describe('replica message kinds', () => {
  it('reads every routed op and outcome, and stats', () => {
    const messages = [
      {
        type: 'call',
        from: 'a',
        to: 'b',
        callId: 'c',
        op: { kind: 'disconnect', edgeId: 'e', reason: 'r'.repeat(200) },
      },
      ...[{ kind: 'timeout', pushId: 2 }, { kind: 'closed', pushId: 3 }, { kind: 'offline' }].map(
        (outcome) => ({ type: 'reply', from: 'b', to: 'a', callId: 'c', outcome }),
      ),
      {
        type: 'stats',
        from: 'a',
        records: [
          {
            ruleId: 'r_1',
            at: 1,
            bytesIn: 2,
            bytesOut: 3,
            connectionsTotal: 4,
            activeConnections: 5,
            rejected: 6,
            rejectedByReason: { quota_exhausted: 6 },
            connectErrors: 7,
            bytesInPerSec: 8,
            bytesOutPerSec: 9,
          },
        ],
      },
    ];
    for (const message of messages) expect(parseReplicaMessage(JSON.stringify(message))).toEqual(message);
  });

  it('refuses a disconnect reason over 200 characters and a stats record missing a field', () => {
    const long = {
      type: 'call',
      from: 'a',
      to: 'b',
      callId: 'c',
      op: { kind: 'disconnect', edgeId: 'e', reason: 'r'.repeat(201) },
    };
    expect(parseReplicaMessage(JSON.stringify(long))).toBeNull();
    const partial = { type: 'stats', from: 'a', records: [{ ruleId: 'r_1', at: 1 }] };
    expect(parseReplicaMessage(JSON.stringify(partial))).toBeNull();
  });
});
