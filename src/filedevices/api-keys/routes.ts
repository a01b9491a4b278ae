import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import { levelOf } from '../../auth/access-level.js';
import type { AppContext } from '../../context.js';
import { ACCESS_LEVELS, KEY_TYPES } from '../../domain/api-keys.js';
import { parseCidr } from '../../domain/cidr.js';
import { checkText } from '../../domain/names.js';
import { apiKeyRef, numberedRef } from '../../domain/object-id.js';
import { loginName } from '../../domain/principal.js';
import type { Executor } from '../../store/db.js';
import { listUsers } from '../../store/directory.js';
import {
  type ApiKeyRow,
  apiKeyByPrefix,
  deleteApiKey,
  groupByRef,
  groupsOfKeys,
  listApiKeys,
  updateApiKey,
  virtualServerByRef,
} from '../../store/file-devices.js';
import { actorOf, callerOf, type FdCaller, mayGive, seesGroup, seesKey, seesVirtualServer } from '../caller.js';
import { CALL_IDS } from '../calls.js';
import { FdError } from '../errors.js';
import { auditedSpec, columnsOf, createApiKey, type KeySpec, keyJson, NEW_KEY, powersOf, specOfRow } from './keys.js';

const Access = Type.Union(ACCESS_LEVELS.map((a) => Type.Literal(a)));
const Refs = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256 });
const Fields = {
  description: Type.String({ maxLength: 1024 }),
  isEnabled: Type.Boolean(),
  restApiAccess: Access,
  soapApiAccess: Access,
  keyType: Type.Union(KEY_TYPES.map((t) => Type.Literal(t))),
  allowedCallIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: CALL_IDS.length }),
  restrictedToApiKeyGroups: Refs,
  restrictedToVirtualServers: Refs,
  allowedSourceAddresses: Type.Union([Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }), Type.Null()]),
  expiresAt: Type.Union([
    Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$',
      maxLength: 64,
    }),
    Type.Null(),
  ]),
};
export const CreateApiKeyBody = Type.Partial(Type.Object(Fields, { additionalProperties: false }));
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;
export const UpdateApiKeyBody = CreateApiKeyBody;
export type UpdateApiKeyBody = CreateApiKeyBody;
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/** Resolves group or virtual server references the caller may see; `[]` clears (null). */
async function resolveRefs(
  db: Executor,
  c: FdCaller,
  refs: readonly string[],
  kind: 'group' | 'virtualServer',
): Promise<number[] | null> {
  if (refs.length === 0) return null;
  const out = new Set<number>();
  for (const r of refs) {
    const ref = numberedRef(r);
    const found = kind === 'group' ? await groupByRef(db, ref) : await virtualServerByRef(db, ref);
    const visible = found && (kind === 'group' ? seesGroup(c, found.id) : seesVirtualServer(c, found.id));
    if (!found || !visible) {
      throw new FdError(
        'NOT_FOUND',
        `no ${kind === 'group' ? 'API key group' : 'virtual server'} ${JSON.stringify(r.slice(0, 80))}`,
      );
    }
    out.add(found.id);
  }
  return [...out].sort((a, b) => a - b);
}

/** The body applied over `base` (a new key's defaults, or the stored key), checked and resolved. */
export async function applyBody(
  db: Executor,
  c: FdCaller,
  base: KeySpec,
  b: CreateApiKeyBody,
  now: Date,
): Promise<KeySpec> {
  const s: KeySpec = { ...base };
  if (b.description !== undefined) {
    const d = checkText(b.description);
    if (!d.ok) throw new FdError('INVALID_INPUT', `description ${d.problem}`);
    s.description = d.value;
  }
  if (b.isEnabled !== undefined) s.isEnabled = b.isEnabled;
  if (b.restApiAccess !== undefined) s.rest = b.restApiAccess;
  if (b.soapApiAccess !== undefined) s.soap = b.soapApiAccess;
  if (b.keyType !== undefined) s.keyType = b.keyType;
  if (b.allowedCallIds !== undefined) {
    const unknown = b.allowedCallIds.filter((x) => !(CALL_IDS as readonly string[]).includes(x));
    if (unknown.length) throw new FdError('INVALID_INPUT', `unknown call ids: ${unknown.slice(0, 5).join(', ')}`);
    s.callIds = [...new Set(b.allowedCallIds)].sort();
  }
  if (s.keyType === 'CALLID_RESTRICTED' && s.callIds.length === 0) {
    throw new FdError('INVALID_INPUT', 'a CALLID_RESTRICTED key needs allowedCallIds');
  }
  if (s.keyType === 'UNRESTRICTED') {
    if (b.allowedCallIds?.length) throw new FdError('INVALID_INPUT', 'allowedCallIds needs keyType CALLID_RESTRICTED');
    s.callIds = [];
  }
  if (b.restrictedToApiKeyGroups !== undefined)
    s.groups = await resolveRefs(db, c, b.restrictedToApiKeyGroups, 'group');
  if (b.restrictedToVirtualServers !== undefined) {
    s.virtualServers = await resolveRefs(db, c, b.restrictedToVirtualServers, 'virtualServer');
  }
  if (b.allowedSourceAddresses !== undefined) {
    const list = b.allowedSourceAddresses;
    if (list === null || list.length === 0) s.sources = null;
    else {
      const bad = list.find((x) => parseCidr(x) === null);
      if (bad !== undefined) throw new FdError('INVALID_INPUT', `not a CIDR range: ${JSON.stringify(bad)}`);
      s.sources = [...new Set(list)];
    }
  }
  if (b.expiresAt !== undefined) {
    if (b.expiresAt === null) s.expiresAt = null;
    else {
      const t = Date.parse(b.expiresAt);
      if (Number.isNaN(t) || t <= now.getTime()) throw new FdError('INVALID_INPUT', 'expiresAt must be in the future');
      s.expiresAt = new Date(t).toISOString();
    }
  }
  return s;
}

