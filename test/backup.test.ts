// `bulwark backup FILE` and `bulwark restore FILE` through the real binary
// (README "Backup and restore"): SQLite only; PostgreSQL is told where its story is.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { bootstrappedDb, cleanupAfterEach, externalDb, runCli, startServer } from './cli.js';
import { ADMIN_PASSWORD, b64, DIALECT } from './harness.js';

const cleanups = cleanupAfterEach();
const sqliteOnly = DIALECT === 'sqlite' ? describe : describe.skip;
const API = '/commandcenter/api';

/** A server on a bootstrapped database, and its admin's token. */
async function serving() {
  const { env, dir, store, url } = await bootstrappedDb(cleanups);
  await store.close();
  const server = await startServer({ ...env, BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD });
  cleanups.push(() => server.stop());
  const login = await fetch(`${server.url}${API}/Login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) }),
  });
  const token = ((await login.json()) as { token: string }).token;
  const addUser = async (name: string) => {
    const res = await fetch(`${server.url}${API}/UserGroup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authtoken: token, accept: 'application/json' },
      body: JSON.stringify({ groups: [{ userGroupEntity: { userGroupName: name } }] }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text).errorCode ?? 0, text).toBe(0);
  };
  return { env, dir, url, server, addUser };
}

/** User groups named w… and their usergroup.create audit records, as the file holds them. */
function usersAndRecords(file: string): { users: string[]; records: string[] } {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    const users = db.prepare("select name from user_groups where name like 'w%' order by 1").pluck().all();
    const records = db
      .prepare(
        "select target_name from audit_log where operation = 'usergroup.create' and target_name like 'w%' order by 1",
      )
      .pluck()
      .all();
    return { users: users as string[], records: records as string[] };
  } finally {
    db.close();
  }
}

