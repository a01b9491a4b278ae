import type { RefusalRecorder } from './audit/refusals.js';
import type { ApiKeyService } from './auth/api-keys.js';
import type { SessionService } from './auth/sessions.js';
import type { AuthzService } from './authz/service.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/db.js';
import type { Vault } from './store/vault.js';

/** What every route family needs, handed to each when the app is built. */
export interface AppContext {
  config: Config;
  store: Store;
  /** Injected so tests can move time (lock expiry, token idle expiry). */
  clock: () => Date;
  sessions: SessionService;
  /** The permission view, reloaded when the authz version moves. */
  authz: AuthzService;
  /** Audits refused requests, a burst from one actor as one record. */
  refusals: RefusalRecorder;
  /** File-devices API keys, cached per process by the key's hash (issue 13). */
  apiKeys: ApiKeyService;
  /** Seals and opens stored service-account passwords (src/store/vault.ts). */
  vault: Vault;
  /** Prometheus counters of this app (GET /metrics). */
  metrics: Metrics;
}
