import { describe, expect, it } from 'vitest';
import { bundleSchema } from './bundle.ts';

const credentials = { pin: 'ab'.repeat(32), edgeId: 'e1', name: 'edge-01', secret: 's3cret' };

describe('bundle', () => {
  it('reads version 2 as written', () => {
    const bundle = {
      version: 2,
      servers: [
        { host: '10.0.0.1', port: 7443 },
        { host: '10.0.0.2', port: 7443 },
      ],
      ...credentials,
    };
    expect(bundleSchema.parse(bundle)).toEqual(bundle);
    expect(bundleSchema.parse(JSON.parse(JSON.stringify(bundleSchema.parse(bundle))))).toEqual(bundle);
  });

  it('reads a version 1 bundle as version 2 with one server', () => {
    expect(
      bundleSchema.parse({ version: 1, server: { host: '10.0.0.1', port: 7443 }, ...credentials }),
    ).toEqual({
      version: 2,
      servers: [{ host: '10.0.0.1', port: 7443 }],
      ...credentials,
    });
  });

  it('refuses what neither version allows, naming the key', () => {
    const issue = (value: unknown) => bundleSchema.safeParse(value).error?.issues[0];
    expect(issue({ version: 2, servers: [], ...credentials })?.path).toEqual(['servers']);
    const twice = {
      version: 2,
      servers: [
        { host: 'a', port: 1 },
        { host: 'A', port: 1 },
      ],
      ...credentials,
    };
    expect(issue(twice)).toMatchObject({ path: ['servers', 1], message: 'A:1 is listed twice' });
    const many = Array.from({ length: 17 }, (_, i) => ({ host: 'a', port: i + 1 }));
    expect(issue({ version: 2, servers: many, ...credentials })?.path).toEqual(['servers']);
    // The fields of one version do not mix with the other's.
    expect(issue({ version: 1, servers: [{ host: 'a', port: 1 }], ...credentials })).toBeDefined();
    expect(issue({ version: 2, server: { host: 'a', port: 1 }, ...credentials })).toBeDefined();
    expect(issue({ version: 3, servers: [{ host: 'a', port: 1 }], ...credentials })?.path).toEqual([
      'version',
    ]);
  });
});
