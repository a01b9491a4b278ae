import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { checkName, checkText, nameKey } from '../../domain/names.js';
import { apiKeyObjectId, apiKeyRef, groupObjectId, numberedRef } from '../../domain/object-id.js';
import type { Tx } from '../../store/db.js';
import { isUniqueViolation } from '../../store/directory.js';
import {
  type ApiKeyRow,
  apiKeyByPrefix,
  groupByRef,
  groupsOfKeys,
  listGroups,
  membersOfGroups,
} from '../../store/file-devices.js';
import type { FdApiKeyGroup } from '../../store/schema.js';
import { powersOf, specOfRow } from '../api-keys/keys.js';
import { actorOf, callerOf, type FdCaller, mayGive, seesGroup, seesKey } from '../caller.js';
import { FdError } from '../errors.js';

export const GroupBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 256 }), description: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
export const UpdateGroupBody = Type.Partial(GroupBody);
export const MembersBody = Type.Object(
  { apiKeys: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 256 }) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const MemberParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  keyId: Type.String({ minLength: 1, maxLength: 200 }),
});

export function groupJson(g: FdApiKeyGroup, members: readonly string[]) {
  return {
    objectId: groupObjectId(g.id),
    index: g.id,
    name: g.name,
    description: g.description,
    members: members.map(apiKeyObjectId),
  };
}

function checked(name: string | undefined, description: string | undefined) {
  const out: { name?: string; description?: string } = {};
  if (name !== undefined) {
    const n = checkName(name);
    if (!n.ok) throw new FdError('INVALID_INPUT', `name ${n.problem}`);
    out.name = n.value;
  }
  if (description !== undefined) {
    const d = checkText(description);
    if (!d.ok) throw new FdError('INVALID_INPUT', `description ${d.problem}`);
    out.description = d.value;
  }
  return out;
}

