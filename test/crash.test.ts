// Crash safety (issue 14, item 4): the real server process is killed with
// SIGKILL while a bulk write is in its transaction, restarted on the same
// database, and every change is found whole or absent, never partial, with
// the audit chain intact. One table of scenarios: a row is a bulk write (how
// to start it, and what "whole" means for it), so new bulk writes join as rows.
// Key rotation, a CLI process rather than a request, has its own test below.
import { spawn } from 'node:child_process';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/audit/verify.js';
import { userKey } from '../src/domain/credentials.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore, type Store } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { rotationState } from '../src/store/rotation.js';
import { Vault } from '../src/store/vault.js';
import { CLI, externalDb, ROOT, type RunningServer, runCli, startServer } from './cli.js';
import { ADMIN_PASSWORD, b64, DIALECT, TEST_DB } from './harness.js';
import { keyCounts, openAll, passwordOf, seedSealed } from './sealed.js';

const API = '/commandcenter/api';
const PLANS = 10_000;
/** Milliseconds between seeing the write's transaction open and the kill. */
const KILL_POINTS = [0, 60] as const;

type Outcome = 'whole' | 'absent';

interface Session {
  url: string;
  token: string;
}

interface Scenario {
  name: string;
  /** Prepares the write tagged `tag` (awaited), and returns what sends it. */
  start(s: Session, tag: string): Promise<() => Promise<Response>>;
  /** What the store holds of the write tagged `tag`: whole, absent, or a throw naming what is partial. */
  check(store: Store, tag: string): Promise<Outcome>;
}

const post = (s: Session, path: string, body: string, contentType = 'application/json') =>
  fetch(`${s.url}${API}${path}`, {
    method: 'POST',
    headers: { authtoken: s.token, 'content-type': contentType, accept: 'application/json' },
    body,
  });

async function ok(res: Promise<Response>): Promise<Record<string, unknown>> {
  const r = await res;
  const text = await r.text();
  expect(r.status, text).toBe(200);
  const body = JSON.parse(text);
  expect(body.errorCode ?? 0, text).toBe(0);
  return body;
}

const count = async (q: Promise<{ n: number | string } | undefined>) => Number((await q)?.n ?? 0);

/** Audit records of `operation` written since the write tagged `tag` was sent. */
const auditSince = (store: Store, operation: string, tag: string) =>
  count(
    store.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('operation', '=', operation)
      .where('seq', '>', seqBefore.get(tag) ?? Number.MAX_SAFE_INTEGER)
      .executeTakeFirst(),
  );

/** Whole when `rows` equals `all` and the audit record is there; absent when neither; anything else is partial. */
function judge(what: string, rows: number, all: number, audited: number): Outcome {
  if (rows === all && audited === 1) return 'whole';
  if (rows === 0 && audited === 0) return 'absent';
  throw new Error(`${what} is partial: ${rows} of ${all} rows, ${audited} audit records`);
}

const ndjson = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join('\n');

const IMPORT_LINES = 10_000;
/** The master key the servers run with, so the test seals and opens what they do. */
const MASTER_KEY = Buffer.alloc(32, 7);
const AM_RECORDS = 2000;
const ROTATE_RECORDS = 3000;
/** Entity accounts seeded, of which a third (the clients' impersonation accounts) are kept. */
const AM_ACCOUNTS = 3000;
/** The records each tagged AccountManagement apply matches, as refs. */
const amRefs = new Map<string, string[]>();
const amUser = (tag: string) => `corp\\am-${tag}`;
const amNewUser = (tag: string) => `corp\\am-${tag}-new`;
const amPassword = (tag: string) => `New-${tag}-Secret`;
const JOBS = 10;
const FILES_PER_JOB = 1000;

