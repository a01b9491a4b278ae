import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { AuthzView } from '../../domain/authz.js';
import { DATABASE_TYPES, recordTypeCode, recordTypeOf } from '../../domain/credentials.js';
import { canSeeCompany, companyRef } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import {
  type CredentialRow,
  type CredentialUser,
  credentialById,
  credentialByName,
  credentialUsers,
  deleteCredential,
  insertCredential,
  listCredentials,
  replaceCredentialUsers,
  updateCredential,
  usableCredentialIds,
} from '../../store/credentials.js';
import type { Executor } from '../../store/db.js';
import { companyByDomain, companyById, groupsOfUser, isUniqueViolation } from '../../store/directory.js';
import { actorOf, pathId } from '../actor.js';
import { authorize, type Requirement, viewOf } from '../authorize.js';
import { readSecret, sendCs } from '../codec.js';
import { CS_ERRORS, CsError } from '../errors.js';
import { readDescription, readName } from '../names.js';
import { applyListOp, ListOpSchema, parseListOp } from '../operation-type.js';
import { principalOf } from '../plugin.js';
import { Resolver } from '../security/resolve.js';

// Credential Manager as cvpysdk's credential_manager.py drives it.
//
// Rights (README "Stored credentials"): Credential Management on a record's
// owner company creates, changes, deletes it and says who may use it; a user
// the record is shared with ("User Credential", directly or through a group)
// or its creator sees it (name, user name, type, description, who may use it).
// Nobody reads a stored password back, on any route.

const CREDENTIAL_MANAGEMENT = 'Credential Management';
const manages = {
  each: [CREDENTIAL_MANAGEMENT],
  of: "each record's owner company",
} satisfies Requirement;
const lists = {
  signedIn: 'answers only the records the caller manages, created, or may use',
} satisfies Requirement;

/** The product's id and name of the "User Credential" permission cvpysdk sends in a record's associations. */
const USER_CREDENTIAL = { permissionId: 218, permissionName: 'User Credential' } as const;

/** A stored secret's bounds: service-account passwords, access keys and application secrets alike. */
const SECRET_MAX = 4096;
const Secret = () => Type.Optional(Type.Union([Type.String({ maxLength: SECRET_MAX * 2 }), Type.Number()]));
const Loose = Type.Record(Type.String(), Type.Unknown());
const NameOrNumber = Type.Union([Type.String({ maxLength: 256 }), Type.Number()]);
const MAX_RECORDS = 1000;

const Associations = Type.Object({
  associationsOperationType: Type.Optional(ListOpSchema()),
  associations: Type.Optional(
    Type.Array(
      Type.Object({
        userOrGroup: Type.Array(Loose, { minItems: 1, maxItems: 1 }),
        properties: Type.Optional(
          Type.Object({
            permissions: Type.Optional(Type.Array(Loose, { maxItems: 16 })),
          }),
        ),
      }),
      { maxItems: 1000 },
    ),
  ),
});

const Company = Type.Optional(
  Type.Object({
    company: Type.Optional(
      Type.Object({
        providerId: Type.Optional(NameOrNumber),
        providerDomainName: Type.Optional(Type.String({ maxLength: 256 })),
      }),
    ),
  }),
);

export const CredentialRecordInfo = Type.Object({
  recordType: Type.Optional(NameOrNumber),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
  credentialRecord: Type.Optional(
    Type.Object({
      credentialId: Type.Optional(NameOrNumber),
      credentialName: Type.Optional(Type.String({ maxLength: 512 })),
    }),
  ),
  record: Type.Optional(
    Type.Object({
      userName: Type.Optional(Type.String({ maxLength: 512 })),
      password: Secret(),
    }),
  ),
  securityAssociations: Type.Optional(Associations),
  createAs: Company,
});
export type CredentialRecordInfo = Static<typeof CredentialRecordInfo>;

export const CredentialsBody = Type.Object({
  credentialRecordInfo: Type.Array(CredentialRecordInfo, { minItems: 1, maxItems: MAX_RECORDS }),
});
export type CredentialsBody = Static<typeof CredentialsBody>;