export function registerApiKeyGroupRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/file-devices/management/api-key-groups';
  const db = () => ctx.store.db;

  const target = async (c: FdCaller, id: string) => {
    const g = await groupByRef(db(), numberedRef(id));
    if (!g || !seesGroup(c, g.id)) throw new FdError('NOT_FOUND', 'no such API key group');
    return g;
  };

  /**
   * A key the caller may put in or take out of a group: one it sees (R8, R9: else 404, as a key
   * that does not exist) and does not exceed (R6: else 403).
   */
  const memberKey = async (c: FdCaller, ref: string) => {
    const k = apiKeyRef(ref);
    const row = k.by === 'prefix' ? await apiKeyByPrefix(db(), k.prefix) : undefined;
    const memberOf = row ? ((await groupsOfKeys(db(), [row.id])).get(row.id) ?? []) : [];
    if (!row || !seesKey(c, specOfRow(row), memberOf)) {
      throw new FdError('NOT_FOUND', `no API key ${JSON.stringify(ref.slice(0, 80))}`);
    }
    mayGive(c, powersOf(specOfRow(row)), 'that API key');
    return row;
  };

  const change = (
    c: FdCaller,
    ip: string,
    operation: string,
    g: { id: number; name: string },
    work: (tx: Tx) => Promise<void>,
    details?: Record<string, unknown>,
  ) =>
    db()
      .transaction()
      .execute(async (tx) => {
        try {
          await work(tx);
        } catch (e) {
          if (isUniqueViolation(e)) throw new FdError('ALREADY_EXISTS');
          throw e;
        }
        await appendAudit(tx, {
          actor: actorOf(c),
          operation,
          targetType: 'apiKeyGroup',
          targetId: g.id,
          targetName: g.name,
          outcome: 'success',
          ...(details ? { details } : {}),
          sourceAddr: ip,
          at: ctx.clock(),
        });
      });

  r.post(
    base,
    { schema: { body: GroupBody }, config: { fd: { call: 'createApiKeyGroup', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      if (c.powers.groups !== null)
        throw new FdError('ACCESS_DENIED', 'a key restricted to API key groups cannot create one');
      const { name, description = '' } = checked(req.body.name, req.body.description);
      let id = 0;
      const g = { id: 0, name: name as string };
      await change(c, req.ip, 'apikeygroup.create', g, async (tx) => {
        const row = await tx
          .insertInto('fd_api_key_groups')
          .values({
            name: name as string,
            name_key: nameKey(name as string),
            description,
            created_at: ctx.clock().toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        id = row.id;
        g.id = row.id;
      });
      const created = await groupByRef(db(), { by: 'id', id });
      return reply.code(201).send({ apiKeyGroup: groupJson(created as FdApiKeyGroup, []) });
    },
  );

  r.get(base, { config: { fd: { call: 'listApiKeyGroups', write: false } } }, async (req) => {
    const c = callerOf(req);
    const groups = (await listGroups(db())).filter((g) => seesGroup(c, g.id));
    const members = await membersOfGroups(
      db(),
      groups.map((g) => g.id),
    );
    return { apiKeyGroups: groups.map((g) => groupJson(g, members.get(g.id) ?? [])) };
  });

  r.get(
    `${base}/:id`,
    { schema: { params: IdParams }, config: { fd: { call: 'getApiKeyGroup', write: false } } },
    async (req) => {
      const g = await target(callerOf(req), req.params.id);
      const members = await membersOfGroups(db(), [g.id]);
      return { apiKeyGroup: groupJson(g, members.get(g.id) ?? []) };
    },
  );

  r.patch(
    `${base}/:id`,
    { schema: { params: IdParams, body: UpdateGroupBody }, config: { fd: { call: 'updateApiKeyGroup', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const g = await target(c, req.params.id);
      const set = checked(req.body.name, req.body.description);
      // A PATCH naming no field changes nothing: no write, no audit record (an empty SET is not SQL).
      if (Object.keys(set).length === 0) return reply.code(204).send();
      await change(
        c,
        req.ip,
        'apikeygroup.update',
        { id: g.id, name: set.name ?? g.name },
        async (tx) => {
          await tx
            .updateTable('fd_api_key_groups')
            .set({ ...set, ...(set.name !== undefined ? { name_key: nameKey(set.name) } : {}) })
            .where('id', '=', g.id)
            .execute();
        },
        { before: { name: g.name, description: g.description }, after: set },
      );
      return reply.code(204).send();
    },
  );

  r.delete(
    `${base}/:id`,
    { schema: { params: IdParams }, config: { fd: { call: 'deleteApiKeyGroup', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const g = await target(c, req.params.id);
      await change(c, req.ip, 'apikeygroup.delete', g, async (tx) => {
        await tx.deleteFrom('fd_api_key_groups').where('id', '=', g.id).execute();
      });
      return reply.code(204).send();
    },
  );

  r.get(
    `${base}/:id/members`,
    { schema: { params: IdParams }, config: { fd: { call: 'listApiKeyGroupMembers', write: false } } },
    async (req) => {
      const g = await target(callerOf(req), req.params.id);
      const members = (await membersOfGroups(db(), [g.id])).get(g.id) ?? [];
      return { members: members.map((prefix) => ({ objectId: apiKeyObjectId(prefix), prefix })) };
    },
  );

  r.post(
    `${base}/:id/members`,
    { schema: { params: IdParams, body: MembersBody }, config: { fd: { call: 'addApiKeyGroupMembers', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const g = await target(c, req.params.id);
      const keys: ApiKeyRow[] = [];
      for (const ref of req.body.apiKeys) keys.push(await memberKey(c, ref));
      await change(
        c,
        req.ip,
        'apikeygroup.members.add',
        g,
        async (tx) => {
          for (const k of keys) {
            await tx
              .insertInto('fd_api_key_group_members')
              .values({ group_id: g.id, key_id: k.id })
              .onConflict((oc) => oc.columns(['group_id', 'key_id']).doNothing())
              .execute();
          }
        },
        { prefixes: keys.map((k) => k.prefix) },
      );
      return reply.code(204).send();
    },
  );

  r.delete(
    `${base}/:id/members/:keyId`,
    { schema: { params: MemberParams }, config: { fd: { call: 'removeApiKeyGroupMember', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const g = await target(c, req.params.id);
      const k = await memberKey(c, req.params.keyId);
      await change(
        c,
        req.ip,
        'apikeygroup.members.remove',
        g,
        async (tx) => {
          const gone = await tx
            .deleteFrom('fd_api_key_group_members')
            .where('group_id', '=', g.id)
            .where('key_id', '=', k.id)
            .executeTakeFirst();
          if (Number(gone.numDeletedRows) === 0) throw new FdError('NOT_FOUND', 'that API key is not a member');
        },
        { prefix: k.prefix },
      );
      return reply.code(204).send();
    },
  );
}
