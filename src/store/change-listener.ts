import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { CHANNEL_SQL, type Change, decodeChange } from './changes.js';

/**
 * How long a confirmation of the listener vouches for it. A process answers
 * from its caches without reading the database only while the listener has
 * proved, within this long, that every change committed before the proof was
 * told: a change committed more than this long ago is always seen.
 */
export const LEASE_MS = 1000;
/** How often the listener proves itself; several proofs fit in one lease. */
export const HEARTBEAT_MS = 250;
/** No proof for this long: the connection is taken for dead and replaced. */
const DEAD_MS = 3 * LEASE_MS;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

export interface ChangeListenerOptions {
  /** A new client outside the pool (Store.newClient). */
  connect: () => pg.Client;
  /** Told of each change, in commit order. */
  onChange: (change: Change) => void;
  /**
   * Called on each (re)connection once LISTEN is in place, before the
   * listener vouches for anything: reads what was committed before LISTEN
   * (which no notification will tell), on the listener's own client.
   */
  resync: (client: pg.Client) => Promise<void>;
  /** Told when the listener goes up or down (logs, metrics). */
  onState?: (up: boolean, err?: unknown) => void;
}

/**
 * One dedicated PostgreSQL connection that LISTENs for the changes of this
 * schema (src/store/changes.ts) and proves, every HEARTBEAT_MS, that it is
 * still hearing them: it sends a notification to a channel of its own, and
 * PostgreSQL delivers notifications in commit order, so when that one comes
 * back every change committed before it was sent has been told. `live()` is
 * true while the last proof was sent less than LEASE_MS ago. A dropped or
 * silent connection is replaced, with back-off; meanwhile `live()` is false
 * and readers fall back to reading the database.
 */
export class ChangeListener {
  private client: pg.Client | null = null;
  private ownChannel = '';
  /** performance.now() when the newest returned proof was sent. */
  private confirmedAt: number | null = null;
  private pending: { seq: string; sentAt: number } | null = null;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private backoff = RECONNECT_MIN_MS;
  private closed = false;
  private up = false;

  constructor(private readonly opts: ChangeListenerOptions) {}

  start(): void {
    void this.open();
  }

  /** Every change committed more than LEASE_MS ago, or before the last proof, has been told. */
  live(): boolean {
    return this.confirmedAt !== null && performance.now() - this.confirmedAt <= LEASE_MS;
  }

  /** The server process of the listening connection, while there is one (tests, diagnostics). */
  get backendPid(): number | null {
    return (this.client as { processID?: number } | null)?.processID ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.drop(null);
  }

  private async open(): Promise<void> {
    this.retry = null;
    if (this.closed) return;
    const client = this.opts.connect();
    this.client = client;
    client.on('error', (err) => void this.lost(client, err));
    client.on('end', () => void this.lost(client, new Error('the listener connection ended')));
    client.on('notification', (m) => this.heard(client, m));
    try {
      await client.connect();
      // Its proofs are notifications: losing one in a crash costs nothing, so do not wait for the disk.
      await client.query('set synchronous_commit = off');
      const { rows } = await client.query<{ channel: string }>(`select ${CHANNEL_SQL} as channel`);
      const channel = rows[0]?.channel as string;
      this.ownChannel = `${channel}_${randomBytes(4).toString('hex')}`;
      await client.query(`listen ${client.escapeIdentifier(channel)}`);
      await client.query(`listen ${client.escapeIdentifier(this.ownChannel)}`);
      const since = performance.now();
      await this.opts.resync(client);
      if (this.client !== client) return;
      this.confirmedAt = since;
      this.backoff = RECONNECT_MIN_MS;
      this.up = true;
      this.opts.onState?.(true);
      this.timer = setInterval(() => this.prove(client), HEARTBEAT_MS);
      this.timer.unref();
    } catch (err) {
      await this.lost(client, err);
    }
  }

  private heard(client: pg.Client, m: pg.Notification): void {
    if (client !== this.client) return;
    if (m.channel === this.ownChannel) {
      if (this.pending && m.payload === this.pending.seq) {
        this.confirmedAt = this.pending.sentAt;
        this.pending = null;
      }
      return;
    }
    const change = m.payload === undefined ? null : decodeChange(m.payload);
    if (change) this.opts.onChange(change);
  }

  private prove(client: pg.Client): void {
    const now = performance.now();
    if (this.pending) {
      if (now - this.pending.sentAt > DEAD_MS) void this.lost(client, new Error('the listener stopped answering'));
      return;
    }
    this.pending = { seq: String(++this.seq), sentAt: now };
    client
      .query('select pg_notify($1, $2)', [this.ownChannel, this.pending.seq])
      .catch((err) => this.lost(client, err));
  }

  private async lost(client: pg.Client, err: unknown): Promise<void> {
    if (client !== this.client) return;
    await this.drop(err);
    if (this.closed) return;
    const wait = this.backoff * (0.5 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
    this.retry = setTimeout(() => void this.open(), wait);
    this.retry.unref();
  }

  private async drop(err: unknown): Promise<void> {
    const client = this.client;
    this.client = null;
    this.confirmedAt = null;
    this.pending = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.up) {
      this.up = false;
      // Closing is no loss to report.
      if (!this.closed) this.opts.onState?.(false, err);
    }
    if (client) {
      client.removeAllListeners('notification');
      client.on('error', () => {});
      // A client cut mid-handshake may never report its end: closing must not wait on it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.end().catch(() => {}),
        new Promise((r) => {
          timer = setTimeout(r, 1000);
        }),
      ]);
      clearTimeout(timer);
    }
  }
}
