import { type AuditActor, appendAudit } from '../audit/log.js';
import { ENTITY_TYPES } from '../domain/catalogue.js';
import { type AccountKind, entityAccountIdentity, userKey } from '../domain/credentials.js';
import { decodeAccountPassword } from '../domain/entity-accounts.js';
import { checkName } from '../domain/names.js';
import { bumpAuthzVersion } from '../store/authz.js';
import type { Dialect, Store, Tx } from '../store/db.js';
import { nameKey } from '../store/directory.js';
import {
  checkEntityName,
  chunks,
  companyIdByDomainKey,
  ENTITY_KINDS,
  type EntityInsertRow,
  type EntityKind,
  entityIdHighWater,
  entityIdsNamed,
  entityNamesUnder,
  hasEntityOfType,
  insertEntityAttributes,
  insertEntityRows,
  insertGroupMembers,
  isConstraintViolation,
  kindOfType,
  MAX_NAME,
  nextEntityIds,
  PARENT_KIND,
  parseKind,
} from '../store/entities.js';
import type { Vault } from '../store/vault.js';

// The bulk entity importer (POST Entities/Import, `bulwark import`, POST
// Entities): each line's shape checked here, its names resolved against the
// entity table through src/store/entities.ts, rows written in batches.

/** Kinds other entities name (as parent or client group): the importer remembers them. */
const REFERENCED: ReadonlySet<EntityKind> = new Set(['clientGroup', 'client', 'agent', 'instance', 'backupSet']);

const LABEL: Record<EntityKind, string> = {
  clientGroup: 'client group',
  client: 'client',
  agent: 'agent',
  instance: 'instance',
  backupSet: 'backup set',
  subclient: 'subclient',
  plan: 'plan',
  storagePolicy: 'storage policy',
  schedulePolicy: 'schedule policy',
  alert: 'alert',
  workflow: 'workflow',
};
const label = (k: EntityKind) => LABEL[k];
const aLabel = (k: EntityKind) => `${/^[aeiou]/.test(LABEL[k]) ? 'an' : 'a'} ${LABEL[k]}`;

/** One line as parsed: `{"type","name","company","parent":{"type","name","parent"?},"clientGroups"}`. */
export interface EntitySpec {
  kind: EntityKind;
  name: string;
  /** Domain name of the owning company; null = the importer's default company. */
  company: string | null;
  parent: ParentRef | null;
  clientGroups: string[];
  /** An agent's application id (29 Linux File System, 33 Windows File System); null: by its name. */
  appId: number | null;
  /** A client's operating system; null: not said. */
  os: ClientOs | null;
  /**
   * The entity's service account (`"account":{"userName","password"}`, the
   * password base64 as JSON carries secrets here): a client's or an
   * instance's impersonation user, a subclient's UNC-path user.
   */
  account: { userName: string; password: string } | null;
}

/** Which stored account an import line's `account` is, by the kind of entity. */
const ACCOUNT_OF: Partial<Record<EntityKind, AccountKind>> = {
  client: 'clientImpersonation',
  instance: 'instanceImpersonation',
  subclient: 'subclientUnc',
};

export const CLIENT_OSES = ['Windows', 'Linux'] as const;
export type ClientOs = (typeof CLIENT_OSES)[number];

/** A parent by type and name, and optionally its own parent when the name alone is ambiguous. */
export interface ParentRef {
  kind: EntityKind;
  name: string;
  parent: ParentRef | null;
}

export type LineErrorKind = 'invalid' | 'not-found' | 'exists' | 'forbidden';

export interface ImportLineError {
  line: number;
  message: string;
  /** What went wrong, for callers that map it to their own error codes. */
  kind: LineErrorKind;
}

export interface ImportResult {
  line: number;
  entityType: number;
  entityId: number;
  companyId: number;
  parentId: number | null;
  name: string;
}

/** What the caller may do in a company: create there, only know it exists, or not even that. */
export type CompanyAccess = 'write' | 'read-only' | 'hidden';