sqliteOnly('bulwark backup and restore (SQLite)', () => {
  it('a backup taken while the server writes restores to a consistent store that verifies and serves', async () => {
    const { env, dir, addUser, server } = await serving();
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) await addUser(`w${String(written++).padStart(5, '0')}`);
    })();
    while (written < 20) await new Promise((r) => setTimeout(r, 10));
    const file = path.join(dir, 'backups', 'during.db');
    const made = await runCli(['backup', file], env);
    // Writes go on after the snapshot, so the backup holds a strict prefix of them.
    const after = written;
    while (written < after + 10) await new Promise((r) => setTimeout(r, 10));
    writing = false;
    await writer;
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(`backup written to ${file}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['during.db']);

    const inBackup = usersAndRecords(file);
    expect(inBackup.users.length).toBeGreaterThanOrEqual(20);
    expect(inBackup.users.length).toBeLessThan(written);
    // A snapshot: every user with its audit record, and no record without its user.
    expect(inBackup.records).toEqual(inBackup.users);

    const restoredDb = path.join(dir, 'restored', 'bulwark.db');
    const restoreEnv = { ...env, BULWARK_DB: restoredDb };
    const restored = await runCli(['restore', file], restoreEnv);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/integrity ok, \d+ migrations, audit chain intact \(\d+ records\)/);
    expect(fs.statSync(restoredDb).mode & 0o777).toBe(0o600);
    const verify = await runCli(['audit', 'verify'], restoreEnv);
    expect(verify.code, verify.stdout).toBe(0);
    expect(usersAndRecords(restoredDb)).toEqual(inBackup);

    await server.stop();
    const again = await startServer({ ...restoreEnv });
    cleanups.push(() => again.stop());
    const login = await fetch(`${again.url}${API}/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) }),
    });
    expect(((await login.json()) as { token?: string }).token).toMatch(/^QSDK /);
  }, 60_000);

  it('refuses to overwrite a file without --force, and replaces it atomically with --force', async () => {
    const { env, dir } = await bootstrappedDb(cleanups);
    const file = path.join(dir, 'b.db');
    fs.writeFileSync(file, 'precious');
    const refused = await runCli(['backup', file], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`bulwark: ${file} exists; --force replaces it\n`);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    const forced = await runCli(['backup', file, '--force'], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(fs.readFileSync(file).subarray(0, 16).toString()).toBe('SQLite format 3\0');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // No temporary file left beside it.
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 30_000);

  it('refuses a database that is not there or not Bulwark’s (exit 3), and writes nothing', async () => {
    const { dir } = await bootstrappedDb(cleanups);
    const out = path.join(dir, 'out.db');
    const missing = await runCli(['backup', out], { BULWARK_DB: path.join(dir, 'none.db') });
    expect(missing.code).toBe(3);
    const other = path.join(dir, 'other.db');
    new SQLite(other).exec('create table t(x)');
    const foreign = await runCli(['backup', out], { BULWARK_DB: other });
    expect(foreign.code).toBe(3);
    expect(foreign.stderr).toContain('not a Bulwark database');
    expect(fs.existsSync(out)).toBe(false);
  }, 30_000);

  it('restore refuses while a server holds the database, and leaves it untouched', async () => {
    const { env, dir, addUser } = await serving();
    await addUser('wlive');
    const file = path.join(dir, 'b.db');
    expect((await runCli(['backup', file], env)).code).toBe(0);
    await addUser('wlater');
    const refused = await runCli(['restore', file, '--force'], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/is in use by another process \(a running bulwark serve\?\): stop it, then restore/);
    await addUser('wstill');
    expect(usersAndRecords(env.BULWARK_DB).users).toEqual(['wlater', 'wlive', 'wstill']);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 60_000);

  it('restore refuses an existing store without --force, and with it replaces the store (stale -wal and -shm gone)', async () => {
    const { env, dir, addUser, server } = await serving();
    await addUser('wbefore');
    const file = path.join(dir, 'b.db');
    expect((await runCli(['backup', file], env)).code).toBe(0);
    await addUser('wafter');
    await server.stop();
    const refused = await runCli(['restore', file], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('exists; --force replaces it with the backup');
    expect(usersAndRecords(env.BULWARK_DB).users).toEqual(['wafter', 'wbefore']);
    // A -wal left by a crash beside the old file must not be replayed into the restored one.
    fs.writeFileSync(`${env.BULWARK_DB}-wal`, Buffer.alloc(4096, 1));
    const done = await runCli(['restore', file, '--force'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(fs.existsSync(`${env.BULWARK_DB}-wal`)).toBe(false);
    expect(usersAndRecords(env.BULWARK_DB).users).toEqual(['wbefore']);
    expect((await runCli(['audit', 'verify'], env)).code).toBe(0);
  }, 60_000);

  it('restore checks the backup before it swaps it in: corrupt, tampered, foreign or newer files are refused (exit 1)', async () => {
    const { env, dir } = await bootstrappedDb(cleanups);
    const good = path.join(dir, 'good.db');
    expect((await runCli(['backup', good], env)).code).toBe(0);
    const target = { ...env, BULWARK_DB: path.join(dir, 'target', 'bulwark.db') };
    const variant = (name: string, change: (db: SQLite.Database) => void) => {
      const f = path.join(dir, name);
      fs.copyFileSync(good, f);
      const db = new SQLite(f);
      change(db);
      db.close();
      return f;
    };
    const tampered = variant('tampered.db', (db) =>
      db.exec("update audit_log set actor_name = 'mallory' where seq = 1"),
    );
    const newer = variant('newer.db', (db) =>
      db.exec("insert into bulwark_migrations (name, applied_at) values ('9999_future', '2030-01-01')"),
    );
    const foreign = path.join(dir, 'foreign.db');
    new SQLite(foreign).exec('create table t(x)');
    const corrupt = path.join(dir, 'corrupt.db');
    const bytes = fs.readFileSync(good);
    // Past the header: garble pages of the tables, as a bad disk would.
    bytes.fill(0x5a, 4096 * 2, 4096 * 6);
    fs.writeFileSync(corrupt, bytes);
    const cases: Array<[string, RegExp]> = [
      [tampered, /its audit chain is broken/],
      [newer, /migrated by a newer Bulwark \(9999_future\)/],
      [foreign, /not a Bulwark database/],
      [corrupt, /integrity check|not a SQLite database|malformed/],
    ];
    for (const [file, why] of cases) {
      const r = await runCli(['restore', file], target);
      expect(r.code, `${path.basename(file)}: ${r.stderr}`).toBe(1);
      expect(r.stderr, path.basename(file)).toMatch(why);
      expect(fs.existsSync(target.BULWARK_DB)).toBe(false);
    }
    expect(fs.readdirSync(path.dirname(target.BULWARK_DB))).toEqual([]);
    const ok = await runCli(['restore', good], target);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);
});

describe('bulwark backup and restore on PostgreSQL', () => {
  it('explain that they are for SQLite and point to the README’s PostgreSQL story (exit 2)', async () => {
    let pgUrl = 'postgres://bulwark@127.0.0.1:1/none';
    if (DIALECT === 'postgres') {
      const ext = await externalDb();
      cleanups.push(() => ext.drop());
      pgUrl = ext.url;
    }
    for (const args of [
      ['backup', '/tmp/never.db'],
      ['restore', '/tmp/never.db'],
    ]) {
      const r = await runCli(args, { BULWARK_DB: pgUrl });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /pg_dump, or base backups and WAL archiving, and keep the master key apart \(README "Backup and restore"\)/,
      );
      expect(r.stderr).not.toContain('postgres://');
    }
    expect(fs.existsSync('/tmp/never.db')).toBe(false);
  }, 30_000);
});