const SCENARIOS: Scenario[] = [
  {
    name: 'POST Security, 10 000 associations',
    async start(s, tag) {
      await ok(post(s, '/UserGroup', JSON.stringify({ groups: [{ userGroupEntity: { userGroupName: tag } }] })));
      const body = {
        entityAssociated: {
          entity: Array.from({ length: PLANS }, (_, i) => ({ entityType: 158, _type_: 150, entityId: planIds[i] })),
        },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [{ userOrGroup: [{ userGroupName: tag }], properties: { role: { roleName: 'View' } } }],
        },
      };
      return () => post(s, '/Security', JSON.stringify(body));
    },
    async check(store, tag) {
      const group = await store.db.selectFrom('user_groups').select('id').where('name', '=', tag).executeTakeFirst();
      if (!group) throw new Error(`group ${tag} missing`);
      const rows = await count(
        store.db
          .selectFrom('security_associations')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('principal_kind', '=', 'group')
          .where('principal_id', '=', group.id)
          .executeTakeFirst(),
      );
      return judge('POST Security', rows, PLANS, await auditSince(store, 'security.add', tag));
    },
  },
  {
    name: 'POST Entities/Import, 10 000 lines in one transaction',
    async start(s, tag) {
      const lines = Array.from({ length: IMPORT_LINES }, (_, i) => ({ type: 'client', name: `${tag}-${i}` }));
      return () => post(s, '/Entities/Import', ndjson(lines), 'application/x-ndjson');
    },
    async check(store, tag) {
      const rows = await count(
        store.db
          .selectFrom('entities')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('name', 'like', `${tag}-%`)
          .executeTakeFirst(),
      );
      return judge('POST Entities/Import', rows, IMPORT_LINES, await auditSince(store, 'entity.import', tag));
    },
  },
  {
    name: `POST Catalogue/Import, ${JOBS} jobs of ${FILES_PER_JOB} files in one transaction`,
    async start(s, tag) {
      const subclient = await fileSystemChain(s, tag);
      subclients.set(tag, subclient);
      const jobs = Array.from({ length: JOBS }, (_, j) => ({
        subclientId: subclient,
        backupLevel: 'Full',
        startTime: 1_700_000_000 + j * 1000,
        endTime: 1_700_000_600 + j * 1000,
        files: Array.from({ length: FILES_PER_JOB }, (_, f) => ({
          path: `/data/d${f % 20}/f${f}.txt`,
          size: f,
          modificationTime: 1_699_999_000,
        })),
      }));
      return () => post(s, '/Catalogue/Import', ndjson(jobs), 'application/x-ndjson');
    },
    async check(store, tag) {
      const sc = subclients.get(tag) as number;
      const jobs = await count(
        store.db
          .selectFrom('jobs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('subclient_id', '=', sc)
          .executeTakeFirst(),
      );
      const files = await count(
        store.db
          .selectFrom('catalogue_items')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('subclient_id', '=', sc)
          .where('is_folder', '=', 0)
          .executeTakeFirst(),
      );
      if (files !== jobs * FILES_PER_JOB) throw new Error(`catalogue import is partial: ${jobs} jobs, ${files} files`);
      return judge('POST Catalogue/Import', jobs, JOBS, await auditSince(store, 'catalogue.import', tag));
    },
  },
  {
    name: `POST User/AccountManagement, ${AM_RECORDS} records and ${AM_ACCOUNTS / 3} entity accounts in one transaction`,
    async start(s, tag) {
      // Sealed records of one user name: Credential Manager records and accounts on clients, stored by the
      // repository's multi-row seed, then all given the tag's user name (the seal binds the id, not the name).
      const maxCred = await maxOf(store(), 'credentials', 'id');
      const maxEntity = await maxOf(store(), 'entities', 'id');
      const refs = await seedSealed(
        store(),
        new Vault(store(), MASTER_KEY),
        {
          credentials: AM_RECORDS,
          accounts: AM_ACCOUNTS,
        },
        new Date(Date.now() + amRefs.size * 1000),
      );
      // The seed puts every kind on a client; a client holds only its impersonation account.
      await store()
        .db.deleteFrom('entity_accounts')
        .where('entity_id', '>', maxEntity)
        .where('kind', '!=', 'clientImpersonation')
        .execute();
      amRefs.set(
        tag,
        refs.filter((r) => r.startsWith('credentials/') || r.endsWith('/clientImpersonation')),
      );
      const named = { user_name: amUser(tag), user_key: userKey(amUser(tag)) };
      await store().db.updateTable('credentials').set(named).where('id', '>', maxCred).execute();
      await store().db.updateTable('entity_accounts').set(named).where('entity_id', '>', maxEntity).execute();
      const body = {
        GuiServer_ModifyCredsReq: {
          preview: 0,
          reason: tag,
          skipPasswordCheck: 1,
          credsInfo: {
            oldCredentials: { userName: amUser(tag) },
            newCredentials: { userName: amNewUser(tag), password: b64(amPassword(tag)) },
            associations: { _type_: 2 },
          },
        },
      };
      return () => post(s, '/User/AccountManagement', JSON.stringify(body));
    },
    async check(st, tag) {
      const refs = new Set(amRefs.get(tag));
      const all = refs.size;
      const users = new Map<string, string>();
      for (const r of await st.db.selectFrom('credentials').select(['id', 'user_name']).execute()) {
        users.set(`credentials/${r.id}`, r.user_name);
      }
      for (const r of await st.db.selectFrom('entity_accounts').select(['entity_id', 'kind', 'user_name']).execute()) {
        users.set(`entity_accounts/${r.entity_id}/${r.kind}`, r.user_name);
      }
      let changed = 0;
      let unchanged = 0;
      for (const [ref, o] of await openAll(st.db, new Vault(st, MASTER_KEY))) {
        if (!refs.has(ref)) continue;
        const user = users.get(ref);
        if (user === amNewUser(tag) && o.plain === amPassword(tag)) changed++;
        else if (user === amUser(tag) && o.plain === passwordOf(ref)) unchanged++;
        else throw new Error(`${ref} is neither old nor new: ${user}, ${o.error ?? 'another password'}`);
      }
      if (changed + unchanged !== all) throw new Error(`${all - changed - unchanged} of ${all} records are missing`);
      return judge(
        'POST User/AccountManagement',
        changed,
        all,
        await auditSince(st, 'credential.account-management', tag),
      );
    },
  },
];

