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

export class VirtualServerCache {
  private list: VirtualServerWithAddresses[] | null = null;
  private signal: string | undefined;
  private loadedAt = 0;
  private loading: Promise<VirtualServerWithAddresses[]> | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async all(): Promise<VirtualServerWithAddresses[]> {
    const signal = this.store.changeSignal?.();
    const fresh =
      this.list !== null && (signal !== undefined ? signal === this.signal : this.now() - this.loadedAt < PG_TTL_MS);
    if (fresh && this.list) return this.list;
    if (!this.loading) {
      const started = this.now();
      this.loading = listVirtualServers(this.store.db, {}).then(
        (list) => {
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
