// What a user may push beyond its grants, under the default policy of a server: no privileged
// port through a wide grant, no loopback, link-local or own-address target, and at most so many
// rules and ports per edge. Admins are not bound; a refused push stores nothing.

import { networkInterfaces } from 'node:os';
import { ACK_ALL_ACTIVE, type FakeEdge } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_POLICY } from '../tenant-policy.ts';
import { enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

let test: TestServer;
let edge: FakeEdge;
let erin: string;

const push = (listen: string, targets: string[], token = erin, name = `r${listen.replace(/\D/g, '')}`) =>
  test.request('POST', '/v1/rules', { edge: 'edge-01', rule: { name, listen, targets } }, token);

beforeAll(async () => {
  test = await startTestServer({
    config: {
      tenants: {
        ...DEFAULT_TENANT_POLICY,
        maxRulesPerEdge: 3,
        maxPortsPerEdge: 20,
        targetsAllowed: ['10.9.0.0/16'],
      },
    },
  });
  edge = (await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE)).edge;
  const { store } = test.server;
  erin = (await store.users.createToken((await store.users.create('erin', 'user')).id)).token;
  for (const ports of [
    { from: 1, to: 65535 },
    { from: 20, to: 25 },
  ]) {
    const made = await test.request('POST', '/v1/grants', {
      user: 'erin',
      edge: 'edge-01',
      ports,
      protocols: ['tcp'],
    });
    expect(made.status).toBe(201);
  }
});
afterAll(async () => {
  await edge.close();
  await test.stop();
});

describe('the tenant policy', () => {
  it('refuses a privileged port through a wide grant, and takes it through a grant of privileged ports alone', async () => {
    const wide = await push('0.0.0.0:80', ['10.0.0.1:80']);
    expect(wide).toEqual({
      status: 403,
      body: {
        error: {
          code: 'not_granted',
          message:
            'port: listen port 80 is below 1024; erin needs a grant of privileged ports alone (ports ending below 1024) on edge edge-01',
        },
      },
    });
    expect((await push('0.0.0.0:23', ['10.0.0.1:23'])).status).toBe(201);
  });

  it.each([
    ['127.0.0.1:7080', 'a loopback address'],
    ['[::1]:7080', 'a loopback address'],
    ['[::ffff:127.0.0.1]:7080', 'a loopback address'],
    ['169.254.169.254:80', 'a link-local address'],
    ['0.0.0.0:80', 'the unspecified address'],
    ['localhost:7080', 'a loopback name'],
  ])('refuses the target %s (%s)', async (target, what) => {
    const answer = await push('127.0.0.1:30001', [target]);
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toMatch(new RegExp(`^targets: .* is ${what}; a user may not target`));
  });

  it("refuses this server's own addresses, and allows a range the config allows", async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .find((nic) => nic !== undefined && nic.family === 'IPv4' && !nic.internal);
    expect(own, 'a non-loopback IPv4 address on this host').toBeDefined();
    const answer = await push('127.0.0.1:30002', [`${own!.address}:80`]);
    expect(answer.body.error.message).toMatch(/is an address of this server's own/);
    expect((await push('127.0.0.1:30003', ['10.9.1.2:80'])).status).toBe(201);
  });

  it('caps the rules and listen ports an owner holds on one edge; an admin is not bound', async () => {
    // erin holds 2 rules (23 and 30003) after the tests above; the cap is 3 rules, 20 ports.
    const ports = await push('127.0.0.1:31000-31019', ['10.0.0.1:80']);
    expect(ports.status).toBe(409);
    expect(ports.body.error).toEqual({
      code: 'tenant_limit',
      message:
        'listen: erin would hold 22 listen ports on edge edge-01, over the 20 a user may (user_max_ports_per_edge)',
    });
    expect((await push('127.0.0.1:31000', ['10.0.0.1:80'])).status).toBe(201);
    const fourth = await push('127.0.0.1:31001', ['10.0.0.1:80']);
    expect(fourth.body.error).toEqual({
      code: 'tenant_limit',
      message: 'rules: erin holds 3 rules on edge edge-01, the most a user may (user_max_rules_per_edge = 3)',
    });
    expect((await test.server.store.rules.list({ owner: 'erin' })).length).toBe(3);
    // An update of a held rule is not a new one; the admin pushes what users may not.
    const [held] = await test.server.store.rules.list({ owner: 'erin' });
    const update = await test.request(
      'PUT',
      `/v1/rules/${held!.id}`,
      { rule: { ...held!.body, targets: ['10.0.0.2:80'] } },
      erin,
    );
    expect(update.status).toBe(200);
    const admin = await test.request('POST', '/v1/rules', {
      edge: 'edge-01',
      rule: { name: 'admins', listen: '127.0.0.1:81', targets: ['127.0.0.1:7080'] },
    });
    expect(admin.status).toBe(201);
  });

  it("names no other owner's rule in a conflict; an admin's conflict names the rule", async () => {
    // After the tests above erin holds 3 rules; the admin's is on a port erin is granted.
    const made = await test.request('POST', '/v1/rules', {
      edge: 'edge-01',
      rule: { name: 'admin-24', listen: '127.0.0.1:24', targets: ['10.0.0.1:24'] },
    });
    expect(made.status).toBe(201);
    const admins = made.body;
    const [held] = await test.server.store.rules.list({ owner: 'erin' });
    const update = (rule: Record<string, unknown>) =>
      test.request('PUT', `/v1/rules/${held!.id}`, { rule: { ...held!.body, ...rule } }, erin);
    expect((await update({ listen: '127.0.0.1:24' })).body.error).toEqual({
      code: 'port_in_use',
      message: "rule.listen: 127.0.0.1:24 overlaps 127.0.0.1:24 of another owner's rule on edge edge-01",
    });
    expect((await update({ name: 'admin-24' })).body.error).toEqual({
      code: 'name_taken',
      message: `rule.name: "admin-24" is already used on edge edge-01 by another owner's rule`,
    });
    const clash = await test.request('PUT', `/v1/rules/${admins.id}`, {
      rule: { name: 'admin-24', listen: String(held!.body.listen), targets: ['10.0.0.1:24'] },
    });
    expect(clash.body.error.message).toContain(
      `of rule ${JSON.stringify(held!.name)} (${held!.id}) on edge edge-01`,
    );
    expect((await test.server.store.rules.get(held!.id))!.body).toEqual(held!.body);
  });

  it('holds the rule cap against pushes sent all at once', async () => {
    const { store } = test.server;
    const fay = (await store.users.createToken((await store.users.create('fay', 'user')).id)).token;
    const granted = await test.request('POST', '/v1/grants', {
      user: 'fay',
      edge: 'edge-01',
      ports: { from: 33000, to: 33999 },
      protocols: ['tcp'],
    });
    expect(granted.status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => push(`127.0.0.1:${33000 + i}`, ['10.0.0.1:80'], fay, `fay${i}`)),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    expect((await store.rules.list({ owner: 'fay' })).length).toBe(3);
  });
});
