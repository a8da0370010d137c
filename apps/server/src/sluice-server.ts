// One running sluice-server: the data dir and its lock, the certificate, the store, and the
// three listeners (control, API, metrics). main.ts starts one for `serve`; tests start one in
// process on ephemeral ports.

import { statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from './api/app.ts';
import { loadOrCreateCertificate, type ServerCertificate } from './certificate.ts';
import { ControlServer } from './control/control-server.ts';
import type { SessionTimings } from './control/edge-session.ts';
import { DEFAULT_PENDING_LIMITS, type PendingLimits } from './control/pending-connections.ts';
import { StatsHub } from './control/stats-hub.ts';
import { type DataDir, openDataDir } from './data-dir.ts';
import { serverError } from './errors.ts';
import { CONTROL_POLICY, FailureThrottle, LOGIN_POLICY } from './failure-throttle.ts';
import { ServerMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { RuleService } from './rule-service.ts';
import type { HostPort, ServerConfig } from './server-config.ts';
import { isPostgresSpec, openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { acquireStoreLock, type StoreLock } from './store-lock.ts';

function isMissingOrEmpty(file: string): boolean {
  try {
    return statSync(file).size === 0;
  } catch {
    return true;
  }
}

export interface SluiceServerOptions {
  readonly dataDir: string;
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly timings?: SessionTimings;
  /** Deadline and caps of unauthenticated control connections; tests shorten them. */
  readonly pendingLimits?: PendingLimits;
  /** The clock of the store and the login throttle (session expiry, lockouts); tests move it. */
  readonly now?: () => number;
}

export interface ListenAddresses {
  readonly control: AddressInfo;
  readonly api: AddressInfo;
  readonly metrics: AddressInfo;
}

export const ADMIN_USER = 'admin';

/**
 * Makes the admin user and answers its token on the first start of an empty store; null
 * otherwise. Replicas starting together on one empty database may both try: one makes it, and
 * the other finds it made.
 */
async function createAdmin(store: Store): Promise<string | null> {
  if ((await store.users.count()) > 0) return null;
  try {
    return await store.transaction(
      async (tx) =>
        (await tx.users.createToken((await tx.users.create(ADMIN_USER, 'admin')).id, 'first start')).token,
    );
  } catch (error) {
    if ((await store.users.count()) > 0) return null;
    throw error;
  }
}

export class SluiceServer {
  readonly dataDir: DataDir;
  readonly certificate: ServerCertificate;
  readonly store: Store;
  readonly control: ControlServer;
  readonly api: FastifyInstance;
  readonly metrics: ServerMetrics;
  readonly statsHub: StatsHub;
  readonly addresses: ListenAddresses;
  /** Where enrollment URIs tell edges to connect. */
  readonly advertise: HostPort;
  /** The admin token when this start made the admin user; it is never shown again. */
  readonly adminToken: string | null;
  private readonly lock: StoreLock;
  private readonly metricsServer: Server;
  private readonly logger: Logger;
  private stopping: Promise<void> | null = null;

  private constructor(parts: {
    dataDir: DataDir;
    certificate: ServerCertificate;
    store: Store;
    control: ControlServer;
    api: FastifyInstance;
    metrics: ServerMetrics;
    statsHub: StatsHub;
    addresses: ListenAddresses;
    advertise: HostPort;
    adminToken: string | null;
    lock: StoreLock;
    metricsServer: Server;
    logger: Logger;
  }) {
    this.dataDir = parts.dataDir;
    this.certificate = parts.certificate;
    this.store = parts.store;
    this.control = parts.control;
    this.api = parts.api;
    this.metrics = parts.metrics;
    this.statsHub = parts.statsHub;
    this.addresses = parts.addresses;
    this.advertise = parts.advertise;
    this.adminToken = parts.adminToken;
    this.lock = parts.lock;
    this.metricsServer = parts.metricsServer;
    this.logger = parts.logger;
  }

  static async start(options: SluiceServerOptions): Promise<SluiceServer> {
    const { config, logger } = options;
    const dataDir = openDataDir(options.dataDir, { create: true });
    const lock = await acquireStoreLock(dataDir.path);
    const cleanup: Array<() => Promise<void> | void> = [() => lock.release()];
    try {
      const certificate = loadOrCreateCertificate(dataDir);
      if (certificate.created)
        logger.info(
          { cert: dataDir.certFile, fingerprint: certificate.fingerprint },
          'made a self-signed certificate',
        );
      // A data dir that had its key before this start had its database too: a missing or empty
      // one means a lost file, and starting afresh would mint a new admin and forget every edge.
      if (!certificate.created && config.store === null && isMissingOrEmpty(dataDir.dbFile)) {
        throw serverError(
          'store_empty',
          `${dataDir.dbFile} is missing or empty, but ${dataDir.keyFile} is from an earlier start: restore a backup (sluice-server restore), or remove the data dir to start afresh`,
        );
      }
      // The data dir keeps the certificate and the lock whichever the store; without a spec it
      // holds the SQLite database too.
      const store: Store = await openStore(config.store ?? dataDir.dbFile, {
        now: options.now,
        onIdleError: (error) => logger.warn({ err: error }, 'a store connection failed while idle'),
      });
      cleanup.unshift(() => store.close());
      const adminToken = await createAdmin(store);
      const statsHub = new StatsHub();
      // Several servers on one PostgreSQL database are replicas of one control plane.
      const storeSpec = config.store ?? dataDir.dbFile;
      // Loaded only then: an SQLite server does not carry the PostgreSQL client in its memory.
      const mesh = isPostgresSpec(storeSpec)
        ? new (await import('./replicas/replica-mesh.ts')).ReplicaMesh({
            store,
            url: storeSpec,
            logger,
            callTimeoutMs: config.ackTimeoutMs + 2_000,
          })
        : null;
      let control: ControlServer | null = null;
      const metrics = new ServerMetrics({ store, connectedEdges: () => control?.connectedCount ?? 0 });
      control = new ControlServer({
        store,
        key: certificate.key,
        cert: certificate.cert,
        logger,
        statsHub,
        ackTimeoutMs: config.ackTimeoutMs,
        statsIntervalMs: config.statsIntervalMs,
        ...(options.timings === undefined ? {} : { timings: options.timings }),
        onAuthFailure: (reason) => metrics.authFailures.inc({ reason }),
        onPushAcked: (kind, seconds) => metrics.pushAck.observe({ kind }, seconds),
        onConnectionRefused: (reason) => metrics.controlRefused.inc({ reason }),
        failures: new FailureThrottle(CONTROL_POLICY, options.now),
        pendingLimits: options.pendingLimits ?? {
          ...DEFAULT_PENDING_LIMITS,
          deadlineMs: config.helloTimeoutMs,
        },
        mesh,
      });
      const controlServer = control;
      const rules = new RuleService({ store, control, logger, tenants: config.tenants });
      const controlAddress = await control.listen(config.control.host, config.control.port);
      cleanup.unshift(() => controlServer.close());
      // Port 0 lets the kernel pick the control port; the URI must carry the one it picked.
      const advertise: HostPort = {
        host: config.advertise.host,
        port: config.advertise.port === 0 ? controlAddress.port : config.advertise.port,
      };
      await controlServer.joinReplicas(advertise);
      const api = await buildApi({
        store,
        control,
        rules,
        statsHub,
        metrics,
        logger,
        controlAddresses: async () => controlServer.controlAddresses(),
        fingerprint: certificate.fingerprint,
        logins: new FailureThrottle(LOGIN_POLICY, options.now),
        tenants: config.tenants,
        now: options.now ?? Date.now,
      });
      cleanup.unshift(() => api.close());
      try {
        await api.listen({ host: config.api.host, port: config.api.port });
      } catch (error) {
        throw serverError(
          'listen_failed',
          `cannot listen for the API on ${config.api.host}:${config.api.port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      const apiAddress = api.server.address() as AddressInfo;
      const { server: metricsServer, address: metricsAddress } = await startMetricsServer(
        metrics,
        store,
        config.metrics.host,
        config.metrics.port,
      );
      return new SluiceServer({
        dataDir,
        certificate,
        store,
        control,
        api,
        metrics,
        statsHub,
        addresses: { control: controlAddress, api: apiAddress, metrics: metricsAddress },
        advertise,
        adminToken,
        lock,
        metricsServer,
        logger,
      });
    } catch (error) {
      for (const step of cleanup) await step();
      throw error;
    }
  }

  /** Closes the listeners and sessions, then the store, then lets go of the lock. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const metricsClosed = new Promise<void>((resolve) => this.metricsServer.close(() => resolve()));
      this.metricsServer.closeAllConnections();
      await metricsClosed;
      await this.api.close();
      await this.control.close();
      await this.store.close();
      await this.lock.release();
      this.logger.info('sluice-server stopped');
    })();
    return this.stopping;
  }
}
