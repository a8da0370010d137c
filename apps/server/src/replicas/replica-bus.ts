// The replicas of one PostgreSQL store talk through it: LISTEN/NOTIFY on one channel, over one
// connection of each replica's own (a pooled connection would drop its LISTEN when it went back
// to the pool). Every message goes to every replica; each reads the ones for it. When the
// connection drops, notifications sent meanwhile are lost, so the bus reconnects with a backoff
// and says so (`onConnected`): the replica then reads the state it missed from the store.

import pg from 'pg';
import type { Logger } from 'pino';
import { parseReplicaMessage, type ReplicaMessage } from './replica-messages.ts';

export const REPLICA_CHANNEL = 'sluice_replicas';

/** NOTIFY refuses payloads of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7_900;

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

export interface ReplicaBusHandlers {
  onMessage(message: ReplicaMessage): void;
  /** The bus is (again) listening: what was sent while it was not is lost. */
  onConnected(): void;
}

export class ReplicaBus {
  private readonly url: string;
  private readonly logger: Logger;
  private readonly handlers: ReplicaBusHandlers;
  private client: pg.Client | null = null;
  private listening = false;
  private stopped = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(url: string, logger: Logger, handlers: ReplicaBusHandlers) {
    this.url = url;
    this.logger = logger.child({ area: 'replicas' });
    this.handlers = handlers;
  }

  get connected(): boolean {
    return this.listening;
  }

  /** Connects; a first failure is retried in the background like any later one. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'sluice-replica-bus' });
    this.client = client;
    // Without a listener, an error on the idle connection (the database restarting) would be
    // thrown as an uncaught 'error' event and end the process.
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    client.on('notification', (notification) => {
      if (notification.channel !== REPLICA_CHANNEL || notification.payload === undefined) return;
      const message = parseReplicaMessage(notification.payload);
      if (message === null) {
        this.logger.warn({ bytes: notification.payload.length }, 'replica message not understood; ignored');
        return;
      }
      this.handlers.onMessage(message);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REPLICA_CHANNEL}`);
    } catch (error) {
      this.lost(client, (error as Error).message);
      return;
    }
    if (this.client !== client) return;
    this.listening = true;
    this.retryMs = RECONNECT_MIN_MS;
    this.handlers.onConnected();
  }

  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    const wasListening = this.listening;
    this.client = null;
    this.listening = false;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasListening) this.logger.warn({ reason }, 'replica bus lost its database connection; reconnecting');
    const wait = this.retryMs;
    this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, wait);
    this.retryTimer.unref();
  }

  /** Sends to every replica; throws when the bus is down or the message is too big. */
  async publish(message: ReplicaMessage): Promise<void> {
    const client = this.client;
    if (client === null || !this.listening) throw new Error('the replica bus is not connected');
    const payload = JSON.stringify(message);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      throw new RangeError(
        `a ${message.type} message of ${Buffer.byteLength(payload)} bytes is over the bus limit`,
      );
    }
    await client.query('SELECT pg_notify($1, $2)', [REPLICA_CHANNEL, payload]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    this.listening = false;
    if (client !== null) await client.end().catch(() => undefined);
  }
}
