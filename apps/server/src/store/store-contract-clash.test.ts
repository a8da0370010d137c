// The store's half of the overlap check (rule-service.ts checkConflicts), on both backends: among
// many rules of an edge, the indexes find exactly those on the same name or on ports that meet
// the pushed listen's, and a rule stored before the listen keys existed is found once they are
// filled in. Many acks of a full push go active in batches.

import { describe, expect, it } from 'vitest';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';
import { rawQuery } from './store-raw.fixture.ts';

/** 300 rules: r0 .. r299 on 127.0.0.1:20000 .., every tenth one UDP; one wide TCP range. */
const MANY = 300;

describe.each(STORE_BACKENDS)('clash candidates on %s', (backend) => {
  const fx = useStoreBackend(backend);

  async function filled() {
    const store = await fx.open();
    const { edge } = await store.edges.createEnrollment('edge-01', 60_000, null);
    const { edge: other } = await store.edges.createEnrollment('edge-02', 60_000, null);
    for (let i = 0; i < MANY; i++) {
      const protocol = i % 10 === 0 ? 'udp' : 'tcp';
      const body = { name: `r${i}`, protocol, listen: `127.0.0.1:${20_000 + i}`, targets: ['127.0.0.1:9'] };
      await store.rules.insert({ edgeId: edge.id, owner: 'alice', name: body.name, body });
    }
    const wide = { name: 'wide', listen: '0.0.0.0:30000-30999', targets: ['127.0.0.1'] };
    await store.rules.insert({ edgeId: edge.id, owner: 'alice', name: 'wide', body: wide });
    // The same port on another edge is no clash.
    const elsewhere = { name: 'r5', listen: '127.0.0.1:20005', targets: ['127.0.0.1:9'] };
    await store.rules.insert({ edgeId: other.id, owner: 'alice', name: 'r5', body: elsewhere });
    return { store, edge };
  }

  const names = (rules: { name: string }[]) => rules.map((rule) => rule.name).sort();

  it('finds the rules on the same ports and protocol, and the one of the same name, among many', async () => {
    const { store, edge } = await filled();
    const tcp = (portLo: number, portHi = portLo) => ({ protocol: 'tcp', portLo, portHi });
    expect(names(await store.rules.clashCandidates(edge.id, 'new', tcp(20_153)))).toEqual(['r153']);
    // r140 is UDP, so a TCP listen over 140-142 meets r141 and r142 only.
    expect(names(await store.rules.clashCandidates(edge.id, 'new', tcp(20_140, 20_142)))).toEqual([
      'r141',
      'r142',
    ]);
    expect(
      names(
        await store.rules.clashCandidates(edge.id, 'new', {
          protocol: 'udp',
          portLo: 20_140,
          portHi: 20_140,
        }),
      ),
    ).toEqual(['r140']);
    // A rule starting well below the port still reaches it.
    expect(names(await store.rules.clashCandidates(edge.id, 'new', tcp(30_500)))).toEqual(['wide']);
    expect(names(await store.rules.clashCandidates(edge.id, 'r7', tcp(40_000)))).toEqual(['r7']);
    expect(await store.rules.clashCandidates(edge.id, 'new', tcp(40_000))).toEqual([]);
    expect(await store.rules.clashCandidates(edge.id, 'new', null)).toEqual([]);
    await store.close();
  });

  it('leaves out removed rules, and finds rules stored before the keys once they are filled', async () => {
    const { store, edge } = await filled();
    const at = (port: number) => ({ protocol: 'tcp', portLo: port, portHi: port });
    const r151 = (await store.rules.clashCandidates(edge.id, 'x', at(20_151)))[0]!;
    await store.rules.tombstone(r151.id);
    expect(await store.rules.clashCandidates(edge.id, 'x', at(20_151))).toEqual([]);
    expect(await store.rules.clashCandidates(edge.id, 'r151', at(1))).toEqual([]);

    // As a database from before schema 9 has them: no listen keys.
    await rawQuery(
      fx.spec,
      "UPDATE rules SET protocol = NULL, port_lo = NULL, port_span = NULL WHERE name IN ('r152', 'wide')",
    );
    expect(await store.rules.clashCandidates(edge.id, 'x', at(20_152))).toEqual([]);
    expect(await store.rules.fillListenKeys(edge.id)).toBe(2);
    expect(await store.rules.fillListenKeys(edge.id)).toBe(0);
    expect(names(await store.rules.clashCandidates(edge.id, 'x', at(20_152)))).toEqual(['r152']);
    expect(names(await store.rules.clashCandidates(edge.id, 'x', at(30_999)))).toEqual(['wide']);
    await store.close();
  });

  it('sets many rules active at once, each only at its current revision', async () => {
    const { store, edge } = await filled();
    const rules = await store.rules.list({ edgeId: edge.id });
    const revised = await store.rules.revise(rules[0]!.id, { name: rules[0]!.name, body: rules[0]!.body });
    const acks = rules.map((rule) => ({ ruleId: rule.id, revision: rule.revision }));
    // rules[0] is at revision 2 now: its ack for revision 1 says nothing. (edge-02's r5 stays pending.)
    expect(await store.rules.setActive(edge.id, acks)).toBe(rules.length - 1);
    expect(await store.rules.setActive(edge.id, [{ ruleId: revised.id, revision: 2 }])).toBe(1);
    // Acked again (a replay): nothing is rewritten, and when each became active stays.
    const activeAt = (await store.rules.get(revised.id))!.updatedAt;
    expect(await store.rules.setActive(edge.id, [...acks, { ruleId: revised.id, revision: 2 }])).toBe(0);
    expect((await store.rules.get(revised.id))!.updatedAt).toBe(activeAt);
    expect(await store.rules.countByState()).toMatchObject({ active: MANY + 1, pending: 1 });
    await store.close();
  });
});