/** The test's own connection to the servers' database (set in beforeAll). */
let testStore: Store | undefined;
const store = (): Store => {
  if (!testStore) throw new Error('no store');
  return testStore;
};

async function maxOf(st: Store, table: 'credentials' | 'entities', column: 'id'): Promise<number> {
  const r = await st.db
    .selectFrom(table)
    .select((eb) => eb.fn.max(column).as('m'))
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

/** The audit head just before each tagged write was sent (records after it belong to that write). */
const seqBefore = new Map<string, number>();
let planIds: number[] = [];
/** The subclient each tagged catalogue import loads. */
const subclients = new Map<string, number>();

/** A client with its File System chain down to subclient "default", imported over HTTP; its subclient's id. */
async function fileSystemChain(s: Session, client: string): Promise<number> {
  const agent = { type: 'agent', name: 'File System', parent: { type: 'client', name: client } };
  const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
  const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
  const body = await ok(
    post(
      s,
      '/Entities/Import',
      ndjson([
        { type: 'client', name: client },
        agent,
        instance,
        backupSet,
        { type: 'subclient', name: 'default', parent: backupSet },
      ]),
      'application/x-ndjson',
    ),
  );
  return (body.results as Array<{ entityId: number }>)[4]?.entityId as number;
}

/**
 * Whether a write transaction is open on the database right now. SQLite: our
 * own BEGIN IMMEDIATE fails at once while another connection holds the write
 * lock. PostgreSQL: a backend of the server's (named by application_name) has
 * a transaction id, which it gets at its first write.
 */
interface WriteProbe {
  busy(): Promise<boolean>;
  close(): Promise<void>;
}

function sqliteProbe(file: string): WriteProbe {
  const db = new SQLite(file, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  return {
    async busy() {
      try {
        db.exec('begin immediate');
      } catch (e) {
        if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) return true;
        throw e;
      }
      db.exec('rollback');
      return false;
    },
    async close() {
      db.close();
    },
  };
}

async function pgProbe(app: string): Promise<WriteProbe> {
  const c = new pg.Client({ connectionString: TEST_DB });
  await c.connect();
  return {
    async busy() {
      const r = await c.query(
        'select count(*)::int as n from pg_stat_activity where application_name = $1 and backend_xid is not null',
        [app],
      );
      return r.rows[0].n > 0;
    },
    close: () => c.end(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`SIGKILL during bulk writes (${DIALECT})`, () => {
  let ext: Awaited<ReturnType<typeof externalDb>>;
  let env: Record<string, string>;
  let store: Store;
  let probe: WriteProbe;
  let server: RunningServer | null = null;

  beforeAll(async () => {
    ext = await externalDb();
    const appName = `bulwark_crash_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const url = DIALECT === 'postgres' ? `${ext.url}&application_name=${appName}` : ext.url;
    env = {
      BULWARK_DB: url,
      BULWARK_DATA_DIR: ext.dir,
      BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BULWARK_MASTER_KEY: MASTER_KEY.toString('base64'),
    };
    store = openStore(ext.url, { create: true });
    testStore = store;
    await migrate(store);
    await bootstrap(store, ADMIN_PASSWORD, new Date());
    // The estate POST Security grants on: plans owned by the CommCell.
    const at = new Date().toISOString();
    for (let k = 0; k < PLANS; k += 1000) {
      await store.db
        .insertInto('entities')
        .values(
          Array.from({ length: 1000 }, (_, i) => ({
            type: 158,
            company_id: 0,
            parent_id: null,
            parent_key: 0,
            name: `plan-${k + i}`,
            name_key: `plan-${k + i}`,
            created_at: at,
          })),
        )
        .execute();
    }
    await store.db.updateTable('authz_version').set({ version: 1000 }).execute();
    planIds = (await store.db.selectFrom('entities').select('id').where('type', '=', 158).orderBy('id').execute()).map(
      (r) => r.id,
    );
    probe = DIALECT === 'postgres' ? await pgProbe(appName) : sqliteProbe(ext.url);
    server = await startServer(env);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await probe?.close();
    await store?.close();
    await ext?.drop();
  });

  async function session(): Promise<Session> {
    if (!server) throw new Error('no server');
    const res = await fetch(`${server.url}${API}/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) }),
    });
    return { url: server.url, token: ((await res.json()) as { token: string }).token };
  }

  async function headSeq(): Promise<number> {
    const h = await store.db.selectFrom('audit_head').select('seq').executeTakeFirst();
    return Number(h?.seq ?? 0);
  }

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: whole or absent after a kill at each point, whole without one`, async () => {
      const outcomes: string[] = [];
      for (const delay of KILL_POINTS) {
        const tag = `k${delay}-${scenario.name.replace(/\W+/g, '').slice(4, 12).toLowerCase()}`;
        const s = await session();
        const send = await scenario.start(s, tag);
        seqBefore.set(tag, await headSeq());
        const reply = send();
        let answered: string | false = false;
        void reply.then(
          async (r) => {
            answered = `${r.status} ${(await r.text()).slice(0, 200)}`;
          },
          () => {},
        );
        // Kill once the write's transaction is seen open (or, failing that, it answered already).
        const deadline = Date.now() + 60_000;
        while (!answered && !(await probe.busy())) {
          if (Date.now() > deadline) throw new Error('the write never started');
          await sleep(2);
        }
        if (delay > 0) await sleep(delay);
        await server?.crash();
        server = await startServer(env);
        const outcome = await scenario.check(store, tag);
        outcomes.push(`${delay} ms: ${outcome}${answered ? ` (answered before the kill: ${answered})` : ''}`);
        const audit = await verifyAudit(store.db);
        expect(audit.problems, `after the kill at ${delay} ms`).toEqual([]);
      }
      // The first kill lands inside the transaction: the test really cut a write short.
      expect(outcomes[0], outcomes.join('; ')).toBe('0 ms: absent');
      const tag = `full-${scenario.name.replace(/\W+/g, '').slice(4, 12).toLowerCase()}`;
      const s = await session();
      const send = await scenario.start(s, tag);
      seqBefore.set(tag, await headSeq());
      await ok(send());
      expect(await scenario.check(store, tag)).toBe('whole');
    }, 120_000);
  }

  // Key rotation is a CLI process, not a request to the server: the rotation is
  // what is killed (while a server runs on the store, as rotation is run online),
  // inside one batch's transaction. Each batch commits whole, so every record
  // is under the old key or the new, and opens to its password either way.
  it('bulwark keys rotate killed inside a batch: every record opens to its password; the next run finishes', async () => {
    await seedSealed(store, new Vault(store, MASTER_KEY), { credentials: ROTATE_RECORDS, accounts: 0 });
    const vault = () => new Vault(store, MASTER_KEY);
    const plain = async () => new Map([...(await openAll(store.db, vault()))].map(([ref, o]) => [ref, o.plain]));
    const before = await plain();
    expect([...before.values()].every((p) => p !== null)).toBe(true);
    const keysBefore = Object.keys(await keyCounts(store.db)).map(Number);
    const child = spawn(process.execPath, [...CLI, 'keys', 'rotate', '--batch', '500', '--pause-ms', '20'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.resume();
    let exited = false;
    const closed = new Promise<number | null>((resolve) =>
      child.on('close', (code) => {
        exited = true;
        resolve(code);
      }),
    );
    // Once a first batch is in, kill when the next one holds the write lock (or a row lock's transaction id).
    const deadline = Date.now() + 60_000;
    while (!/re-encrypted [1-9]/.test(err) || !(await probe.busy())) {
      if (exited) throw new Error(`rotate finished before the kill:\n${err}`);
      if (Date.now() > deadline) throw new Error('the rotation never started');
      await sleep(1);
    }
    child.kill('SIGKILL');
    expect(await closed).toBe(null);
    const mid = await keyCounts(store.db);
    const target = Math.max(...Object.keys(mid).map(Number));
    expect(keysBefore).not.toContain(target);
    expect(mid[target], JSON.stringify(mid)).toBeGreaterThan(0);
    expect(mid[target], JSON.stringify(mid)).toBeLessThan(before.size);
    expect(await plain()).toEqual(before);
    expect((await verifyAudit(store.db)).problems).toEqual([]);

    const again = await runCli(['keys', 'rotate', '--batch', '1000'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`rotation to data key ${target} finished: every record is under it`);
    expect(await keyCounts(store.db)).toEqual({ [target]: before.size });
    expect(await plain()).toEqual(before);
    expect(await rotationState(store.db)).toBeNull();
    expect((await verifyAudit(store.db)).problems).toEqual([]);
  }, 120_000);

  it('a partial entity import (?partial=true) keeps whole batches of 1000, reports them, and resumes by sending the file again', async () => {
    const tag = 'partial';
    const lines = Array.from({ length: 5000 }, (_, i) => ({ type: 'client', name: `${tag}-${i}` }));
    const before = await headSeq();
    const s = await session();
    const reply = post(s, '/Entities/Import?partial=true', ndjson(lines), 'application/x-ndjson');
    void reply.catch(() => {});
    // Kill after the first batch committed and while a later one is open.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error('no batch committed');
      seqBefore.set(tag, before);
      if ((await auditSince(store, 'entity.import', tag)) > 0 && (await probe.busy())) break;
      await sleep(2);
    }
    await server?.crash();
    server = await startServer(env);
    const names = await store.db.selectFrom('entities').select('name').where('name', 'like', `${tag}-%`).execute();
    expect(names.length % 1000, `${names.length} rows`).toBe(0);
    expect(names.length).toBeGreaterThan(0);
    expect(names.length).toBeLessThan(lines.length);
    // Each committed batch has its record, naming its lines: what is in is reported.
    const records = await store.db
      .selectFrom('audit_log')
      .select('details')
      .where('operation', '=', 'entity.import')
      .where('seq', '>', before)
      .execute();
    const created = records.map((r) => JSON.parse(r.details).created as number);
    expect(created.reduce((a, b) => a + b, 0)).toBe(names.length);
    // Sending the same file again imports the rest; the lines already in are refused as existing.
    const again = await ok(
      post(await session(), '/Entities/Import?partial=true', ndjson(lines), 'application/x-ndjson'),
    );
    expect(again.imported).toBe(lines.length - names.length);
    expect((again.errors as unknown[]).length).toBe(names.length);
    expect(
      await count(
        store.db
          .selectFrom('entities')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('name', 'like', `${tag}-%`)
          .executeTakeFirst(),
      ),
    ).toBe(lines.length);
    expect((await verifyAudit(store.db)).problems).toEqual([]);
  }, 120_000);

  it('bulwark audit verify passes on the store after every crash', async () => {
    await server?.stop();
    server = null;
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^audit chain intact: \d+ records/);
  }, 60_000);
});
