// The kernel's path: iptables -t nat REDIRECT of 127.0.0.1:L to T, in a chain of its own
// (SLUICE_BENCH, jumped to from OUTPUT for that port only). The chain is removed after the run,
// at exit, on Ctrl+C, and before each start in case a killed run left it behind. With
// `udp`, the same port is redirected for UDP too (iperf3's UDP test keeps its control on TCP).

import { spawnSync } from 'node:child_process';
import { onCleanup } from '../cleanup.ts';
import type { Contender, RunningContender, StartOptions } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { missingTool, requireTool } from '../tools.ts';

export const REDIRECT_CHAIN = 'SLUICE_BENCH';

interface IptablesResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function iptables(binary: string, args: readonly string[]): IptablesResult {
  // -w: wait for the xtables lock rather than fail when another tool holds it.
  const result = spawnSync(binary, ['-w', '5', '-t', 'nat', ...args], { encoding: 'utf8', timeout: 15_000 });
  const stderr = result.error ? result.error.message : `${result.stderr ?? ''}`.trim();
  return { ok: result.status === 0, stdout: `${result.stdout ?? ''}`, stderr };
}

function mustIptables(binary: string, args: readonly string[]): void {
  const result = iptables(binary, args);
  if (!result.ok) {
    throw BENCH_ERRORS.error('contender_start_failed', {
      contender: 'redirect',
      reason: `iptables -t nat ${args.join(' ')}: ${result.stderr || 'failed'}`,
    });
  }
}

/** Deletes every OUTPUT jump to the chain, then the chain; a chain that is not there is fine. */
export function removeRedirectChain(binary: string): void {
  const output = iptables(binary, ['-S', 'OUTPUT']);
  for (const rule of output.stdout.split('\n')) {
    const words = rule.trim().split(/\s+/);
    if (words[0] !== '-A' || words.at(-1) !== REDIRECT_CHAIN || words.at(-2) !== '-j') continue;
    iptables(binary, ['-D', ...words.slice(1)]);
  }
  const exists = iptables(binary, ['-S', REDIRECT_CHAIN]).ok;
  if (!exists) return;
  iptables(binary, ['-F', REDIRECT_CHAIN]);
  const removed = iptables(binary, ['-X', REDIRECT_CHAIN]);
  if (!removed.ok) {
    process.stderr.write(
      `sluice-bench: could not remove iptables chain ${REDIRECT_CHAIN}: ${removed.stderr}\n` +
        `  remove it with: iptables -t nat -F ${REDIRECT_CHAIN}; iptables -t nat -X ${REDIRECT_CHAIN}\n`,
    );
  }
}

export const redirect: Contender = {
  id: 'redirect',
  label: 'iptables REDIRECT',
  relay: 'kernel',
  description: `iptables -t nat REDIRECT in chain ${REDIRECT_CHAIN}, jumped to from OUTPUT for -p tcp (and udp) -d 127.0.0.1 --dport L`,

  async unavailableReason(): Promise<string | null> {
    const missing = missingTool('iptables', 'iptables');
    if (missing !== null) return missing;
    const binary = requireTool('iptables', 'iptables');
    const probe = iptables(binary, ['-S', 'OUTPUT']);
    if (!probe.ok) return `iptables -t nat is not usable here (needs root / CAP_NET_ADMIN): ${probe.stderr}`;
    return null;
  },

  async start(listenPort: number, targetPort: number, options: StartOptions = {}): Promise<RunningContender> {
    const binary = requireTool('iptables', 'iptables');
    removeRedirectChain(binary);
    const unregister = onCleanup(() => removeRedirectChain(binary));
    const protocols = options.udp ? ['tcp', 'udp'] : ['tcp'];
    try {
      mustIptables(binary, ['-N', REDIRECT_CHAIN]);
      for (const protocol of protocols) {
        const match = ['-p', protocol, '-d', '127.0.0.1', '--dport', String(listenPort)];
        mustIptables(binary, [
          '-A',
          REDIRECT_CHAIN,
          ...match,
          '-j',
          'REDIRECT',
          '--to-ports',
          String(targetPort),
        ]);
        mustIptables(binary, ['-I', 'OUTPUT', '1', ...match, '-j', REDIRECT_CHAIN]);
      }
    } catch (err) {
      removeRedirectChain(binary);
      unregister();
      throw err;
    }
    let stopped = false;
    return {
      pid: null,
      connectPort: listenPort,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        removeRedirectChain(binary);
        unregister();
      },
    };
  },
};
