import type { AuthzView } from '../domain/authz.js';
import { loadAuthzView, readAuthzVersion } from '../store/authz.js';
import type { Store } from '../store/db.js';

/**
 * This process's permission view. Each call reads the version row (one
 * primary-key lookup) and reloads the view when another transaction, on any
 * node, has bumped it; concurrent callers share one reload.
 */
export class AuthzService {
  private view: AuthzView | null = null;
  private version = -1;
  private loading: Promise<AuthzView> | null = null;

  constructor(private readonly store: Store) {}

  async current(): Promise<AuthzView> {
    const version = await readAuthzVersion(this.store.db);
    if (this.view && version === this.version) return this.view;
    if (!this.loading) {
      this.loading = loadAuthzView(this.store.db)
        .then((view) => {
          // Loaded after reading `version`: it is at least that new.
          if (version >= this.version) {
            this.view = view;
            this.version = version;
          }
          return view;
        })
        .finally(() => {
          this.loading = null;
        });
    }
    const loaded = await this.loading;
    return this.version >= version && this.view ? this.view : loaded;
  }
}
