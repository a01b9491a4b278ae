import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { buildApp, type RouteInfo } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore, type Store } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';

/** `BULWARK_TEST_DB=postgres://…` runs the suite on PostgreSQL; otherwise SQLite. */
export const TEST_DB = process.env.BULWARK_TEST_DB ?? '';
export const DIALECT: 'postgres' | 'sqlite' = TEST_DB.startsWith('postgres') ? 'postgres' : 'sqlite';
export const ADMIN_PASSWORD = 'Admin-Passw0rd!';
export const BASES = ['/commandcenter/api', '/webconsole/api'] as const;
export const BASE = BASES[0];

export interface TestStore {
  store: Store;
  /** Opens another connection to the same database (a second "node"). */
  reopen(): Store;
  drop(): Promise<void>;
}

/** A fresh, empty database: an in-memory SQLite file, or a new PostgreSQL schema. */
export async function freshStore(): Promise<TestStore> {
  if (DIALECT === 'sqlite') {
    const store = openStore(':memory:');
    return { store, reopen: () => store, drop: () => store.close() };
  }
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_DB });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const opened: Store[] = [];
  const open = () => {
    const s = openStore(TEST_DB, { schema, poolSize: 4 });
    opened.push(s);
    return s;
  };
  const store = open();
  return {
    store,
    reopen: open,
    drop: async () => {
      for (const s of opened) await s.close();
      const c = new pg.Client({ connectionString: TEST_DB });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export class TestClock {
  private t = Date.parse('2026-11-23T08:00:00.000Z');
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  store: Store;
  db: TestStore;
  clock: TestClock;
  logs: string[];
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** Logs in with JSON and returns the Authtoken header value. */
  login(username?: string, password?: string): Promise<string>;
  /** JSON request with an Authtoken under the first mount point. */
  call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The master key of test apps (a fixed one, so two apps on one store agree). */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7);

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export async function startApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await freshStore();
  const clock = new TestClock();
  await migrate(db.store);
  await bootstrap(db.store, ADMIN_PASSWORD, clock.now());
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const config = { ...loadConfig({}), db: TEST_DB || ':memory:', logLevel: 'debug', ...overrides };
  // Node's process metrics start a timer and observers per app: the suites build hundreds.
  const { app, ctx } = await buildApp({
    config,
    store: db.store,
    clock: clock.now,
    logStream,
    masterKey: TEST_MASTER_KEY,
    processMetrics: false,
  });
  await app.ready();
  const inject = (o: InjectOptions) => app.inject(o);
  const t: TestApp = {
    app,
    ctx,
    store: db.store,
    db,
    clock,
    logs,
    inject,
    async login(username = 'admin', password = ADMIN_PASSWORD) {
      const res = await inject({
        method: 'POST',
        url: `${BASE}/Login`,
        payload: { mode: 4, username, password: b64(password), deviceId: 'test', clientType: 30 },
      });
      const body = res.json();
      if (!body.token) throw new Error(`login of ${username} failed: ${res.body}`);
      return body.token as string;
    },
    call(method, path, token, body, headers = {}) {
      return inject({
        method: method as InjectOptions['method'],
        url: `${BASE}${path}`,
        headers: { authtoken: token, accept: 'application/json', ...headers },
        ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      });
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
  return t;
}

/** Creates a company with a tenant admin who can log in; returns ids and a token. */
export async function makeTenant(t: TestApp, adminToken: string, domain: string) {
  const res = await t.call('POST', '/Organization', adminToken, {
    organizationInfo: {
      organization: {
        connectName: `${domain} Inc`,
        emailDomainNames: [`${domain}.example`],
        shortName: { domainName: domain },
      },
      organizationProperties: { primaryContacts: [{ fullName: `${domain} Admin`, email: `boss@${domain}.example` }] },
    },
  });
  const companyId = res.json().response.entity.providerId as number;
  const user = await t.call('POST', '/User', adminToken, {
    users: [
      {
        userEntity: { userName: `${domain}\\tadmin` },
        email: `tadmin@${domain}.example`,
        password: b64('Tenant-Passw0rd!'),
        associatedUserGroups: [{ userGroupName: 'Tenant Admin' }],
      },
    ],
  });
  const userId = user.json().response[0].entity.userId as number;
  const token = await t.login(`${domain}\\tadmin`, 'Tenant-Passw0rd!');
  return { companyId, userId, token };
}

/**
 * The fixture of most suites: a fresh app and the administrator's token for
 * each test (`'all'`: one for the whole file), handed to `set`, closed after.
 */
export function withApp(set: (t: TestApp, admin: string) => void, scope: 'each' | 'all' = 'each'): void {
  let current: TestApp | null = null;
  (scope === 'each' ? beforeEach : beforeAll)(async () => {
    current = await startApp();
    set(current, await current.login());
  });
  (scope === 'each' ? afterEach : afterAll)(async () => {
    await current?.close();
    current = null;
  });
}

/** Every route the app registers (as a second app on the same store finds them at build time). */
export async function routesOf(t: TestApp): Promise<RouteInfo[]> {
  const built = await buildApp({
    config: { ...loadConfig({}), logLevel: 'silent' },
    store: t.store,
    clock: t.clock.now,
    masterKey: TEST_MASTER_KEY,
  });
  await built.app.close();
  return built.routes;
}