export interface ImportOptions {
  /** Commit the good lines and report the bad ones; otherwise any bad line aborts everything. */
  partial: boolean;
  actor: AuditActor;
  sourceAddr?: string;
  clock: () => Date;
  /** The owner of lines without "company". */
  defaultCompanyId: number;
  access(companyId: number): CompanyAccess;
  /** Each created entity, in line order per batch. Final only if the summary says committed. */
  onResult?(r: ImportResult): void;
  /** Each bad line (not necessarily in line order: duplicates of leaf kinds are found at insert time). */
  onError?(e: ImportLineError): void;
  onProgress?(p: { lines: number; imported: number; errors: number }): void;
  /** Lines between progress reports (10 000). */
  progressEvery?: number;
  /** Rows per INSERT (1000); in partial mode also rows per transaction. */
  batchSize?: number;
  /** Recorded in the audit details (e.g. the file name). */
  source?: string;
  /** Seals the passwords of lines with an `account`; without it such lines are refused. */
  vault?: Vault;
}

export interface ImportSummary {
  lines: number;
  imported: number;
  errors: number;
  committed: boolean;
}

/** Another writer created one of our names between our check and our insert; nothing of that batch is kept. */
export class ImportConflictError extends Error {}

class Rollback extends Error {}

const MAX_LINE = 64 * 1024;
const MAX_GROUPS = 1000;
const MAX_DEPTH = 5;

/** A type as a name (any case) or the product's number. */
function kindOf(v: unknown): EntityKind | undefined {
  if (typeof v === 'string') return parseKind(v);
  if (typeof v === 'number') return kindOfType(v);
  return undefined;
}

/** A value from the input, quoted in a message: never more than a short excerpt. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function parseRef(v: unknown, depth: number, field: string): Parsed<ParentRef> {
  if (depth > MAX_DEPTH) return { ok: false, message: `${field} is nested too deep` };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { ok: false, message: `${field} must be an object {"type","name"}` };
  }
  const o = v as Record<string, unknown>;
  if (o.type === undefined || o.type === null || o.type === '') {
    return { ok: false, message: `${field}.type is missing` };
  }
  const kind = kindOf(o.type);
  if (!kind) return { ok: false, message: `${field}.type ${shown(o.type)} is not an entity type` };
  if (o.name === undefined || o.name === null) return { ok: false, message: `${field}.name is missing` };
  const checked = checkEntityName(o.name);
  if (!checked.ok) return { ok: false, message: `${field}.name ${checked.problem}` };
  const name = checked.value;
  let parent: ParentRef | null = null;
  if (o.parent !== undefined && o.parent !== null) {
    const p = parseRef(o.parent, depth + 1, `${field}.parent`);
    if (!p.ok) return p;
    parent = p.value;
  }
  return { ok: true, value: { kind, name, parent } };
}

/** Checks the shape of one line's object; names and companies are resolved later. */
export function parseEntitySpec(v: unknown): Parsed<EntitySpec> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { ok: false, message: 'each line must be a JSON object' };
  }
  const o = v as Record<string, unknown>;
  if (o.type === undefined || o.type === null || o.type === '') return { ok: false, message: 'type is missing' };
  const kind = kindOf(o.type);
  if (!kind) {
    return { ok: false, message: `unknown type ${shown(o.type)}; one of ${ENTITY_KINDS.join(', ')}` };
  }
  if (o.name === undefined || o.name === null || o.name === '') return { ok: false, message: 'name is missing' };
  const checked = checkEntityName(o.name);
  if (!checked.ok) return { ok: false, message: `name ${checked.problem}` };
  const name = checked.value;
  let company: string | null = null;
  if (o.company !== undefined && o.company !== null) {
    if (typeof o.company !== 'string' || o.company.trim() === '' || o.company.length > MAX_NAME) {
      return { ok: false, message: "company must be the company's domain name" };
    }
    company = o.company.trim();
  }
  let parent: ParentRef | null = null;
  if (o.parent !== undefined && o.parent !== null) {
    const p = parseRef(o.parent, 1, 'parent');
    if (!p.ok) return p;
    parent = p.value;
  }
  const clientGroups: string[] = [];
  if (o.clientGroups !== undefined && o.clientGroups !== null) {
    if (!Array.isArray(o.clientGroups) || o.clientGroups.length > MAX_GROUPS) {
      return { ok: false, message: `clientGroups must be a list of at most ${MAX_GROUPS} client group names` };
    }
    for (const [i, g] of o.clientGroups.entries()) {
      const n = checkEntityName(g);
      if (!n.ok) return { ok: false, message: `clientGroups[${i}] ${n.problem}` };
      clientGroups.push(n.value);
    }
  }
  let appId: number | null = null;
  if (o.appId !== undefined && o.appId !== null) {
    if (kind !== 'agent') return { ok: false, message: 'only an agent has an appId' };
    if (typeof o.appId !== 'number' || !Number.isInteger(o.appId) || o.appId < 1 || o.appId > 100_000) {
      return { ok: false, message: "appId must be the product's application id (29 Linux, 33 Windows File System)" };
    }
    appId = o.appId;
  }
  let os: ClientOs | null = null;
  if (o.os !== undefined && o.os !== null) {
    if (kind !== 'client') return { ok: false, message: 'only a client has an os' };
    os = CLIENT_OSES.find((x) => typeof o.os === 'string' && x.toLowerCase() === o.os.trim().toLowerCase()) ?? null;
    if (!os) return { ok: false, message: `os must be one of ${CLIENT_OSES.join(', ')}` };
  }
  let account: EntitySpec['account'] = null;
  if (o.account !== undefined && o.account !== null) {
    if (!ACCOUNT_OF[kind]) return { ok: false, message: 'only a client, an instance or a subclient has an account' };
    if (typeof o.account !== 'object' || Array.isArray(o.account)) {
      return { ok: false, message: 'account must be an object {"userName","password"}' };
    }
    const a = o.account as Record<string, unknown>;
    const user = checkName(a.userName, 256);
    if (!user.ok) return { ok: false, message: `account.userName ${user.problem}` };
    const password = decodeAccountPassword(a.password);
    if (!password.ok) return { ok: false, message: `account.password ${password.problem}` };
    account = { userName: user.value, password: password.value };
  }
  return { ok: true, value: { kind, name, company, parent, clientGroups, appId, os, account } };
}

