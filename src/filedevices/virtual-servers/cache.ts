import type { Store } from '../../store/db.js';
import { listVirtualServers, type VirtualServerWithAddresses } from '../../store/file-devices.js';

/**
 * The virtual servers of the file server, held per process for reads (a file
 * server has tens of them, so all of them is a small bound). Invalidation:
 * on SQLite the store's change signal (any commit by any process moves it,
 * read without a query), so a read never sees an older state than the
 * database; on PostgreSQL a bound of PG_TTL_MS, and at once on the node that
 * changed them (`forget`). Writes never read through it.
 */
export const PG_TTL_MS = 1_000;

/** A virtual server as stored, and its reply shape rendered once per load (not per request). */
export interface CachedVirtualServer<J> {
  vs: VirtualServerWithAddresses;
  json: J;
}

export class VirtualServerCache<J> {
  private list: CachedVirtualServer<J>[] | null = null;
  private signal: string | undefined;
  private loadedAt = 0;
  private loading: Promise<CachedVirtualServer<J>[]> | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly render: (vs: VirtualServerWithAddresses) => J,
  ) {}

  async all(): Promise<CachedVirtualServer<J>[]> {
    const signal = this.store.changeSignal?.();
    const fresh =
      this.list !== null && (signal !== undefined ? signal === this.signal : this.now() - this.loadedAt < PG_TTL_MS);
    if (fresh && this.list) return this.list;
    if (!this.loading) {
      const started = this.now();
      this.loading = listVirtualServers(this.store.db, {}).then(
        (rows) => {
          const list = rows.map((vs) => ({ vs, json: this.render(vs) }));
          // Read after the signal was taken: a commit meanwhile moves it again, so the next call reloads.
          this.list = list;
          this.signal = signal;
          this.loadedAt = started;
          this.loading = null;
          return list;
        },
        (err) => {
          this.loading = null;
          throw err;
        },
      );
    }
    return this.loading;
  }

  forget(): void {
    this.list = null;
  }
}
