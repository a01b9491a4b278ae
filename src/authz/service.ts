import type { AuthzView } from '../domain/authz.js';
import { ALL_COMPANIES, changedAuthzParts, loadAuthzParts, loadAuthzView, readAuthzVersion } from '../store/authz.js';
import type { Store } from '../store/db.js';

/** More changed companies than this and a full reload is cheaper than per-company loads. */
const MAX_PART_RELOAD = 200;

/** What tells this process of committed changes without a query (src/store/change-listener.ts). */
export interface ChangeFeed {
  /** True while every change committed before the feed's last proof, less than its lease ago, has been told. */
  live(): boolean;
}

export interface AuthzReloadStats {
  fullLoads: number;
  partLoads: number;
  /** The companies the last partial reload replaced. */
  lastParts: number[];
}

/**
 * This process's permission view. Each call reads the version row (one
 * primary-key lookup, shared by the callers that came before it was sent; on
 * SQLite only when the store's change signal says something was committed
 * since the last read); when another transaction, on any node, has bumped it,
 * the view reloads the parts of the companies changed since (`authz_parts`),
 * or everything when the change was to all of them. Concurrent callers share
 * one reload.
 *
 * Why this sees every change: versions are handed out under the version row's
 * lock, so in commit order. A reload starts by reading version V, and every
 * transaction numbered V or less had committed by then, its `authz_parts` row
 * included; the parts it names are then read afresh, so they hold at least
 * everything up to V. A transaction the reload only partly saw has a number
 * above V: its company's row is above V too, and the next call reloads that
 * part again.
 *
 * A partial reload changes the view in place, synchronously: a caller holding
 * the view sees the newer answers from then on, never a half-replaced part.
 *
 * On PostgreSQL with a live change feed the version row is not read: each
 * bump is told by NOTIFY (`noteVersion`), and while the feed is live every
 * bump committed before its last proof has been told, so the view at the
 * newest told version is as fresh as a read would make it, give or take the
 * feed's lease (LEASE_MS). The row is read again when the feed is not live,
 * and after a transaction of this process committed (its own notification
 * may not be back yet: a change stays visible at once on the node that made it).
 */
export class AuthzService {
  private view: AuthzView | null = null;
  private version = -1;
  private loading: Promise<void> | null = null;
  /** The version read under way, if any. */
  private reading: Promise<unknown> | null = null;
  /** The read to be sent once `reading` is done; callers may join it, as it starts after they came. */
  private queued: Promise<number> | null = null;
  /** SQLite: the store's change signal when `version` was last confirmed current. */
  private signal: string | undefined;
  /** PostgreSQL: the feed of changes, when one listens. */
  private feed: ChangeFeed | null = null;
  /** The newest version the feed told. */
  private told = -1;
  /** PostgreSQL: this process's commit count when `version` was last confirmed by a read. */
  private commits: number | undefined;
  readonly stats: AuthzReloadStats = { fullLoads: 0, partLoads: 0, lastParts: [] };
  /** Told of each reload that completed, and how long it took (metrics). */
  onReload: ((kind: 'full' | 'part', seconds: number) => void) | null = null;

  constructor(
    private readonly store: Store,
    /** How the version row is read (tests slow it down). */
    private readonly readVersion: (db: Store['db']) => Promise<number> = readAuthzVersion,
  ) {}

  /** Uses `feed` instead of reading the version row while it is live (PostgreSQL). */
  useFeed(feed: ChangeFeed): void {
    this.feed = feed;
  }

  /** The feed told that the version moved to `version`; the view catches up now rather than on the next request. */
  noteVersion(version: number): void {
    if (version <= this.told) return;
    this.told = version;
    if (this.view && this.version < version && !this.loading) this.refresh().catch(() => {});
  }

  current(): Promise<AuthzView> {
    return this.refresh();
  }

  private async refresh(): Promise<AuthzView> {
    // SQLite tells without a query whether anything was committed since the
    // last check; nothing was, so the version row has not moved either.
    const signal = this.store.changeSignal?.();
    if (signal !== undefined && signal === this.signal && this.view) return this.view;
    const commits = this.store.localCommits?.();
    const told = this.feed?.live() && commits === this.commits;
    if (told && this.view && this.version >= this.told) return this.view;
    const version = told ? this.told : await this.freshVersion();
    for (;;) {
      // At or past what this caller read (another caller may have reloaded further): current enough.
      if (this.view && this.version >= version) {
        // Taken before the version was read: a later commit moves the signal and forces a read.
        this.signal = signal;
        if (!told) this.commits = commits;
        return this.view;
      }
      if (!this.loading) {
        this.loading = this.reload(version).finally(() => {
          this.loading = null;
        });
      }
      // A reload already under way may have started before `version` was committed: wait, then look again.
      await this.loading;
    }
  }

  /**
   * The version, read by a query sent after this call: what had committed
   * before the caller came is in it. Callers share reads, so a busy process
   * keeps at most one in flight (on PostgreSQL a round trip each): a caller
   * that finds one under way may not join it (it may have read before the
   * caller came) and joins the next, sent as soon as that one is done.
   */
  private freshVersion(): Promise<number> {
    if (!this.reading) return this.send();
    this.queued ??= this.reading.then(() => {
      this.queued = null;
      return this.send();
    });
    return this.queued;
  }

  private send(): Promise<number> {
    const read = this.readVersion(this.store.db);
    const settled: Promise<unknown> = read.then(
      () => this.settle(settled),
      () => this.settle(settled),
    );
    this.reading = settled;
    return read;
  }

  private settle(read: Promise<unknown>): void {
    if (this.reading === read) this.reading = null;
  }

  private async reload(version: number): Promise<void> {
    const started = performance.now();
    const kind = await this.load(version);
    this.onReload?.(kind, (performance.now() - started) / 1000);
  }

  private async load(version: number): Promise<'full' | 'part'> {
    const db = this.store.db;
    if (this.view && version > this.version) {
      const changed = await changedAuthzParts(db, this.version);
      if (!changed.includes(ALL_COMPANIES) && changed.length <= MAX_PART_RELOAD) {
        const parts = await loadAuthzParts(db, changed);
        this.view.replaceParts(parts);
        this.version = version;
        this.stats.partLoads++;
        this.stats.lastParts = [...changed].sort((a, b) => a - b);
        return 'part';
      }
    }
    // No view yet, a change to all companies, or too many to load one by one.
    const view = await loadAuthzView(db);
    this.view = view;
    this.version = version;
    this.stats.fullLoads++;
    return 'full';
  }
}
