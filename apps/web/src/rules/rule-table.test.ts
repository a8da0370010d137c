import { describe, expect, it } from 'vitest';
import { tableOf, valuesOf } from './rule-table.ts';

describe('tableOf / valuesOf', () => {
  it('leaves empty inputs out and turns numbers, lists, SNI routes and limits into the table', () => {
    const table = tableOf({
      name: ' web ',
      listen: '127.0.0.1:8080',
      protocol: 'tcp',
      targets: '127.0.0.1:80\n\n 127.0.0.1:81 ',
      connect_timeout_ms: '1500',
      idle_timeout_secs: '',
      accept_proxy: 'true',
      sni: 'a.example.com = 127.0.0.1:9001\n*.example.org=127.0.0.1:9002',
      'limits.bandwidth': '10Mbit',
      'limits.max_connections': '5',
    });
    expect(table).toEqual({
      name: 'web',
      listen: '127.0.0.1:8080',
      protocol: 'tcp',
      connect_timeout_ms: 1500,
      accept_proxy: true,
      targets: ['127.0.0.1:80', '127.0.0.1:81'],
      sni: { 'a.example.com': '127.0.0.1:9001', '*.example.org': '127.0.0.1:9002' },
      limits: { bandwidth: '10Mbit', max_connections: 5 },
    });
    expect(tableOf(valuesOf(table))).toEqual(table);
  });

  it('sends a number that does not read as one as text, for the schema to name', () => {
    expect(tableOf({ connect_timeout_ms: 'soon' }).connect_timeout_ms).toBe('soon');
  });
});

describe('a UDP rule', () => {
  it('keeps udp_receive_buffer through an edit', () => {
    const table = {
      name: 'dns',
      listen: '0.0.0.0:53',
      protocol: 'udp',
      targets: ['10.0.0.53:53'],
      max_flows: 4096,
      udp_receive_buffer: '8MiB',
    };
    expect(tableOf(valuesOf(table))).toEqual(table);
  });
});