interface PendingRow extends EntityInsertRow {
  line: number;
}

interface PendingAccount {
  entity_id: number;
  kind: AccountKind;
  company_id: number;
  userName: string;
  password: string;
}

/** A resolution that failed, as the line's error. */
class LineFailure {
  constructor(
    readonly kind: LineErrorKind,
    readonly message: string,
  ) {}
}

const fail = (kind: LineErrorKind, message: string) => new LineFailure(kind, message);

/** Bare names of nested kinds: +id (one in this import, not yet checked against older rows), -id (checked), 0 (several). */
const AMBIGUOUS = 0;

/**
 * Streams lines into the entity table. Each accepted line gets its id at
 * once (PostgreSQL: reserved from the sequence in blocks; SQLite: counted on
 * from the highest id, under the write lock the transaction holds), so a
 * child can name a parent that is still waiting in the batch, and rows go in
 * with one INSERT per `batchSize`. Names are resolved in memory: the kinds
 * that others name (client groups, clients, agents, instances, backup sets)
 * are remembered per import; rows that existed before are read once per
 * (company, type, parent) scope, and only when the company had any of that
 * type when the import began. Leaf kinds are not remembered: a duplicate
 * leaf is refused by the unique index at insert time (ON CONFLICT DO NOTHING).
 */