export const V4CredentialBody = Type.Object({
  accountType: Type.String({ maxLength: 64 }),
  databaseCredentialType: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.String({ maxLength: 512 }),
  username: Type.String({ maxLength: 512 }),
  password: Secret(),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
  company: Type.Optional(Type.Object({ id: Type.Optional(NameOrNumber), name: Type.Optional(Type.String()) })),
});
export type V4CredentialBody = Static<typeof V4CredentialBody>;

// -- replies -------------------------------------------------------------------

const isTransport = (code: number) => Object.values(CS_ERRORS).some((e) => e.code === code && e.http !== 200);

/** cvpysdk reads `error.errorCode` and `error.errorMessage` of every write. */
const errorShape = (code: number, message: string): [string, Record<string, unknown>] =>
  isTransport(code)
    ? ['App_GenericResp', { errorCode: code, errorMessage: message }]
    : ['App_GenericResp', { error: { errorCode: code, errorMessage: message } }];

interface Shown {
  row: CredentialRow;
  companyName: string;
  users: CredentialUser[];
}

/** One record as the list (`propertyLevel=30`) shows it: never a password. */
function listItem({ row, companyName, users }: Shown): Record<string, unknown> {
  return {
    credentialRecord: { credentialId: row.id, credentialName: row.name },
    record: { userName: row.user_name },
    recordType: recordTypeCode(row.record_type),
    description: row.description,
    company: { id: row.company_id, name: companyName },
    securityAssociations: {
      associations: users.map((u) => ({
        userOrGroup: [
          u.kind === 'user'
            ? { userId: u.id, userName: u.name, _type_: 13 }
            : { userGroupId: u.id, userGroupName: u.name, _type_: 15 },
        ],
        properties: { permissions: [{ ...USER_CREDENTIAL, _type_: 122 }] },
      })),
    },
  };
}

/** `GET V5/credential/{id}`: every key cvpysdk's Credential reads (id, name, userAccount, accountType, security). */
function v5Item({ row, companyName, users }: Shown): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    accountType: row.record_type,
    ...(row.database_type ? { databaseCredentialType: row.database_type } : {}),
    userAccount: row.user_name,
    description: row.description,
    company: { id: row.company_id, name: companyName },
    security: {
      associations: users.map((u) => ({
        ...(u.kind === 'user' ? { user: { id: u.id, name: u.name } } : { userGroup: { id: u.id, name: u.name } }),
        permissions: [{ id: USER_CREDENTIAL.permissionId, name: USER_CREDENTIAL.permissionName }],
      })),
    },
  };
}

// -- rights --------------------------------------------------------------------

function mayManage(view: AuthzView, p: Principal, companyId: number): boolean {
  return canSeeCompany(view, p, companyId) && view.allowed(p.userId, CREDENTIAL_MANAGEMENT, companyRef(companyId));
}

/** Which records the caller may see: it manages their company, created them, or may use them. */
async function visibleFilter(db: Executor, view: AuthzView, p: Principal): Promise<(row: CredentialRow) => boolean> {
  const groups = (await groupsOfUser(db, p.userId)).map((g) => Number(g.id));
  const usable = await usableCredentialIds(db, p.userId, groups);
  return (row) =>
    canSeeCompany(view, p, row.company_id) &&
    (mayManage(view, p, row.company_id) || row.owner_user_id === p.userId || usable.has(row.id));
}

async function companyNames(db: Executor, ids: Iterable<number>): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const id of new Set(ids)) {
    const c = await companyById(db, id);
    out.set(id, id === 0 ? 'CommCell' : (c?.domain_name ?? ''));
  }
  return out;
}

async function shown(db: Executor, rows: CredentialRow[]): Promise<Shown[]> {
  const names = await companyNames(
    db,
    rows.map((r) => r.company_id),
  );
  const out: Shown[] = [];
  for (const row of rows) {
    out.push({ row, companyName: names.get(row.company_id) ?? '', users: await credentialUsers(db, row.id) });
  }
  return out;
}

// -- input ---------------------------------------------------------------------

