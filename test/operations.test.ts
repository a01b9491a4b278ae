import { afterEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/audit/verify.js';
import { tokenHashOf } from '../src/auth/sessions.js';
import { accountLockKey } from '../src/domain/lockout.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore } from '../src/store/db.js';
import { MIGRATIONS, migrate } from '../src/store/migrate.js';
import { externalDb, runCli } from './cli.js';
import { ADMIN_PASSWORD, BASE, b64, DIALECT, freshStore, startApp } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('migrations', () => {
  it('apply once when several processes start at once on one database', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    const env = { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir };
    const runs = await Promise.all([0, 1, 2].map(() => runCli(['migrate'], env)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs.filter((r) => r.stdout.includes('applied: 0001_foundation, 0002_security')).length).toBe(1);
    expect(runs.filter((r) => r.stdout.includes('up to date')).length).toBe(2);
    const store = openStore(ext.url);
    cleanups.push(() => store.close());
    const rows = await store.db
      .selectFrom('bulwark_migrations' as any)
      .selectAll()
      .execute();
    expect(rows.length).toBe(MIGRATIONS.length);
    expect((await migrate(store)).applied).toEqual([]);
  });

  it('bootstrap creates exactly one administrator when nodes start together', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    // SQLite is one process's database: its connections in one process would
    // block each other's event loop, so there the race is run in turn.
    const stores =
      DIALECT === 'postgres' ? [0, 1, 2].map(() => openStore(ext.url, { poolSize: 2 })) : [openStore(ext.url)];
    cleanups.push(async () => {
      for (const s of stores) await s.close();
    });
    await migrate(stores[0]!);
    const results =
      DIALECT === 'postgres'
        ? await Promise.all(stores.map((s) => bootstrap(s, ADMIN_PASSWORD, new Date())))
        : [
            await bootstrap(stores[0]!, ADMIN_PASSWORD, new Date()),
            await bootstrap(stores[0]!, ADMIN_PASSWORD, new Date()),
          ];
    expect(results.filter((r) => r.created).length).toBe(1);
    const admins = await stores[0]!.db.selectFrom('users').selectAll().where('name_key', '=', 'admin').execute();
    expect(admins.length).toBe(1);
  });

  it('refuses a database migrated by a newer version', async () => {
    const db = await freshStore();
    cleanups.push(() => db.drop());
    await migrate(db.store);
    await (db.store.db as any)
      .insertInto('bulwark_migrations')
      .values({ name: '9999_future', applied_at: 'x' })
      .execute();
    await expect(migrate(db.store)).rejects.toThrow(/newer Bulwark/);
  });
});

describe('the bulwark command', () => {
  it('migrate, then audit verify reports an intact chain, then a broken one after a direct edit', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    const env = { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir };
    const m = await runCli(['migrate'], env);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toContain('applied: 0001_foundation, 0002_security');
    expect((await runCli(['migrate'], env)).stdout).toContain('up to date');

    const store = openStore(ext.url);
    cleanups.push(() => store.close());
    await bootstrap(store, ADMIN_PASSWORD, new Date());
    const ok = await runCli(['audit', 'verify'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('audit chain intact: 1 records');

    await store.db.updateTable('audit_log').set({ reason: 'nothing to see here' }).where('seq', '=', 1).execute();
    const bad = await runCli(['audit', 'verify'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('audit chain BROKEN');
    expect(bad.stdout).toMatch(/record 1: content does not match its hash/);
  });

  it('admin reset-password sets a password from stdin, revokes sessions and lifts a lock', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    const env = { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir };
    const store = openStore(ext.url);
    cleanups.push(() => store.close());
    await migrate(store);
    await bootstrap(store, ADMIN_PASSWORD, new Date());
    const admin = await store.db
      .selectFrom('users')
      .select('id')
      .where('name_key', '=', 'admin')
      .executeTakeFirstOrThrow();
    await store.db
      .insertInto('login_throttle')
      .values({
        key: accountLockKey(admin.id),
        failures: 0,
        window_started_at: new Date().toISOString(),
        locked_until: '2999-01-01T00:00:00.000Z',
        lock_count: 3,
      })
      .execute();

    const weak = await runCli(['admin', 'reset-password', '--user', 'admin', '--password-stdin'], env, 'short\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/8 to 256 characters/);

    const r = await runCli(
      ['admin', 'reset-password', '--user', 'admin', '--password-stdin'],
      env,
      'Brand-New-Passw0rd\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('password for admin changed');
    expect(r.stdout).not.toContain('Brand-New-Passw0rd');
    expect(await store.db.selectFrom('login_throttle').selectAll().execute()).toEqual([]);
    const audit = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', '=', 'admin.reset-password')
      .execute();
    expect(audit.length).toBe(1);
    expect((await verifyAudit(store.db)).ok).toBe(true);

    const gen = await runCli(['admin', 'reset-password', '--user', 'admin'], env);
    expect(gen.stdout).toMatch(/new password for admin: [0-9a-f]{24}/);
    const unknown = await runCli(['admin', 'reset-password', '--user', 'nobody'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no user nobody');
  });

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const r = await runCli(['migrate'], { PORT: 'eighty', BULWARK_DB: ':memory:' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PORT must be a whole number');
  });
});

describe('logs', () => {
  it('never carry a password, passkey or token, whatever happens', async () => {
    const t = await startApp();
    cleanups.push(() => t.close());
    const token = await t.login();
    await t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      payload: { username: 'admin', password: b64('Wrong-Secret-1') },
    });
    await t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      headers: { 'content-type': 'application/xml' },
      payload: '<DM2ContentIndexing_CheckCredentialReq username="admin" password="Xml-Secret-2"/>',
    });
    await t.call('POST', '/User', token, {
      users: [{ userEntity: { userName: 'carol' }, password: b64('Carol-Secret-3'), email: 'c@x.example' }],
    });
    await t.call('POST', '/User/1', token, {
      users: [
        {
          password: b64('Admin-Secret-4'),
          validationParameters: { password: b64(ADMIN_PASSWORD), passwordOperationType: 2 },
        },
      ],
    });
    const all = t.logs.join('\n');
    expect(t.logs.length).toBeGreaterThan(5);
    for (const secret of [
      ADMIN_PASSWORD,
      'Wrong-Secret-1',
      'Xml-Secret-2',
      'Carol-Secret-3',
      'Admin-Secret-4',
      token.slice(5),
    ]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(b64(secret));
    }
  });

  it('a server-side failure answers 500 with a request id and no internals', async () => {
    const t = await startApp();
    const token = await t.login();
    t.ctx.sessions.forgetToken(tokenHashOf(token));
    await t.store.close();
    const res = await t.call('GET', '/WhoAmI', token);
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.errorCode).toBe(1300);
    // A random id per request (not Fastify's req-N counter, which repeats across nodes and restarts).
    expect(body.errorMessage).toMatch(/^Internal error; request id [0-9a-f-]{36}$/);
    expect(body.errorMessage).toContain(res.headers['x-request-id']);
    await t.app.close();
    if (DIALECT === 'postgres') await t.db.drop().catch(() => {});
  });
});