export class EntityImporter {
  private tx: Tx | null = null;
  private nextSqliteId = 0;
  private idPool: number[] = [];
  private idBlock = 1;
  private readonly companies = new Map<string, number | null>();
  private readonly populated = new Map<string, boolean>();
  private readonly loadedScopes = new Set<string>();
  /** `${company}/${type}/${parentKey}/${nameKey}` → id, for the referenced kinds. */
  private readonly known = new Map<string, number>();
  /** `${company}/${type}/${nameKey}` → see AMBIGUOUS, for agents, instances and backup sets. */
  private readonly byName = new Map<string, number>();
  /** Ids of referenced kinds created by this import: nothing older can sit beneath them. */
  private readonly fresh = new Set<number>();
  private pending: PendingRow[] = [];
  private pendingMembers: Array<{ group_id: number; client_id: number }> = [];
  private pendingAttrs: Array<{ entity_id: number; app_id: number | null; os: string | null }> = [];
  private pendingAccounts: PendingAccount[] = [];
  /** Accounts stored in the current transaction (for its audit record; never their passwords). */
  private txAccounts = 0;
  /** The INSERTs of the batch being written. */
  private inflight: Promise<void> = Promise.resolve();
  /** Created in the current transaction: company → type → count, and the line range. */
  private txCreated = new Map<number, Map<number, number>>();
  private txLines: [number, number] | null = null;
  errors = 0;
  imported = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly opts: ImportOptions,
  ) {}

  get pendingRows(): number {
    return this.pending.length;
  }

  /** Starts (or continues in) a transaction. */
  async begin(tx: Tx): Promise<void> {
    this.tx = tx;
    this.txCreated = new Map();
    this.txAccounts = 0;
    this.txLines = null;
    if (this.dialect === 'sqlite') {
      // The transaction began immediate: no other writer runs until it ends.
      this.nextSqliteId = await entityIdHighWater(tx);
    }
  }

  private get db(): Tx {
    if (!this.tx) throw new Error('EntityImporter used outside a transaction');
    return this.tx;
  }

  private error(line: number, kind: LineErrorKind, message: string): void {
    this.errors++;
    this.opts.onError?.({ line, kind, message });
  }

  /** One line of text: blank lines are skipped, anything else must be one JSON object. */
  async acceptText(text: string, line: number): Promise<void> {
    const trimmed = text.trim();
    if (trimmed === '') return;
    if (trimmed.length > MAX_LINE) return this.error(line, 'invalid', `the line is longer than ${MAX_LINE} characters`);
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      return this.error(line, 'invalid', 'the line is not valid JSON');
    }
    await this.acceptValue(value, line);
  }

  /** One entity as an object; returns the new id, or null when the line was refused. */
  async acceptValue(value: unknown, line: number): Promise<number | null> {
    const parsed = parseEntitySpec(value);
    if (!parsed.ok) {
      this.error(line, 'invalid', parsed.message);
      return null;
    }
    const r = await this.accept(parsed.value, line);
    if (r instanceof LineFailure) {
      this.error(line, r.kind, r.message);
      return null;
    }
    return r;
  }

  private async accept(spec: EntitySpec, line: number): Promise<number | LineFailure> {
    const companyId = await this.company(spec.company);
    if (companyId instanceof LineFailure) return companyId;
    const { kind } = spec;
    const type = ENTITY_TYPES[kind];
    const expected = PARENT_KIND[kind];
    let parentId: number | null = null;
    if (expected === null) {
      if (spec.parent) return fail('invalid', `${aLabel(kind)} has no parent`);
    } else {
      if (!spec.parent) return fail('invalid', `${aLabel(kind)} needs a parent: its ${label(expected)}`);
      if (spec.parent.kind !== expected) {
        return fail(
          'invalid',
          `wrong parent type ${spec.parent.kind}: the parent of ${aLabel(kind)} is ${aLabel(expected)}`,
        );
      }
      const p = await this.resolve(companyId, spec.parent);
      if (p instanceof LineFailure) return p;
      parentId = p;
    }
    if (spec.clientGroups.length > 0 && kind !== 'client') return fail('invalid', 'only a client has clientGroups');
    if (spec.account && !this.opts.vault) {
      return fail('invalid', 'accounts cannot be imported here: no master key is configured');
    }
    const parentKey = parentId ?? 0;
    const key = nameKey(spec.name);
    const scope = `${companyId}/${type}/${parentKey}`;
    if (REFERENCED.has(kind)) {
      await this.ensureScope(companyId, kind, parentKey);
      if (this.known.has(`${scope}/${key}`)) return this.duplicate(kind, spec.name, parentId);
    }
    const groups = new Set<number>();
    for (const g of spec.clientGroups) {
      await this.ensureScope(companyId, 'clientGroup', 0);
      const id = this.known.get(`${companyId}/${ENTITY_TYPES.clientGroup}/0/${nameKey(g)}`);
      if (id === undefined) return fail('not-found', `unknown client group "${g}"`);
      groups.add(id);
    }

    const id = await this.allocateId();
    this.pending.push({
      line,
      id,
      type,
      company_id: companyId,
      parent_id: parentId,
      parent_key: parentKey,
      name: spec.name,
      name_key: key,
      created_at: this.opts.clock().toISOString(),
    });
    if (REFERENCED.has(kind)) {
      this.known.set(`${scope}/${key}`, id);
      this.fresh.add(id);
      if (expected !== null) {
        const bn = `${companyId}/${type}/${key}`;
        this.byName.set(bn, this.byName.has(bn) ? AMBIGUOUS : id);
      }
    }
    for (const g of groups) this.pendingMembers.push({ group_id: g, client_id: id });
    if (spec.appId !== null || spec.os !== null)
      this.pendingAttrs.push({ entity_id: id, app_id: spec.appId, os: spec.os });
    if (spec.account) {
      this.pendingAccounts.push({
        entity_id: id,
        kind: ACCOUNT_OF[kind] as AccountKind,
        company_id: companyId,
        ...spec.account,
      });
    }
    return id;
  }

  private duplicate(kind: EntityKind, name: string, parentId: number | null): LineFailure {
    return fail(
      'exists',
      parentId === null
        ? `${aLabel(kind)} named "${name}" already exists in this company`
        : `${aLabel(kind)} named "${name}" already exists under its ${label(PARENT_KIND[kind] as EntityKind)}`,
    );
  }

  private async company(domain: string | null): Promise<number | LineFailure> {
    let id: number | null = this.opts.defaultCompanyId;
    if (domain !== null) {
      const key = nameKey(domain);
      if (!this.companies.has(key)) {
        this.companies.set(key, (await companyIdByDomainKey(this.db, key)) ?? null);
      }
      id = this.companies.get(key) ?? null;
    }
    const access = id === null ? 'hidden' : this.opts.access(id);
    // Another tenant's company looks exactly like one that does not exist.
    if (id === null || access === 'hidden') return fail('not-found', `unknown company "${domain}"`);
    if (access === 'read-only') {
      return fail(
        'forbidden',
        id === 0
          ? 'you may not create entities in the CommCell'
          : `you may not create entities in ${domain === null ? 'your company' : `company "${domain}"`}`,
      );
    }
    return id;
  }

  /** Whether the company had any entity of this kind when this import first looked (before adding any). */
  private async isPopulated(companyId: number, kind: EntityKind): Promise<boolean> {
    const k = `${companyId}/${ENTITY_TYPES[kind]}`;
    let v = this.populated.get(k);
    if (v === undefined) {
      v = await hasEntityOfType(this.db, companyId, ENTITY_TYPES[kind]);
      this.populated.set(k, v);
    }
    return v;
  }

  /** Loads the names already stored under one parent (or at the top of a company), once. */
  private async ensureScope(companyId: number, kind: EntityKind, parentKey: number): Promise<void> {
    if (!(await this.isPopulated(companyId, kind))) return;
    if (parentKey !== 0 && this.fresh.has(parentKey)) return;
    const type = ENTITY_TYPES[kind];
    const scope = `${companyId}/${type}/${parentKey}`;
    if (this.loadedScopes.has(scope)) return;
    const rows = await entityNamesUnder(this.db, companyId, type, parentKey);
    for (const r of rows) this.known.set(`${scope}/${r.name_key}`, r.id);
    this.loadedScopes.add(scope);
  }

  private async resolve(companyId: number, ref: ParentRef): Promise<number | LineFailure> {
    const { kind } = ref;
    const type = ENTITY_TYPES[kind];
    const key = nameKey(ref.name);
    const expected = PARENT_KIND[kind];
    const what = `${label(kind)} "${ref.name}"`;
    if (!REFERENCED.has(kind) || kind === 'clientGroup') return fail('invalid', `${aLabel(kind)} cannot be a parent`);
    if (ref.parent) {
      if (expected === null) return fail('invalid', `${aLabel(kind)} has no parent`);
      if (ref.parent.kind !== expected) {
        return fail(
          'invalid',
          `wrong parent type ${ref.parent.kind}: the parent of ${aLabel(kind)} is ${aLabel(expected)}`,
        );
      }
      const pid = await this.resolve(companyId, ref.parent);
      if (pid instanceof LineFailure) return pid;
      await this.ensureScope(companyId, kind, pid);
      return this.known.get(`${companyId}/${type}/${pid}/${key}`) ?? fail('not-found', `unknown parent ${what}`);
    }
    if (expected === null) {
      await this.ensureScope(companyId, kind, 0);
      return this.known.get(`${companyId}/${type}/0/${key}`) ?? fail('not-found', `unknown parent ${what}`);
    }
    // A nested kind by its name alone: it must be the only one of that name in the company.
    const bn = `${companyId}/${type}/${key}`;
    const seen = this.byName.get(bn);
    const ambiguous = fail(
      'invalid',
      `parent ${what} is ambiguous: there are several in this company; name its ${label(expected)} too ("parent":{"type":"${kind}","name":…,"parent":{"type":"${expected}","name":…}})`,
    );
    if (seen === AMBIGUOUS) return ambiguous;
    if (seen !== undefined && seen < 0) return -seen;
    if (!(await this.isPopulated(companyId, kind))) return seen ?? fail('not-found', `unknown parent ${what}`);
    // Older rows of this kind exist: ask the table (it holds this import's flushed rows too).
    const ids = await entityIdsNamed(this.db, companyId, type, key, 2);
    const others = ids.filter((id) => id !== seen);
    if (seen === undefined && others.length === 0) return fail('not-found', `unknown parent ${what}`);
    if ((seen === undefined ? others.length : others.length + 1) > 1) {
      this.byName.set(bn, AMBIGUOUS);
      return ambiguous;
    }
    const id = seen ?? (others[0] as number);
    this.byName.set(bn, -id);
    return id;
  }

  private async allocateId(): Promise<number> {
    if (this.dialect === 'sqlite') return ++this.nextSqliteId;
    if (this.idPool.length === 0) {
      // Blocks grow 1, 2, 4 … up to the batch size: a single create reserves one id.
      const n = this.idBlock;
      this.idBlock = Math.min(this.idBlock * 2, this.opts.batchSize ?? 1000);
      await this.reserveIds(n);
    }
    return this.idPool.pop() as number;
  }

  /** Adds `n` ids from the sequence to the pool (sequences are outside transactions: unused ids leave gaps). */
  private async reserveIds(n: number): Promise<void> {
    const ids = await nextEntityIds(this.db, n);
    // The pool is used from its end: keep it in descending order.
    this.idPool = [...ids, ...this.idPool].sort((a, b) => b - a);
  }

  /**
   * Starts inserting the waiting rows and memberships, after the previous
   * batch's INSERTs are done. On PostgreSQL the next lines are read and
   * checked while this batch is written (the transaction's connection runs
   * its queries in order, so later reads see these rows); `drain()` waits.
   * Each row's result, or its duplicate, is reported when its INSERT returns.
   */
  async flush(): Promise<void> {
    await this.inflight;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    const members = this.pendingMembers;
    const attrs = this.pendingAttrs;
    const accounts = this.pendingAccounts;
    this.pending = [];
    this.pendingMembers = [];
    this.pendingAttrs = [];
    this.pendingAccounts = [];
    const batch = this.opts.batchSize ?? 1000;
    if (this.dialect === 'postgres' && rows.length >= batch && this.idPool.length < batch) {
      // More lines are likely: reserve their ids now, not behind this batch's INSERT.
      await this.reserveIds(batch);
    }
    this.inflight = this.write(rows, members, attrs, accounts);
    // A failure surfaces at the next flush() or drain(), never as an unhandled rejection.
    this.inflight.catch(() => {});
  }

  /** Flushes and waits until every row is in. */
  async drain(): Promise<void> {
    await this.flush();
    await this.inflight;
  }

  /** The error of the batch being written, if it failed (it explains any error after it). */
  async failure(): Promise<unknown> {
    return this.inflight.then(
      () => null,
      (e: unknown) => e,
    );
  }

  private async write(
    rows: PendingRow[],
    members: Array<{ group_id: number; client_id: number }>,
    attrs: Array<{ entity_id: number; app_id: number | null; os: string | null }> = [],
    accounts: PendingAccount[] = [],
  ): Promise<void> {
    const written = new Set<number>();
    const batch = this.opts.batchSize ?? 1000;
    for (const chunk of chunks(rows, batch)) {
      let inserted: Array<{ id: number }>;
      try {
        inserted = await insertEntityRows(this.db, this.dialect, chunk);
      } catch (e) {
        // A parent deleted, or a parent's name taken, by a concurrent change.
        if (isConstraintViolation(e)) {
          throw new ImportConflictError(
            `lines ${chunk[0]?.line}-${chunk.at(-1)?.line} conflict with a concurrent change to the entities`,
          );
        }
        throw e;
      }
      const ids = new Set(inserted.map((r) => r.id));
      for (const row of chunk) {
        const kind = kindOfType(row.type) as EntityKind;
        if (!ids.has(row.id)) {
          // Checked before: only a concurrent writer could have taken a referenced name.
          if (REFERENCED.has(kind)) {
            throw new ImportConflictError(
              `line ${row.line}: ${aLabel(kind)} named "${row.name}" was created by another change during the import`,
            );
          }
          const e = this.duplicate(kind, row.name, row.parent_id);
          this.error(row.line, e.kind, e.message);
          continue;
        }
        this.imported++;
        written.add(row.id);
        const perType = this.txCreated.get(row.company_id) ?? new Map<number, number>();
        perType.set(row.type, (perType.get(row.type) ?? 0) + 1);
        this.txCreated.set(row.company_id, perType);
        this.txLines = this.txLines ? [this.txLines[0], row.line] : [row.line, row.line];
        this.opts.onResult?.({
          line: row.line,
          entityType: row.type,
          entityId: row.id,
          companyId: row.company_id,
          parentId: row.parent_id,
          name: row.name,
        });
      }
    }
    // An agent's application id and a client's OS, for the rows that went in.
    for (const chunk of chunks(
      attrs.filter((a) => written.has(a.entity_id)),
      batch,
    )) {
      await insertEntityAttributes(this.db, chunk);
    }
    for (const chunk of chunks(members, batch)) await insertGroupMembers(this.db, this.dialect, chunk);
    // Service accounts, each password sealed to its entity and kind, for the rows that went in.
    const taken = accounts.filter((a) => written.has(a.entity_id));
    if (taken.length > 0) {
      const seal = await (this.opts.vault as Vault).sealer(this.db);
      const at = this.opts.clock().toISOString();
      for (const chunk of chunks(taken, batch)) {
        await this.db
          .insertInto('entity_accounts')
          .values(
            chunk.map((a) => {
              const s = seal(entityAccountIdentity(a.entity_id, a.kind), a.password);
              return {
                entity_id: a.entity_id,
                kind: a.kind,
                company_id: a.company_id,
                user_name: a.userName,
                user_key: userKey(a.userName),
                key_id: s.keyId,
                secret: s.secret,
                updated_at: at,
              };
            }),
          )
          .execute();
      }
      this.txAccounts += taken.length;
    }
  }

  /** Whether the current transaction created anything. */
  get changed(): boolean {
    return this.txCreated.size > 0;
  }

  /** One audit record per company touched in this transaction, and the authz version bump. */
  async audit(operation: string, extra: Record<string, unknown> = {}): Promise<void> {
    if (!this.changed) return;
    await bumpAuthzVersion(this.db, this.txCreated.keys());
    const lines = this.txLines ? `${this.txLines[0]}-${this.txLines[1]}` : '';
    for (const [companyId, perType] of [...this.txCreated].sort((a, b) => a[0] - b[0])) {
      const byType: Record<string, number> = {};
      let created = 0;
      for (const [type, n] of perType) {
        byType[kindOfType(type) as string] = n;
        created += n;
      }
      await appendAudit(this.db, {
        actor: this.opts.actor,
        companyId,
        operation,
        targetType: 'entities',
        targetName: `${created} entities`,
        outcome: 'success',
        details: {
          created,
          byType,
          lines,
          partial: this.opts.partial,
          ...(this.txAccounts > 0 ? { accounts: this.txAccounts } : {}),
          ...extra,
        },
        sourceAddr: this.opts.sourceAddr,
        at: this.opts.clock(),
      });
    }
  }
}

