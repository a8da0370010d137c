import { QosTable, setQuota } from '@sluice/qos';
import { describe, expect, it } from 'vitest';
import { QuotaWatch } from './quota-watch.ts';

describe('QuotaWatch', () => {
  it('logs an owner running out once, and its return once, whatever happens in between', () => {
    const qos = new QosTable(QosTable.allocate(4, 4));
    const owners = new Map([
      ['ann', 0],
      ['bob', 1],
    ]);
    const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
    const watch = new QuotaWatch(
      qos,
      () => owners,
      (level, msg, fields = {}) => lines.push({ level, msg, fields }),
    );
    setQuota(qos.words, qos.owner(0), 100n);
    watch.check();
    expect(lines).toEqual([]);
    setQuota(qos.words, qos.owner(0), 0n);
    watch.check();
    watch.check();
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'owner quota exhausted: new connections refused, open ones reset, datagrams dropped',
        fields: { owner: 'ann' },
      },
    ]);
    setQuota(qos.words, qos.owner(0), 5000n);
    watch.check();
    watch.check();
    setQuota(qos.words, qos.owner(0), 0n);
    watch.check();
    setQuota(qos.words, qos.owner(0), null);
    watch.check();
    expect(lines.map((line) => [line.msg.split(':')[0], line.fields])).toEqual([
      ['owner quota exhausted', { owner: 'ann' }],
      ['owner quota restored', { owner: 'ann', left_bytes: 5000 }],
      ['owner quota exhausted', { owner: 'ann' }],
      ['owner quota restored', { owner: 'ann', left_bytes: null }],
    ]);
  });
});