function readSecretValue(req: FastifyRequest, raw: unknown, field: string): string {
  const s = readSecret(req, raw, field);
  if (s.trim() === '') throw new CsError('INVALID_VALUE', `${field} must not be empty`);
  if ([...s].length > SECRET_MAX)
    throw new CsError('INVALID_VALUE', `${field} is longer than ${SECRET_MAX} characters`);
  return s;
}

/** The owner company named by `createAs.company` (default: the caller's); NOT_FOUND for one the caller may not see. */
async function ownerCompany(
  db: Executor,
  view: AuthzView,
  p: Principal,
  given: { providerId?: string | number; providerDomainName?: string; id?: string | number; name?: string } | undefined,
): Promise<number> {
  const id = given?.providerId ?? given?.id;
  const domain = given?.providerDomainName ?? given?.name;
  let companyId: number | null = p.companyId;
  if (id !== undefined && String(id) !== '') {
    const n = Number(id);
    companyId = Number.isInteger(n) && n >= 0 && n <= 2_147_483_647 && (await companyById(db, n)) ? n : null;
  } else if (domain !== undefined && domain !== '') {
    companyId = (await companyByDomain(db, domain))?.id ?? null;
  }
  if (companyId === null || !canSeeCompany(view, p, companyId)) throw new CsError('NOT_FOUND', 'no such company');
  return companyId;
}

interface WhoMayUse {
  kind: 'user' | 'group';
  id: number;
}

/**
 * The principals named in a record's `securityAssociations`, each of the
 * record's own company (a company's users are never granted anything outside
 * it), each with the permission "User Credential" (or none named).
 */
async function readUsers(
  db: Executor,
  view: AuthzView,
  p: Principal,
  companyId: number,
  assoc: Static<typeof Associations>,
): Promise<WhoMayUse[]> {
  const resolver = new Resolver(db, view, p);
  const out: WhoMayUse[] = [];
  for (const a of assoc.associations ?? []) {
    const raw = { ...(a.userOrGroup[0] as Record<string, unknown>) };
    // cvpysdk's get_security_associations names a user as userGroupName/userGroupId with entityTypeName USER_ENTITY.
    if (String(raw.entityTypeName ?? '').toUpperCase() === 'USER_ENTITY') {
      raw.userName ??= raw.userGroupName;
      raw.userId ??= raw.userGroupId;
      delete raw.userGroupName;
      delete raw.userGroupId;
    } else if (raw._type_ !== undefined && Number(raw._type_) === 13) {
      delete raw.userGroupName;
      delete raw.userGroupId;
    }
    for (const perm of a.properties?.permissions ?? []) {
      const name = String(perm.permissionName ?? '').toLowerCase();
      const id = perm.permissionId === undefined ? null : Number(perm.permissionId);
      if (name !== USER_CREDENTIAL.permissionName.toLowerCase() && id !== USER_CREDENTIAL.permissionId) {
        throw new CsError('INVALID_VALUE', 'a credential record is shared with the permission "User Credential" only');
      }
    }
    const who = await resolver.principal(raw);
    if (who.companyId !== companyId) {
      throw new CsError(
        'INVALID_VALUE',
        `${who.name} is not of the record's company: a record is shared within its company only`,
      );
    }
    out.push({ kind: who.kind, id: who.id });
  }
  return out;
}

// -- handlers ------------------------------------------------------------------

function audit(
  req: FastifyRequest,
  p: Principal,
  now: Date,
  operation: string,
  row: { id: number; name: string; companyId: number },
  details: Record<string, unknown>,
) {
  return {
    actor: actorOf(p),
    companyId: row.companyId,
    operation,
    targetType: 'credential',
    targetId: row.id,
    targetName: row.name,
    outcome: 'success' as const,
    details,
    sourceAddr: req.ip,
    at: now,
  };
}

