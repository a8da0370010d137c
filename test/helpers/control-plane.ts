// A control plane for end-to-end tests: sluice-server on a temp data dir with its admin token,
// an API client and a sluicectl target for it, and managed edges enrolled through the API or
// through sluicectl, each with its own bundle file.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient, type Enrollment } from './api-client.ts';
import { type CtlTarget, ctlJson } from './ctl-process.ts';
import { enrollEdge, type ManagedEdgeHandle, startManagedEdge } from './managed-edge-process.ts';
import { adminTokenOf, type ServerProcess, startServer } from './server-process.ts';
import { makeTempDir } from './temp-dir.ts';

export interface ControlPlane {
  /** Scratch dir: data dir, bundles, backups. */
  readonly dir: string;
  readonly dataDir: string;
  server: ServerProcess;
  readonly token: string;
  readonly api: ApiClient;
  readonly ctl: CtlTarget;
  /** The server config (TOML) every start of this plane's server gets, if any. */
  readonly configToml: string | undefined;
}

export async function startControlPlane(options: { configToml?: string } = {}): Promise<ControlPlane> {
  const dir = makeTempDir();
  const dataDir = join(dir, 'data');
  const server = await startServer({
    dataDir,
    ...(options.configToml === undefined ? {} : { configToml: options.configToml }),
  });
  const token = await adminTokenOf(server);
  return {
    dir,
    dataDir,
    server,
    token,
    api: new ApiClient(server.apiUrl, token),
    ctl: { server: server.apiUrl, token },
    configToml: options.configToml,
  };
}

/** Restarts the server on the same data dir and ports (after the test killed or stopped it). */
export async function restartServer(plane: ControlPlane): Promise<ServerProcess> {
  plane.server = await startServer({
    dataDir: plane.dataDir,
    ports: plane.server.ports,
    ...(plane.configToml === undefined ? {} : { configToml: plane.configToml }),
  });
  return plane.server;
}

/** A one-time code made with `POST /v1/enrollments`. */
export function enrollmentViaApi(plane: ControlPlane, name: string): Promise<Enrollment> {
  return plane.api.enroll(name);
}

/** A one-time code made with `sluicectl enroll NAME --format json`. */
export function enrollmentViaCtl(plane: ControlPlane, name: string): Promise<Enrollment> {
  return ctlJson<Enrollment>(plane.ctl, ['enroll', name]);
}

export type EnrollVia = 'api' | 'ctl';

/**
 * Makes a code (API or sluicectl), redeems it with `sluice-edge enroll` into a new bundle file
 * (NAME.bundle, NAME-2.bundle when enrolled again, ...) and starts the edge, connected.
 */
export async function addEdge(
  plane: ControlPlane,
  name: string,
  via: EnrollVia = 'api',
): Promise<ManagedEdgeHandle> {
  const enrollment =
    via === 'api' ? await enrollmentViaApi(plane, name) : await enrollmentViaCtl(plane, name);
  let file = join(plane.dir, `${name}.bundle`);
  for (let n = 2; existsSync(file); n++) file = join(plane.dir, `${name}-${n}.bundle`);
  const bundle = await enrollEdge(enrollment.uri, file);
  return startManagedEdge(bundle);
}
