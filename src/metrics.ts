import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from './store/db.js';

/** Request latencies, seconds: a login's password hash is tens of ms, a bulk import seconds. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Audit appends and view reloads: sub-millisecond on SQLite, lock waits on PostgreSQL. */
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5, 10];
/** Method label values; anything else is `OTHER`, so the label stays bounded. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);

export type LoginOutcome = 'success' | 'bad_credentials' | 'account_locked' | 'address_blocked' | 'disabled';
/** Which dialect a password came through (src/auth/password-check.ts counts both). */
export type LoginDialect = 'commserve' | 'file-devices';
export type LockoutKind = 'account' | 'address' | 'passkey' | 'account_management';
export type PasskeyFailure = 'wrong' | 'locked';

/**
 * This process's Prometheus metrics, one registry per app (tests build many).
 * Every label value comes from a closed set or from the route table (the
 * route's pattern, never the URL), so nothing a caller types (a tenant name,
 * a user name, an id) becomes a label, and the series count is bounded by
 * routes x methods x status codes.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'bulwark_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'bulwark_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly logins = new Counter({
    name: 'bulwark_logins_total',
    help: 'Password checks by dialect (commserve Login; file-devices: each request authenticated by password) and outcome (success, bad_credentials, account_locked, address_blocked, disabled)',
    labelNames: ['dialect', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly lockouts = new Counter({
    name: 'bulwark_lockouts_total',
    help: 'Locks applied: an account after failed logins, a source address after failed logins (both dialects), passkey operations, AccountManagement after wrong old passwords',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly passkeyFailures = new Counter({
    name: 'bulwark_passkey_failures_total',
    help: 'Passkey operations refused: a wrong passkey, or while locked',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'bulwark_refusals_total',
    help: 'Refused requests and batch items audited as access.denied, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly auditAppends = new Counter({
    name: 'bulwark_audit_appends_total',
    help: 'Audit records appended (counted when written in their transaction)',
    registers: [this.registry],
  });
  readonly auditSeconds = new Histogram({
    name: 'bulwark_audit_append_duration_seconds',
    help: 'Time to append one audit record, the head-row lock wait included',
    buckets: FAST_BUCKETS,
    registers: [this.registry],
  });
  readonly viewReloads = new Counter({
    name: 'bulwark_authz_view_reloads_total',
    help: 'Permission view reloads: full, or of the changed companies (part)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly viewReloadSeconds = new Histogram({
    name: 'bulwark_authz_view_reload_duration_seconds',
    help: 'Time to reload the permission view, full or part',
    labelNames: ['kind'] as const,
    buckets: FAST_BUCKETS,
    registers: [this.registry],
  });

  constructor(store: Store, opts: { processMetrics?: boolean } = {}) {
    const pool = store.pool;
    if (pool) {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers: [this.registry],
          collect() {
            this.set(read());
          },
        });
      gauge('bulwark_db_pool_connections', 'PostgreSQL pool: connections open', () => pool.totalCount);
      gauge('bulwark_db_pool_idle', 'PostgreSQL pool: connections idle', () => pool.idleCount);
      gauge('bulwark_db_pool_waiting', 'PostgreSQL pool: queries waiting for a connection', () => pool.waitingCount);
    }
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'bulwark_' });
  }

  /** Counts one answered request; called from onResponse. */
  observeRequest(req: FastifyRequest, reply: FastifyReply): void {
    const labels = {
      method: METHODS.has(req.method) ? req.method : 'OTHER',
      // The registered pattern (`/commandcenter/api/User/:userId`); requests no route matched share one value.
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, reply.elapsedTime / 1000);
  }
}

/** A socket address that is this host. */
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

/**
 * Who may read /metrics. It is an operator endpoint: the counts say how
 * busy the node is and how many logins fail, but name nobody.
 * - With a metrics token configured, exactly the callers presenting it
 *   (`Authorization: Bearer <token>`), from anywhere.
 * - Without one, only a caller on this host (the socket's address, never
 *   X-Forwarded-For), and not behind a proxy: with BULWARK_TRUST_PROXY the
 *   proxy's own connection is local for every client it forwards.
 */
export function mayReadMetrics(req: FastifyRequest, token: string | null, trustProxy: boolean): boolean {
  if (token !== null) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
  return !trustProxy && isLoopback(req.socket.remoteAddress);
}
