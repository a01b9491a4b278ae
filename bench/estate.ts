// Issue 3's estate as database rows, generated company by company and written
// straight into a migrated, bootstrapped store with batched multi-row INSERTs.
// At BENCH_COMPANIES=1000 (the default of the benches that use it):
//   1000 companies, each with
//     10 client groups and 150 clients (each in 2 of the groups), each client
//       with an agent > instance > backup set > 3 subclients: 1 060 000 entities,
//     100 users and 10 user groups (Tenant Admin, Tenant Users and 8 of its own;
//       user 0 is a Tenant Admin, every user is in one of the 8): 100 k users, 10 k groups,
//     1000 associations on random entities of the company, half to a user and
//       half to a group, with a built-in role 2–5 (Master stays the CommCell's): 1 M,
//     plus the Tenant Admin group's Tenant Admin association on the company.
// Company 1 also holds the bench tenant: user 99 ("bench"), alone in group 9
// ("bench readers"), whose only association is View on client group 0 — so
// its checks on anything under a client of that group walk up through the
// client group. No random association names that user or that group.
//
// Ids are chosen here (the bootstrap's admin and master group are 1), so the
// rows of a company never need to be read back. Memory stays bounded: one
// company's rows at a time, plus at most one batch per table.
import { type Kysely, sql } from 'kysely';
import { ENTITY_TYPES as T } from '../src/domain/catalogue.js';
import type { Store, Tx } from '../src/store/db.js';
import { rng } from '../test/rng.js';

export const CLIENT_GROUPS = 10;
export const CLIENTS = 150;
export const PER_CLIENT = 7; // client, agent, instance, backup set, 3 subclients
export const ENTITIES_PER_COMPANY = CLIENT_GROUPS + CLIENTS * PER_CLIENT;
export const USERS_PER_COMPANY = 100;
export const GROUPS_PER_COMPANY = 10;
export const ASSOCIATIONS_PER_COMPANY = 1000;

const BENCH_COMPANY = 1;
const BENCH_USER = USERS_PER_COMPANY - 1;
const BENCH_GROUP = GROUPS_PER_COMPANY - 1;

/** Where everything of company `c` (1-based) lives. */
export const ids = {
  clientGroup: (c: number, g: number) => (c - 1) * ENTITIES_PER_COMPANY + 1 + g,
  client: (c: number, j: number) => (c - 1) * ENTITIES_PER_COMPANY + 1 + CLIENT_GROUPS + j * PER_CLIENT,
  /** Subclient s (0–2) of client j. */
  subclient: (c: number, j: number, s: number) => ids.client(c, j) + 4 + s,
  user: (c: number, i: number) => 2 + (c - 1) * USERS_PER_COMPANY + i,
  group: (c: number, k: number) => 2 + (c - 1) * GROUPS_PER_COMPANY + k,
};

const CLIENT_LEVELS = [T.client, T.agent, T.instance, T.backupSet, T.subclient, T.subclient, T.subclient];
const LEVEL_NAMES = ['', 'File System', 'DefaultInstanceName', 'defaultBackupSet', 'default', 'logs', 'system state'];

/** The entity type at offset `off` (0-based) of a company's block of ids. */
function typeAt(off: number): number {
  return off < CLIENT_GROUPS ? T.clientGroup : (CLIENT_LEVELS[(off - CLIENT_GROUPS) % PER_CLIENT] as number);
}

const guid = (kind: string, id: number) =>
  `${kind}0000000-0000-4000-8000-${id.toString(16).toUpperCase().padStart(12, '0')}`;

export interface BenchTenant {
  companyId: number;
  domain: string;
  userId: number;
  userName: string;
  /** `domain\user`, as the tenant logs in. */
  loginName: string;
  groupId: number;
  clientGroupId: number;
  /** A client in the client group, and a subclient beneath it. */
  clientId: number;
  subclientId: number;
  /** A client of the same company in neither of the tenant's client groups: nothing grants on it. */
  otherClientId: number;
}

type Row = Record<string, unknown>;
export interface CompanyRows {
  companies: Row[];
  user_groups: Row[];
  users: Row[];
  user_group_members: Row[];
  entities: Row[];
  client_group_clients: Row[];
  security_associations: Row[];
}
type Table = keyof CompanyRows;

/** Insert order: every table after the ones its foreign keys name. */
const ORDER: Table[] = [
  'companies',
  'user_groups',
  'users',
  'user_group_members',
  'entities',
  'client_group_clients',
  'security_associations',
];

