import { describe, expect, it } from 'vitest';
import { acceptErrorReason, connectErrorReason, relayErrorReason } from './errno-reasons.ts';
import { bindErrorCode, CORE_ERRORS, nativeBindError } from './errors.ts';

describe('core errors', () => {
  it('maps bind errnos to the reasons operators see', () => {
    expect(bindErrorCode('EADDRINUSE')).toBe('port_in_use');
    expect(bindErrorCode('EACCES')).toBe('permission_denied');
    expect(bindErrorCode('EADDRNOTAVAIL')).toBe('address_unavailable');
    expect(bindErrorCode('EINVAL')).toBe('bind_failed');
  });

  it('names the port, the call and the errno of a bind the addon made', () => {
    expect(nativeBindError('listen', 'EADDRINUSE', '::1', 8080)).toEqual({
      code: 'port_in_use',
      message: 'address [::1]:8080 is already in use by another socket',
      details: { listen: '[::1]:8080', detail: 'listen EADDRINUSE ::1:8080' },
    });
    expect(nativeBindError('bind', 'EINVAL', '127.0.0.1', 53)).toEqual({
      code: 'bind_failed',
      message: 'could not bind 127.0.0.1:53: bind EINVAL 127.0.0.1:53',
      details: { listen: '127.0.0.1:53', detail: 'bind EINVAL 127.0.0.1:53' },
    });
  });

  it('maps connect errnos to metric reasons', () => {
    expect(connectErrorReason('ECONNREFUSED')).toBe('refused');
    expect(connectErrorReason('ETIMEDOUT')).toBe('timeout');
    expect(connectErrorReason('EHOSTUNREACH')).toBe('unreachable');
    expect(connectErrorReason('ECONNRESET')).toBe('reset');
    expect(connectErrorReason('EWHATEVER')).toBe('other');
  });

  it('tells running out of descriptors or memory apart from a failing target', () => {
    expect(acceptErrorReason('EMFILE')).toBe('emfile');
    expect(acceptErrorReason('ENFILE')).toBe('enfile');
    expect(acceptErrorReason('ENOBUFS')).toBe('enomem');
    expect(acceptErrorReason('ECONNREFUSED')).toBeNull();
  });

  it('names the side a relay reset came from', () => {
    expect(relayErrorReason('client', 'ECONNRESET')).toBe('client_reset');
    expect(relayErrorReason('upstream', 'EPIPE')).toBe('upstream_reset');
    expect(relayErrorReason('upstream', 'ETIMEDOUT')).toBe('error');
  });

  it('fills message templates and keeps the details', () => {
    const error = CORE_ERRORS.data('bind_failed', { listen: '[::1]:80', detail: 'boom' });
    expect(error).toEqual({
      code: 'bind_failed',
      message: 'could not bind [::1]:80: boom',
      details: { listen: '[::1]:80', detail: 'boom' },
    });
  });
});