/** "A key never exceeds its creator" (R5, R6). */
const checkCeiling = (c: FdCaller, s: KeySpec, what: string) => mayGive(c, powersOf(s), what);

const visible = (c: FdCaller, row: ApiKeyRow, memberOf: readonly number[]) => seesKey(c, specOfRow(row), memberOf);

export function registerApiKeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/file-devices/management/api-keys';
  const db = () => ctx.store.db;

  const render = async (c: FdCaller, rows: ApiKeyRow[], memberOf: Map<number, number[]>) => {
    const view = await ctx.authz.current();
    const owners = await listUsers(db(), { companies: [], users: [...new Set(rows.map((k) => k.owner_user_id))] });
    const byId = new Map(owners.map((u) => [u.id, u]));
    return rows.map((k) => {
      const o = byId.get(k.owner_user_id);
      const name = o ? loginName(o.company_id, o.domain_name, o.user_name) : '';
      // A group-restricted caller is not shown the key's other groups (R8).
      const groups = (memberOf.get(k.id) ?? []).filter((g) => seesGroup(c, g));
      return keyJson(k, groups, name, levelOf(view, k.owner_user_id));
    });
  };

  /** The key named by the path, if the caller sees it; 404 otherwise. */
  const target = async (c: FdCaller, id: string) => {
    const ref = apiKeyRef(id);
    const row = ref.by === 'prefix' ? await apiKeyByPrefix(db(), ref.prefix) : undefined;
    const memberOf = row ? ((await groupsOfKeys(db(), [row.id])).get(row.id) ?? []) : [];
    if (!row || !visible(c, row, memberOf)) throw new FdError('NOT_FOUND', 'no such API key');
    return { row, memberOf };
  };

  r.post(
    base,
    { schema: { body: CreateApiKeyBody }, config: { fd: { call: 'createApiKey', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      if (c.powers.groups !== null) {
        throw new FdError('ACCESS_DENIED', 'a key restricted to API key groups cannot create keys');
      }
      const now = ctx.clock();
      const spec = await applyBody(db(), c, NEW_KEY, req.body ?? {}, now);
      checkCeiling(c, spec, 'the new key');
      const { row, key } = await createApiKey(ctx.store, now, c.userId, spec, actorOf(c), req.ip);
      const [apiKey] = await render(c, [row], new Map());
      return reply.code(201).send({ apiKey, key });
    },
  );

  r.get(base, { config: { fd: { call: 'listApiKeys', write: false } } }, async (req) => {
    const c = callerOf(req);
    const rows = await listApiKeys(db());
    const memberOf = await groupsOfKeys(
      db(),
      rows.map((k) => k.id),
    );
    const shown = rows.filter((k) => visible(c, k, memberOf.get(k.id) ?? []));
    return { apiKeys: await render(c, shown, memberOf) };
  });

  r.get(
    `${base}/:id`,
    { schema: { params: IdParams }, config: { fd: { call: 'getApiKey', write: false } } },
    async (req) => {
      const c = callerOf(req);
      const { row, memberOf } = await target(c, req.params.id);
      const [apiKey] = await render(c, [row], new Map([[row.id, memberOf]]));
      return { apiKey };
    },
  );

  r.patch(
    `${base}/:id`,
    {
      schema: { params: IdParams, body: UpdateApiKeyBody },
      config: { fd: { call: 'updateApiKey', write: true } },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const { row } = await target(c, req.params.id);
      const before = specOfRow(row);
      checkCeiling(c, before, 'this key');
      const now = ctx.clock();
      const after = await applyBody(db(), c, before, req.body ?? {}, now);
      checkCeiling(c, after, 'the changed key');
      await db()
        .transaction()
        .execute(async (tx) => {
          await updateApiKey(tx, row.id, columnsOf(after));
          await appendAudit(tx, {
            actor: actorOf(c),
            operation: 'apikey.update',
            targetType: 'apikey',
            targetId: row.prefix,
            targetName: after.description.slice(0, 200),
            outcome: 'success',
            details: { before: auditedSpec(before), after: auditedSpec(after) },
            sourceAddr: req.ip,
            at: now,
          });
        });
      ctx.apiKeys.forget(row.id);
      return reply.code(204).send();
    },
  );

  r.delete(
    `${base}/:id`,
    { schema: { params: IdParams }, config: { fd: { call: 'deleteApiKey', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const { row } = await target(c, req.params.id);
      checkCeiling(c, specOfRow(row), 'this key');
      await db()
        .transaction()
        .execute(async (tx) => {
          await deleteApiKey(tx, row.id);
          await appendAudit(tx, {
            actor: actorOf(c),
            operation: 'apikey.delete',
            targetType: 'apikey',
            targetId: row.prefix,
            targetName: row.description.slice(0, 200),
            outcome: 'success',
            sourceAddr: req.ip,
            at: ctx.clock(),
          });
        });
      ctx.apiKeys.forget(row.id);
      return reply.code(204).send();
    },
  );
}