export function benchTenant(): BenchTenant {
  // Replays company 1's client-group draws (the generator's first) to find a
  // client in group 0 and one in neither of the groups the tenant is granted on.
  const draws = clientGroupDraws(1);
  const inGroup = draws.findIndex(([a, b]) => a === 0 || b === 0);
  const outside = draws.findIndex(([a, b]) => a !== 0 && b !== 0);
  const domain = `tenant${BENCH_COMPANY}`;
  return {
    companyId: BENCH_COMPANY,
    domain,
    userId: ids.user(BENCH_COMPANY, BENCH_USER),
    userName: 'bench',
    loginName: `${domain}\\bench`,
    groupId: ids.group(BENCH_COMPANY, BENCH_GROUP),
    clientGroupId: ids.clientGroup(BENCH_COMPANY, 0),
    clientId: ids.client(BENCH_COMPANY, inGroup),
    subclientId: ids.subclient(BENCH_COMPANY, inGroup, 0),
    otherClientId: ids.client(BENCH_COMPANY, outside),
  };
}

function clientGroupDraws(c: number): Array<[number, number]> {
  const rand = rng(42 + c);
  return Array.from({ length: CLIENTS }, () => {
    const a = rand(CLIENT_GROUPS);
    return [a, (a + 1 + rand(CLIENT_GROUPS - 1)) % CLIENT_GROUPS];
  });
}

/** Every row of company `c`, deterministically. */
export function companyRows(c: number, at: string, passwordHash: string): CompanyRows {
  const rand = rng(1_000_003 * c + 7);
  const domain = `tenant${c}`;
  const rows: CompanyRows = {
    companies: [
      { id: c, guid: guid('C', c), name: `Tenant ${c} Inc`, domain_name: domain, domain_key: domain, created_at: at },
    ],
    user_groups: [],
    users: [],
    user_group_members: [],
    entities: [],
    client_group_clients: [],
    security_associations: [],
  };
  const groupName = (k: number) =>
    k === 0
      ? 'Tenant Admin'
      : k === 1
        ? 'Tenant Users'
        : c === BENCH_COMPANY && k === BENCH_GROUP
          ? 'bench readers'
          : `group${k}`;
  for (let k = 0; k < GROUPS_PER_COMPANY; k++) {
    const id = ids.group(c, k);
    const name = groupName(k);
    rows.user_groups.push({
      id,
      company_id: c,
      guid: guid('D', id),
      name,
      name_key: name.toLowerCase(),
      description: '',
      system_kind: k === 0 ? 'tenant-admin' : k === 1 ? 'tenant-users' : null,
      created_at: at,
    });
  }
  // The company's own groups that random members and associations use: 2..9,
  // but not the bench tenant's group in company 1.
  const ownGroups = c === BENCH_COMPANY ? BENCH_GROUP - 2 : GROUPS_PER_COMPANY - 2;
  const ordinaryUsers = c === BENCH_COMPANY ? BENCH_USER : USERS_PER_COMPANY;
  for (let i = 0; i < USERS_PER_COMPANY; i++) {
    const id = ids.user(c, i);
    const name = c === BENCH_COMPANY && i === BENCH_USER ? 'bench' : `user${i}`;
    rows.users.push({
      id,
      company_id: c,
      guid: guid('E', id),
      user_name: name,
      name_key: name,
      full_name: '',
      email: '',
      password_hash: passwordHash,
      enabled: 1,
      force_password_change: 0,
      created_at: at,
      password_changed_at: at,
    });
    if (i === 0) rows.user_group_members.push({ group_id: ids.group(c, 0), user_id: id });
    const group = i < ordinaryUsers ? ids.group(c, 2 + rand(ownGroups)) : ids.group(c, BENCH_GROUP);
    rows.user_group_members.push({ group_id: group, user_id: id });
  }
  for (let g = 0; g < CLIENT_GROUPS; g++) {
    const name = `cg-${c}-${g}`;
    rows.entities.push({
      id: ids.clientGroup(c, g),
      type: T.clientGroup,
      company_id: c,
      parent_id: null,
      parent_key: 0,
      name,
      name_key: name,
      created_at: at,
    });
  }
  const draws = clientGroupDraws(c);
  for (let j = 0; j < CLIENTS; j++) {
    const client = ids.client(c, j);
    for (let level = 0; level < PER_CLIENT; level++) {
      const id = client + level;
      const parent = level === 0 ? null : level <= 4 ? id - 1 : client + 3;
      const name = level === 0 ? `client-${c}-${j}` : (LEVEL_NAMES[level] as string);
      rows.entities.push({
        id,
        type: CLIENT_LEVELS[level],
        company_id: c,
        parent_id: parent,
        parent_key: parent ?? 0,
        name,
        name_key: name.toLowerCase(),
        created_at: at,
      });
    }
    for (const g of draws[j] as [number, number]) {
      rows.client_group_clients.push({ group_id: ids.clientGroup(c, g), client_id: client });
    }
  }
  const taken = new Set<string>();
  while (rows.security_associations.length < ASSOCIATIONS_PER_COMPANY) {
    const off = rand(ENTITIES_PER_COMPANY);
    const asGroup = rand(2) === 0;
    const principal = asGroup ? ids.group(c, 2 + rand(ownGroups)) : ids.user(c, rand(ordinaryUsers));
    const role = 2 + rand(4);
    const key = `${off}:${asGroup ? 'g' : 'u'}:${principal}:${role}`;
    if (taken.has(key)) continue;
    taken.add(key);
    rows.security_associations.push({
      entity_type: typeAt(off),
      entity_id: (c - 1) * ENTITIES_PER_COMPANY + 1 + off,
      principal_kind: asGroup ? 'group' : 'user',
      principal_id: principal,
      role_id: role,
      company_id: c,
      created_at: at,
    });
  }
  // What POST Organization grants: Tenant Admin on the company to its Tenant Admin group.
  rows.security_associations.push({
    entity_type: T.company,
    entity_id: c,
    principal_kind: 'group',
    principal_id: ids.group(c, 0),
    role_id: 2,
    company_id: c,
    created_at: at,
  });
  if (c === BENCH_COMPANY) {
    const t = benchTenant();
    rows.security_associations.push({
      entity_type: T.clientGroup,
      entity_id: t.clientGroupId,
      principal_kind: 'group',
      principal_id: t.groupId,
      role_id: 5,
      company_id: c,
      created_at: at,
    });
  }
  return rows;
}