/**
 * Runs `work` in a transaction; when it fails, it waits for the batch being
 * written and reports that batch's error first (a failed INSERT is what
 * makes PostgreSQL refuse the queries after it).
 */
async function inTransaction(store: Store, work: (tx: Tx) => Promise<void>, imp: EntityImporter): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    try {
      await work(tx);
    } catch (e) {
      const first = await imp.failure();
      throw first ?? e;
    }
  });
}

/**
 * Imports JSON lines. The whole import is one transaction unless
 * `opts.partial`; then every `batchSize` rows commit on their own (with
 * their audit records), so good lines stay and other writers get turns.
 * Results and errors are handed out as they happen, not collected.
 */
export async function importEntities(
  store: Store,
  source: AsyncIterable<string> | Iterable<string>,
  opts: ImportOptions,
): Promise<ImportSummary> {
  const iterator: AsyncIterator<string> | Iterator<string> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const batch = opts.batchSize ?? 1000;
  const every = opts.progressEvery ?? 10_000;
  const imp = new EntityImporter(store.dialect, opts);
  const extra = opts.source ? { source: opts.source } : {};
  let lines = 0;
  let eof = false;
  let committed = true;

  const read = async (): Promise<boolean> => {
    const next = await iterator.next();
    if (next.done) return false;
    lines++;
    await imp.acceptText(next.value, lines);
    if (lines % every === 0) opts.onProgress?.({ lines, imported: imp.imported, errors: imp.errors });
    return true;
  };

  if (opts.partial) {
    while (!eof) {
      await inTransaction(
        store,
        async (tx) => {
          await imp.begin(tx);
          while (imp.pendingRows < batch) {
            if (!(await read())) {
              eof = true;
              break;
            }
          }
          await imp.drain();
          await imp.audit('entity.import', extra);
        },
        imp,
      );
    }
  } else {
    try {
      await inTransaction(
        store,
        async (tx) => {
          await imp.begin(tx);
          while (await read()) {
            if (imp.pendingRows >= batch) await imp.flush();
          }
          await imp.drain();
          if (imp.errors > 0) throw new Rollback();
          await imp.audit('entity.import', extra);
        },
        imp,
      );
    } catch (e) {
      if (!(e instanceof Rollback)) throw e;
      committed = false;
    }
    if (!committed) {
      await store.db.transaction().execute((tx) =>
        appendAudit(tx, {
          actor: opts.actor,
          companyId: opts.defaultCompanyId,
          operation: 'entity.import',
          targetType: 'entities',
          outcome: 'failure',
          reason: `${imp.errors} bad line(s); nothing was imported`,
          details: { lines, errors: imp.errors, partial: false, ...extra },
          sourceAddr: opts.sourceAddr,
          at: opts.clock(),
        }),
      );
    }
  }
  if (lines % every !== 0) opts.onProgress?.({ lines, imported: imp.imported, errors: imp.errors });
  return { lines, imported: committed ? imp.imported : 0, errors: imp.errors, committed };
}

/**
 * Creates one entity from an import-shaped object inside the caller's
 * transaction (POST Entities), with the importer's checks. The caller
 * audits and bumps the authz version.
 */
export async function createEntityFromSpec(
  tx: Tx,
  dialect: Dialect,
  value: unknown,
  opts: Pick<ImportOptions, 'actor' | 'clock' | 'defaultCompanyId' | 'access' | 'vault'>,
): Promise<{ ok: true; result: ImportResult } | { ok: false; error: ImportLineError }> {
  let result: ImportResult | undefined;
  let error: ImportLineError | undefined;
  const imp = new EntityImporter(dialect, {
    ...opts,
    partial: false,
    onResult: (r) => {
      result = r;
    },
    onError: (e) => {
      error ??= e;
    },
  });
  await imp.begin(tx);
  await imp.acceptValue(value, 1);
  await imp.drain();
  if (result) return { ok: true, result };
  return { ok: false, error: error ?? { line: 1, kind: 'invalid', message: 'the entity was not created' } };
}
