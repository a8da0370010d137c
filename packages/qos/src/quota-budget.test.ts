import { describe, expect, it } from 'vitest';
import { QOS_FIELD } from './qos-layout.ts';
import { NO_LIMITS, QosTable } from './qos-table.ts';
import { quotaCapped, quotaExhausted, quotaLeft, refundQuota, setQuota, takeQuota } from './quota-budget.ts';
import { tokens } from './token-bucket.ts';

function owner(): { words: BigInt64Array; at: number } {
  const qos = new QosTable(QosTable.allocate(4, 2));
  return { words: qos.words, at: qos.owner(1) };
}

describe('an owner quota budget', () => {
  it('without a quota grants all that is asked and is never exhausted', () => {
    const { words, at } = owner();
    expect(quotaCapped(words, at)).toBe(false);
    expect(takeQuota(words, at, 1_000_000n)).toBe(1_000_000n);
    expect(quotaExhausted(words, at)).toBe(false);
    // Nothing was written: an uncapped owner's words stay zero.
    expect(words[at + QOS_FIELD.QUOTA_LEFT]).toBe(0n);
  });

  it('grants up to what is left, the last grant short, then nothing', () => {
    const { words, at } = owner();
    setQuota(words, at, 1000n);
    expect(quotaCapped(words, at)).toBe(true);
    expect(takeQuota(words, at, 600n)).toBe(600n);
    expect(quotaLeft(words, at)).toBe(400n);
    expect(quotaExhausted(words, at)).toBe(false);
    expect(takeQuota(words, at, 600n)).toBe(400n);
    expect(quotaLeft(words, at)).toBe(0n);
    expect(quotaExhausted(words, at)).toBe(true);
    expect(takeQuota(words, at, 1n)).toBe(0n);
    expect(quotaLeft(words, at)).toBe(0n);
  });

  it('takes back what a grant did not use, and only under a quota', () => {
    const { words, at } = owner();
    setQuota(words, at, 1000n);
    expect(takeQuota(words, at, 1000n)).toBe(1000n);
    refundQuota(words, at, 1000n, 300n);
    expect(quotaLeft(words, at)).toBe(700n);
    refundQuota(words, at, 300n, 300n);
    refundQuota(words, at, 200n, 500n);
    expect(quotaLeft(words, at)).toBe(700n);
    setQuota(words, at, null);
    refundQuota(words, at, 1000n, 0n);
    expect(quotaLeft(words, at)).toBe(0n);
  });

  it('a budget set below zero is zero: spent, not negative', () => {
    const { words, at } = owner();
    setQuota(words, at, -5n);
    expect(quotaLeft(words, at)).toBe(0n);
    expect(quotaExhausted(words, at)).toBe(true);
    setQuota(words, at, 1n);
    expect(quotaExhausted(words, at)).toBe(false);
    setQuota(words, at, null);
    expect(quotaCapped(words, at)).toBe(false);
    expect(quotaExhausted(words, at)).toBe(false);
  });
});

describe('QosTable and the quota', () => {
  it('refuses a new connection of an owner whose quota is spent, before any cap', () => {
    const qos = new QosTable(QosTable.allocate(4, 2));
    const at = qos.owner(0);
    const rule = qos.rule(0);
    setQuota(qos.words, at, 0n);
    expect(qos.admit(at, rule)).toBe('quota_exhausted');
    expect(qos.active(at)).toBe(0);
    expect(qos.active(rule)).toBe(0);
    setQuota(qos.words, at, 10n);
    expect(qos.admit(at, rule)).toBeNull();
    expect(qos.quotaExhausted(at)).toBe(false);
  });

  it('drops a datagram the quota cannot cover whole, and gives the buckets their tokens back', () => {
    const qos = new QosTable(QosTable.allocate(4, 2));
    const at = qos.owner(0);
    const rule = qos.rule(0);
    const t = 100n * 1_000_000_000n;
    const capped = { bytesPerSec: 10_000, burstBytes: 10_000 };
    qos.configure(at, { ...NO_LIMITS, bandwidthIn: capped }, t);
    qos.configure(rule, { ...NO_LIMITS, bandwidthIn: capped }, t);
    setQuota(qos.words, at, 1500n);
    expect(qos.takeDatagram(at, rule, QOS_FIELD.BANDWIDTH_IN, 1000, t)).toBeNull();
    expect(qos.takeDatagram(at, rule, QOS_FIELD.BANDWIDTH_IN, 1000, t)).toBe('quota');
    // The refused datagram left the quota and both buckets as they were.
    expect(quotaLeft(qos.words, at)).toBe(500n);
    expect(tokens(qos.words, at + QOS_FIELD.BANDWIDTH_IN, t)).toBe(9000n);
    expect(tokens(qos.words, rule + QOS_FIELD.BANDWIDTH_IN, t)).toBe(9000n);
    expect(qos.takeDatagram(at, rule, QOS_FIELD.BANDWIDTH_IN, 9000, t)).toBe('quota');
    expect(qos.takeDatagram(at, rule, QOS_FIELD.BANDWIDTH_IN, 500, t)).toBeNull();
    expect(qos.quotaExhausted(at)).toBe(true);
  });

  it('takeQuota and refundQuota answer and give back whole bytes for the JS relay', () => {
    const qos = new QosTable(QosTable.allocate(4, 2));
    const at = qos.owner(0);
    expect(qos.takeQuota(at, 70_000)).toBe(70_000);
    setQuota(qos.words, at, 100_000n);
    expect(qos.takeQuota(at, 70_000)).toBe(70_000);
    expect(qos.takeQuota(at, 70_000)).toBe(30_000);
    qos.refundQuota(at, 30_000);
    expect(quotaLeft(qos.words, at)).toBe(30_000n);
  });
});
