// Errors of the PROXY header encoder: one stable code per way a header cannot be written, with
// its message template. ProxyHeaderError is made from this table; what crosses a thread is
// ProxyHeaderErrorData. A header that arrives malformed is not an error here: the decoder
// returns { kind: 'invalid', reason } and the caller counts it (reject reason
// proxy_header_invalid).

export const PROXY_HEADER_ERRORS = {
  proxy_version_invalid: {
    message: 'PROXY protocol version {version} is not v1 or v2',
    kind: 'proxy_header',
  },
  proxy_transport_invalid: {
    message: 'PROXY header transport {protocol} is not tcp or udp',
    kind: 'proxy_header',
  },
  proxy_v1_udp: {
    message: 'PROXY protocol v1 can only describe TCP; a UDP header needs v2',
    kind: 'proxy_header',
  },
  proxy_address_invalid: {
    message: 'PROXY header {side} address "{address}" is not an IPv4 or IPv6 address',
    kind: 'proxy_header',
  },
  proxy_port_invalid: {
    message: 'PROXY header {side} port {port} is not an integer in 0..65535',
    kind: 'proxy_header',
  },
} as const;

export type ProxyHeaderErrorCode = keyof typeof PROXY_HEADER_ERRORS;

export interface ProxyHeaderErrorData {
  readonly code: ProxyHeaderErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, string | number>>;
}

function render(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) =>
    key in values ? String(values[key]) : `{${key}}`,
  );
}

export class ProxyHeaderError extends Error {
  readonly code: ProxyHeaderErrorCode;
  readonly details: Readonly<Record<string, string | number>>;

  constructor(code: ProxyHeaderErrorCode, details: Record<string, string | number> = {}) {
    super(render(PROXY_HEADER_ERRORS[code].message, details));
    this.name = 'ProxyHeaderError';
    this.code = code;
    this.details = details;
  }

  toData(): ProxyHeaderErrorData {
    return { code: this.code, message: this.message, details: this.details };
  }
}
