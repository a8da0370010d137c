// Real TLS peers from the openssl command line: throwaway self-signed certificates, `openssl
// s_server -rev` backends (each answers every line reversed, and logs each completed handshake),
// and `openssl s_client` runs that complete a handshake, send one line and read the answer.
// A backend is told apart by its certificate: every one gets its own CN.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, pollUntil, removeDir, requireProgram, tempDir, withTimeout } from '@sluice/test-kit';
import { type Program, startProgram } from './programs.ts';

const run = promisify(execFile);

export function opensslBinary(): string {
  return requireProgram('openssl');
}

export interface TlsCert {
  readonly cn: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM text, for Node's tls. */
  readonly cert: string;
  readonly key: string;
}

export interface CertSet {
  readonly certs: Readonly<Record<string, TlsCert>>;
  /** Removes the directory; for an afterAll (certificates outlive a single test). */
  remove(): void;
}

/** One self-signed RSA certificate per CN, valid for a day, in a directory of their own. */
export async function makeCertificates(cns: readonly string[]): Promise<CertSet> {
  const openssl = opensslBinary();
  const dir = tempDir('sluice-e2e-certs-');
  const certs: Record<string, TlsCert> = {};
  try {
    await Promise.all(
      cns.map(async (cn) => {
        const certFile = join(dir, `${cn}.crt`);
        const keyFile = join(dir, `${cn}.key`);
        // -subj /CN=... -days 1: throwaway, and no prompts.
        const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '1'];
        await run(openssl, [...args, '-keyout', keyFile, '-out', certFile], { timeout: 30_000 });
        certs[cn] = {
          cn,
          certFile,
          keyFile,
          cert: readFileSync(certFile, 'utf8'),
          key: readFileSync(keyFile, 'utf8'),
        };
      }),
    );
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  return { certs, remove: () => removeDir(dir) };
}

export interface TlsBackend {
  readonly port: number;
  readonly cn: string;
  readonly program: Program;
  /** Handshakes this backend has completed so far (s_server logs each one). */
  handshakes(): number;
  /** Waits until exactly `count` handshakes are logged (they are logged a moment after the client sees them). */
  waitForHandshakes(count: number, timeoutMs?: number): Promise<void>;
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/**
 * `openssl s_server -rev` on 127.0.0.1 with `cert`: serves one connection at a time, answers
 * each line reversed. Killed by the test's cleanup.
 */
export async function startTlsBackend(cert: TlsCert): Promise<TlsBackend> {
  const openssl = opensslBinary();
  let lastFailure = '';
  // The free port may be taken between finding and binding it; then try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const program = startProgram(
      openssl,
      ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert.certFile, '-key', cert.keyFile, '-rev'],
      `openssl s_server (${cert.cn})`,
    );
    // s_server prints ACCEPT once it listens.
    const ready = await pollUntil(() => program.stdout().includes('ACCEPT') || (program.gone() && 'gone'), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: `openssl s_server (${cert.cn}) to listen`,
    });
    if (ready === true) {
      const handshakes = (): number => countOf(program.stderr(), 'CONNECTION ESTABLISHED');
      return {
        port,
        cn: cert.cn,
        program,
        handshakes,
        waitForHandshakes: async (count, timeoutMs = 5_000) => {
          await pollUntil(() => handshakes() === count, {
            timeoutMs,
            intervalMs: 20,
            what: `${count} handshakes at ${cert.cn} (${program.describe()})`,
          });
          // None more than asked for, either.
          if (handshakes() !== count)
            throw new Error(`${cert.cn}: ${handshakes()} handshakes, expected ${count}`);
        },
      };
    }
    lastFailure = program.describe();
  }
  throw new Error(`openssl s_server would not start: ${lastFailure}`);
}

/** Reverses a line the way `s_server -rev` does. */
export function reversed(line: string): string {
  return [...line].reverse().join('');
}

export interface SClientResult {
  /** The CN of the certificate the server presented; null when no handshake completed. */
  readonly peerCn: string | null;
  /** The first line the server answered with ('' when none). */
  readonly reply: string;
  readonly code: number | null;
  readonly output: string;
}

/**
 * `openssl s_client -connect 127.0.0.1:PORT [-servername NAME]`: completes a handshake (or not),
 * sends `line`, waits for one line back, then closes (EOF on stdin sends close_notify).
 * `servername` null sends no SNI at all.
 */
export async function sClient(
  port: number,
  servername: string | null,
  line: string,
  timeoutMs = 10_000,
): Promise<SClientResult> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-brief'];
  args.push(...(servername === null ? ['-noservername'] : ['-servername', servername]));
  const program = startProgram(opensslBinary(), args, `openssl s_client -servername ${servername}`);
  const firstLine = (): string | null => {
    const nl = program.stdout().indexOf('\n');
    return nl < 0 ? null : program.stdout().slice(0, nl);
  };
  // Send the line once the handshake is done (s_client says so on stderr), or find it failed.
  await withTimeout(
    pollUntil(() => program.stderr().includes('CONNECTION ESTABLISHED') || program.gone(), {
      timeoutMs,
      intervalMs: 10,
      what: 's_client handshake',
    }),
    timeoutMs + 1_000,
    `s_client to 127.0.0.1:${port} (${program.describe()})`,
  );
  if (!program.gone()) {
    program.child.stdin!.write(`${line}\n`);
    await pollUntil(() => firstLine() !== null || program.gone(), {
      timeoutMs,
      intervalMs: 10,
      what: `a reply line from s_client (${program.describe()})`,
    });
    program.child.stdin!.end();
  }
  const { code } = await withTimeout(program.exited, timeoutMs, `s_client to exit (${program.describe()})`);
  const cn = /Peer certificate: CN = ([^\s,]+)/.exec(program.stderr());
  return {
    peerCn: program.stderr().includes('CONNECTION ESTABLISHED') && cn !== null ? cn[1]! : null,
    reply: firstLine() ?? '',
    code,
    output: program.describe(),
  };
}