/** The record an update or delete names, by id or by name; NOT_FOUND for one the caller may not see. */
async function findRecord(
  db: Executor,
  view: AuthzView,
  p: Principal,
  ref: { credentialId?: string | number; credentialName?: string } | undefined,
): Promise<CredentialRow> {
  const visible = await visibleFilter(db, view, p);
  if (ref?.credentialId !== undefined && String(ref.credentialId) !== '') {
    const n = Number(ref.credentialId);
    const row = Number.isInteger(n) && n > 0 && n <= 2_147_483_647 ? await credentialById(db, n) : undefined;
    if (!row || !visible(row)) throw new CsError('NOT_FOUND', 'no such credential record');
    return row;
  }
  const name = ref?.credentialName;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new CsError('BAD_REQUEST', 'credentialRecord needs credentialId or credentialName');
  }
  // By name: the caller's own company's record wins over a same-named one elsewhere.
  const all = (await credentialByName(db, await seenCompanies(db, view, p), name)).filter(visible);
  const own = all.filter((r) => r.company_id === p.companyId);
  const pick = own.length === 1 ? own : all;
  if (pick.length === 0) throw new CsError('NOT_FOUND', 'no such credential record');
  if (pick.length > 1) throw new CsError('INVALID_VALUE', 'that name is used in several companies; give credentialId');
  return pick[0] as CredentialRow;
}

async function seenCompanies(db: Executor, view: AuthzView, p: Principal): Promise<number[]> {
  const ids = (await db.selectFrom('companies').select('id').execute()).map((r) => Number(r.id));
  return ids.filter((c) => canSeeCompany(view, p, c));
}