export interface LoadOptions {
  companies: number;
  /** One argon2 hash, given to every generated user. */
  passwordHash: string;
  /** Rows per INSERT at most (within the dialect's bound-parameter limit whatever this says). */
  rowsPerInsert?: number;
  /** Companies per transaction. */
  companiesPerTransaction?: number;
  onProgress?: (companiesDone: number) => void;
}

/**
 * Writes the estate into `store`, which must be migrated and bootstrapped and
 * hold nothing else; returns the milliseconds spent inserting into each table.
 * Batches stay under each dialect's bound-parameter limit (SQLite 32 766,
 * PostgreSQL 65 535). Meant for a database no server has open yet: a server
 * started afterwards builds its permission view from all of it.
 */
export async function loadEstate(store: Store, opts: LoadOptions): Promise<Record<Table, number>> {
  const spent = Object.fromEntries(ORDER.map((t) => [t, 0])) as Record<Table, number>;
  const params = store.dialect === 'sqlite' ? 32_766 : 65_535;
  const cap = opts.rowsPerInsert ?? Number.POSITIVE_INFINITY;
  /** Rows of `width` columns one INSERT may carry. */
  const batch = (width: number) => Math.max(1, Math.min(cap, Math.floor(params / width)));
  const per = opts.companiesPerTransaction ?? 100;
  const at = new Date().toISOString();
  for (let first = 1; first <= opts.companies; first += per) {
    const last = Math.min(opts.companies, first + per - 1);
    await store.db.transaction().execute(async (tx) => {
      const buffers = new Map<Table, Row[]>(ORDER.map((t) => [t, []]));
      const flush = async (upTo: Table) => {
        // A table's rows go in only after those of every table before it.
        for (const t of ORDER.slice(0, ORDER.indexOf(upTo) + 1)) {
          const rows = buffers.get(t) as Row[];
          if (rows.length === 0) continue;
          buffers.set(t, []);
          const t0 = performance.now();
          await insertRows(tx, t, rows, batch(Object.keys(rows[0] as Row).length));
          spent[t] += performance.now() - t0;
        }
      };
      for (let c = first; c <= last; c++) {
        const rows = companyRows(c, at, opts.passwordHash);
        for (const t of ORDER) {
          const buffer = buffers.get(t) as Row[];
          for (const r of rows[t]) buffer.push(r);
          const width = Object.keys(rows[t][0] ?? { x: 0 }).length;
          if (buffer.length >= batch(width)) await flush(t);
        }
      }
      await flush(ORDER[ORDER.length - 1] as Table);
    });
    opts.onProgress?.(last);
  }
  await store.db.transaction().execute(async (tx) => {
    if (store.dialect === 'postgres') {
      // Explicit ids do not advance the sequences.
      for (const t of ['companies', 'user_groups', 'users', 'entities']) {
        await sql`select setval(pg_get_serial_sequence(${t}, 'id'), (select max(id) from ${sql.table(t)}))`.execute(tx);
      }
    }
    await tx.updateTable('authz_version').set({ version: sql`version + 1` }).where('id', '=', 1).execute();
  });
  if (store.dialect === 'postgres') await sql`analyze`.execute(store.db);
  else await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
  return spent;
}

async function insertRows(tx: Tx, table: Table, rows: Row[], size: number): Promise<void> {
  const db = tx as unknown as Kysely<any>;
  for (let k = 0; k < rows.length; k += size) {
    await db
      .insertInto(table)
      .values(rows.slice(k, k + size))
      .execute();
  }
}

/** Row counts of the estate's tables. */
export async function countRows(store: Store): Promise<Record<Table, number>> {
  const out = {} as Record<Table, number>;
  for (const t of ORDER) {
    const r = await (store.db as unknown as Kysely<any>)
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}