export function registerCredentialRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;
  const writes = { requires: manages, errorReply: (code: number, message: string) => errorShape(code, message) };

  const listHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = principalOf(req);
    const view = await viewOf(req);
    const visible = await visibleFilter(db, view, p);
    const rows = (await listCredentials(db, await seenCompanies(db, view, p))).filter(visible);
    return sendCs(req, reply, 'App_GetCredentialsResp', {
      credentialRecordInfo: (await shown(db, rows)).map(listItem),
    });
  };
  r.get('/CommCell/Credentials', { config: { requires: lists } }, listHandler);

  const oneRecord = async (req: FastifyRequest): Promise<Shown> => {
    const p = principalOf(req);
    const id = pathId(req);
    const row = id === null ? undefined : await credentialById(db, id);
    if (!row || !(await visibleFilter(db, await viewOf(req), p))(row)) {
      throw new CsError('NOT_FOUND', 'no such credential record');
    }
    return (await shown(db, [row]))[0] as Shown;
  };
  r.get('/CommCell/Credentials/:id', { config: { requires: lists } }, async (req, reply) =>
    sendCs(req, reply, 'App_GetCredentialsResp', { credentialRecordInfo: [listItem(await oneRecord(req))] }),
  );
  r.get('/V5/credential/:id', { config: { requires: lists } }, async (req, reply) =>
    sendCs(req, reply, 'CredentialInfo', v5Item(await oneRecord(req))),
  );

  r.post('/CommCell/Credentials', { schema: { body: CredentialsBody }, config: writes }, async (req, reply) => {
    const p = principalOf(req);
    const view = await viewOf(req);
    const now = ctx.clock();
    const created: Array<{ credentialId: number; credentialName: string }> = [];
    // Every record is checked before any is written; the batch is one transaction.
    const plans: Array<Parameters<typeof insertCredential>[2] & { users: WhoMayUse[] }> = [];
    for (const [i, item] of req.body.credentialRecordInfo.entries()) {
      const companyId = await ownerCompany(db, view, p, item.createAs?.company);
      await authorize(req, p, CREDENTIAL_MANAGEMENT, companyRef(companyId), companyId);
      const recordType = recordTypeOf(item.recordType ?? '');
      if (recordType === null || recordType === 'DATABASE_ACCOUNT') {
        throw new CsError(
          'INVALID_VALUE',
          `credentialRecordInfo[${i}].recordType is not a record type this endpoint takes (database accounts: POST V4/Credential)`,
        );
      }
      plans.push({
        companyId,
        name: readName(
          item.credentialRecord?.credentialName,
          `credentialRecordInfo[${i}].credentialRecord.credentialName`,
        ),
        recordType,
        databaseType: null,
        description: readDescription(item.description ?? '', `credentialRecordInfo[${i}].description`) ?? '',
        ownerUserId: p.userId,
        userName: readName(item.record?.userName, `credentialRecordInfo[${i}].record.userName`),
        password: readSecretValue(req, item.record?.password, `credentialRecordInfo[${i}].record.password`),
        at: now,
        users: item.securityAssociations ? await readUsers(db, view, p, companyId, item.securityAssociations) : [],
      });
    }
    await db.transaction().execute(async (tx) => {
      for (const plan of plans) {
        const id = await insertNamedCredential(tx, ctx.vault, plan);
        await replaceCredentialUsers(tx, id, plan.users);
        created.push({ credentialId: id, credentialName: plan.name });
        await appendAudit(
          tx,
          audit(
            req,
            p,
            now,
            'credential.create',
            { id, name: plan.name, companyId: plan.companyId },
            {
              recordType: plan.recordType,
              userName: plan.userName,
              sharedWith: plan.users.length,
            },
          ),
        );
      }
    });
    return sendCs(req, reply, 'App_GenericResp', {
      error: { errorCode: 0, errorMessage: '' },
      credentialRecordInfo: created.map((c) => ({ credentialRecord: c })),
    });
  });

  r.put('/CommCell/Credentials', { schema: { body: CredentialsBody }, config: writes }, async (req, reply) => {
    const p = principalOf(req);
    const view = await viewOf(req);
    const now = ctx.clock();
    const plans: Array<{
      row: CredentialRow;
      change: Parameters<typeof updateCredential>[3];
      users: WhoMayUse[] | null;
      details: Record<string, unknown>;
    }> = [];
    for (const [i, item] of req.body.credentialRecordInfo.entries()) {
      const at = `credentialRecordInfo[${i}]`;
      const row = await findRecord(db, view, p, item.credentialRecord);
      await authorize(req, p, CREDENTIAL_MANAGEMENT, companyRef(row.company_id), row.company_id);
      if (
        item.recordType !== undefined &&
        item.recordType !== '' &&
        recordTypeOf(item.recordType) !== row.record_type
      ) {
        throw new CsError('INVALID_VALUE', `${at}.recordType cannot change (the record is ${row.record_type})`);
      }
      const change: Parameters<typeof updateCredential>[3] = { at: now };
      const details: Record<string, unknown> = {};
      const newName = item.credentialRecord?.credentialName;
      if (newName !== undefined && item.credentialRecord?.credentialId !== undefined) {
        const name = readName(newName, `${at}.credentialRecord.credentialName`);
        if (name !== row.name) {
          change.name = name;
          details.name = { from: row.name, to: name };
        }
      }
      if (item.description !== undefined && item.description !== null) {
        change.description = readDescription(item.description, `${at}.description`);
        details.description = true;
      }
      if (item.record?.userName !== undefined) {
        const userName = readName(item.record.userName, `${at}.record.userName`);
        if (userName !== row.user_name) {
          change.userName = userName;
          details.userName = { from: row.user_name, to: userName };
        }
      }
      if (item.record?.password !== undefined && item.record.password !== '') {
        change.password = readSecretValue(req, item.record.password, `${at}.record.password`);
        details.passwordChanged = true;
      }
      let users: WhoMayUse[] | null = null;
      if (item.securityAssociations) {
        const given = await readUsers(db, view, p, row.company_id, item.securityAssociations);
        const op = parseListOp(
          item.securityAssociations.associationsOperationType,
          `${at}.securityAssociations.associationsOperationType`,
          'OVERWRITE',
        );
        const key = (u: WhoMayUse) => `${u.kind}:${u.id}`;
        const current = (await credentialUsers(db, row.id)).map((u) => key({ kind: u.kind, id: u.id }));
        const next = applyListOp(op, current, given.map(key));
        users = [...next].map((k) => {
          const [kind, id] = k.split(':');
          return { kind: kind as 'user' | 'group', id: Number(id) };
        });
        details.sharedWith = users.length;
      }
      plans.push({ row, change, users, details });
    }
    await db.transaction().execute(async (tx) => {
      for (const { row, change, users, details } of plans) {
        await updateCredential(tx, ctx.vault, row.id, change).catch((e) => {
          if (isUniqueViolation(e))
            throw new CsError('ALREADY_EXISTS', `a credential record named ${change.name} already exists`);
          throw e;
        });
        if (users) await replaceCredentialUsers(tx, row.id, users);
        await appendAudit(
          tx,
          audit(
            req,
            p,
            now,
            'credential.update',
            { id: row.id, name: change.name ?? row.name, companyId: row.company_id },
            details,
          ),
        );
      }
    });
    return sendCs(req, reply, 'App_GenericResp', { error: { errorCode: 0, errorMessage: '' } });
  });

  r.post(
    '/CommCell/Credentials/action/delete',
    { schema: { body: CredentialsBody }, config: writes },
    async (req, reply) => {
      const p = principalOf(req);
      const view = await viewOf(req);
      const now = ctx.clock();
      const rows: CredentialRow[] = [];
      for (const item of req.body.credentialRecordInfo) {
        const row = await findRecord(db, view, p, item.credentialRecord);
        await authorize(req, p, CREDENTIAL_MANAGEMENT, companyRef(row.company_id), row.company_id);
        rows.push(row);
      }
      await db.transaction().execute(async (tx) => {
        for (const row of rows) {
          await deleteCredential(tx, row.id);
          await appendAudit(
            tx,
            audit(req, p, now, 'credential.delete', { id: row.id, name: row.name, companyId: row.company_id }, {}),
          );
        }
      });
      return sendCs(req, reply, 'App_GenericResp', { error: { errorCode: 0, errorMessage: '' } });
    },
  );

  // cvpysdk's add_db2/postgres/mysql_database_creds: answers the new record's id.
  r.post(
    '/V4/Credential',
    { schema: { body: V4CredentialBody }, config: { requires: manages } },
    async (req, reply) => {
      const p = principalOf(req);
      const view = await viewOf(req);
      const now = ctx.clock();
      const b = req.body;
      if (recordTypeOf(b.accountType) !== 'DATABASE_ACCOUNT') {
        throw new CsError(
          'INVALID_VALUE',
          'accountType must be DATABASE_ACCOUNT (other records: POST Commcell/Credentials)',
        );
      }
      const dbType = String(b.databaseCredentialType ?? '')
        .trim()
        .toUpperCase();
      if (!(DATABASE_TYPES as readonly string[]).includes(dbType)) {
        throw new CsError('INVALID_VALUE', `databaseCredentialType must be one of ${DATABASE_TYPES.join(', ')}`);
      }
      const companyId = await ownerCompany(db, view, p, b.company);
      await authorize(req, p, CREDENTIAL_MANAGEMENT, companyRef(companyId), companyId);
      const plan = {
        companyId,
        name: readName(b.name, 'name'),
        recordType: 'DATABASE_ACCOUNT',
        databaseType: dbType,
        description: readDescription(b.description ?? '', 'description') ?? '',
        ownerUserId: p.userId,
        userName: readName(b.username, 'username'),
        password: readSecretValue(req, b.password, 'password'),
        at: now,
      };
      const id = await db.transaction().execute(async (tx) => {
        const made = await insertNamedCredential(tx, ctx.vault, plan);
        await appendAudit(
          tx,
          audit(
            req,
            p,
            now,
            'credential.create',
            { id: made, name: plan.name, companyId },
            {
              recordType: plan.recordType,
              databaseCredentialType: dbType,
              userName: plan.userName,
            },
          ),
        );
        return made;
      });
      return sendCs(req, reply, 'App_CreateCredentialResp', { id, name: plan.name });
    },
  );
}

/** Inserts a record; a name its company already uses is ALREADY_EXISTS (both create routes). */
async function insertNamedCredential(...args: Parameters<typeof insertCredential>): Promise<number> {
  const id = await insertCredential(...args).catch((e) => {
    if (isUniqueViolation(e)) return null;
    throw e;
  });
  if (id === null) throw new CsError('ALREADY_EXISTS', `a credential record named ${args[2].name} already exists`);
  return id;
}
