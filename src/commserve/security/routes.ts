import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { AuthzView, EntityRef, Grant } from '../../domain/authz.js';
import { isPermission } from '../../domain/catalogue.js';
import { parseAssociationOp, parseEntityRef } from '../../domain/entity-ref.js';
import { canSeeCompany } from '../../domain/permissions.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import type { Executor } from '../../store/db.js';
import { actorOf, pathId } from '../actor.js';
import { authorize, type Target, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { principalOf } from '../plugin.js';
import { apply, asCsError, checkGrant, describeRemoved, type Item, Rollback } from './associations.js';
import { checkEntitySide, MAX_ASSOCIATIONS, MAX_ENTITIES } from './limits.js';
import { entityLabel, Resolver } from './resolve.js';

const Loose = Type.Object({}, { additionalProperties: true });

export const SecurityBody = Type.Object({
  entityAssociated: Type.Object({ entity: Type.Array(Loose, { minItems: 1, maxItems: MAX_ENTITIES }) }),
  securityAssociations: Type.Object({
    associationsOperationType: Type.Union([Type.String({ maxLength: 20 }), Type.Integer()]),
    associations: Type.Optional(
      Type.Array(
        Type.Object({
          userOrGroup: Type.Array(Loose, { minItems: 1, maxItems: 1 }),
          properties: Type.Object({ role: Loose }),
        }),
        { maxItems: MAX_ASSOCIATIONS },
      ),
    ),
  }),
});
export type SecurityBody = Static<typeof SecurityBody>;

interface ResultItem {
  errorCode: number;
  warningCode: number;
  warningMessage: string;
  errorString?: string;
  errorMessage?: string;
}

const FAILED_BY_OTHERS: ResultItem = {
  errorCode: 2,
  warningCode: 0,
  warningMessage: 'Not applied: another association of this request failed, and a request applies whole or not at all',
};

export const ExplainQuery = Type.Object({
  userId: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
  entityType: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
  entityId: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
  permission: Type.String({ minLength: 1, maxLength: 100 }),
});

/**
 * Names for the principals and roles of some grants, for replies: from the
 * request's permission view, which holds them; a name it lacks (an
 * association committed after the view was read) is read from the store.
 */
export async function describeGrants(db: Executor, view: AuthzView, grants: Grant[]) {
  const named = grants.map((g) => ({
    g,
    principal: g.principalKind === 'user' ? view.userName(g.principalId) : view.groupName(g.principalId),
    role: view.roleName(g.roleId),
  }));
  const lacking = { user: new Set<number>(), group: new Set<number>(), role: new Set<number>() };
  for (const { g, principal, role } of named) {
    if (principal === undefined) lacking[g.principalKind].add(g.principalId);
    if (role === undefined) lacking.role.add(g.roleId);
  }
  const stored = lacking.user.size + lacking.group.size + lacking.role.size > 0 ? await storedNames(db, lacking) : null;
  return named.map(({ g, principal, role }) => {
    const name = principal ?? stored?.[g.principalKind].get(g.principalId) ?? '';
    return {
      entity: { entityType: g.entityType, entityId: g.entityId },
      userOrGroup:
        g.principalKind === 'user'
          ? { userId: g.principalId, userName: name, _type_: 13 }
          : { userGroupId: g.principalId, userGroupName: name, _type_: 15 },
      role: { roleId: g.roleId, roleName: role ?? stored?.role.get(g.roleId) ?? '', _type_: 120 },
    };
  });
}

async function storedNames(db: Executor, ids: { user: Set<number>; group: Set<number>; role: Set<number> }) {
  const [users, groups, roles] = await Promise.all([
    ids.user.size
      ? db
          .selectFrom('users')
          .select(['id', 'user_name as name'])
          .where('id', 'in', [...ids.user])
          .execute()
      : [],
    ids.group.size
      ? db
          .selectFrom('user_groups')
          .select(['id', 'name'])
          .where('id', 'in', [...ids.group])
          .execute()
      : [],
    ids.role.size
      ? db
          .selectFrom('roles')
          .select(['id', 'name'])
          .where('id', 'in', [...ids.role])
          .execute()
      : [],
  ]);
  const byId = (rows: Array<{ id: number; name: string }>) => new Map(rows.map((r) => [r.id, r.name]));
  return { user: byId(users), group: byId(groups), role: byId(roles) };
}

export function registerSecurityRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  r.get(
    '/Security/Explain',
    {
      schema: { querystring: ExplainQuery },
      config: {
        requires: {
          permission: 'Security Management',
          on: (req) => {
            const q = req.query as Static<typeof ExplainQuery>;
            return { type: q.entityType, id: q.entityId };
          },
          // Anyone may ask why they themselves may or may not do something.
          unless: (req, p) => (req.query as Static<typeof ExplainQuery>).userId === p.userId,
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const q = req.query;
      if (!isPermission(q.permission)) throw new CsError('INVALID_VALUE', `no permission named ${q.permission}`);
      const view = await viewOf(req);
      const { ref, companyId: company } = req.target as NonNullable<typeof req.target>;
      // The view knows every user's company: no query.
      const targetCompany = view.companyOfUser(q.userId);
      if (targetCompany === null || !canSeeCompany(view, p, targetCompany)) {
        throw new CsError('NOT_FOUND', `no user ${q.userId}`);
      }
      const answer = view.explain(q.userId, q.permission, ref);
      // A company's user in a CommCell group holds nothing outside its company, whatever the group holds: say so.
      const confined = targetCompany !== 0 && company !== targetCompany;
      return sendCs(req, reply, 'App_SecurityExplainResp', {
        allowed: answer.allowed,
        entity: { entityType: ref.type, entityId: ref.id, companyId: company },
        permission: q.permission,
        grants: await describeGrants(db, view, answer.grants),
        reason: confined
          ? "a company's users hold nothing outside their own company, whatever their user groups are granted"
          : answer.allowed
            ? ''
            : 'no association gives this permission here',
      });
    },
  );

  const pathEntity: Target = (req) => {
    const type = pathId(req, 'entityType');
    const id = pathId(req, 'entityId');
    return type === null || id === null ? null : { type, id };
  };

  r.get(
    '/Security/:entityType/:entityId',
    { config: { requires: { permission: 'Security Management', on: pathEntity } } },
    async (req, reply) => {
      const { ref } = req.target as NonNullable<typeof req.target>;
      const { type, id } = ref;
      const rows = await db
        .selectFrom('security_associations')
        .select(['entity_type', 'entity_id', 'principal_kind', 'principal_id', 'role_id'])
        .where('entity_type', '=', type)
        .where('entity_id', '=', id)
        .orderBy('id')
        .execute();
      const described = await describeGrants(
        db,
        await viewOf(req),
        rows.map((x) => ({
          entityType: x.entity_type,
          entityId: x.entity_id,
          principalKind: x.principal_kind,
          principalId: x.principal_id,
          roleId: x.role_id,
        })),
      );
      return sendCs(req, reply, 'App_GetSecurityAssociationsResp', {
        securityAssociations: [
          {
            entity: { entityType: type, entityId: id },
            securityAssociations: {
              associations: described.map((d) => ({ userOrGroup: [d.userOrGroup], properties: { role: d.role } })),
            },
          },
        ],
      });
    },
  );

  r.post(
    '/Security',
    {
      schema: { body: SecurityBody },
      config: {
        requires: { each: ['Security Management'], of: 'each entity of entityAssociated' },
        errorReply: (code, message) => [
          'App_SecurityAssociationResp',
          {
            response: [{ errorCode: code, warningCode: 0, warningMessage: message }],
            errorCode: code,
            errorMessage: message,
          },
        ],
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const op = parseAssociationOp(req.body.securityAssociations.associationsOperationType);
      if (!op)
        throw new CsError('BAD_REQUEST', 'associationsOperationType must be OVERWRITE, ADD or DELETE (1, 2 or 3)');
      const associations = req.body.securityAssociations.associations ?? [];
      if (op !== 'OVERWRITE' && associations.length === 0) {
        throw new CsError('BAD_REQUEST', `${op} needs at least one association`);
      }
      // Bounded work: entities × associations is capped before anything is looked up.
      checkEntitySide(req.body.entityAssociated.entity.length, associations.length);
      const now = ctx.clock();
      const view = await viewOf(req);

      const outcome = await ctx.store.db
        .transaction()
        .execute(async (tx) => {
          const resolver = new Resolver(tx, view, p);
          // 1. Every entity, before anything is expanded: it exists, the caller sees it and holds
          // Security Management on it. The first that fails refuses the request with one result,
          // after O(entities) work whatever the associations.
          const targets: Array<{ ref: EntityRef; company: number }> = [];
          for (const raw of req.body.entityAssociated.entity) {
            const ref = parseEntityRef(raw);
            try {
              if (!ref) {
                throw new CsError(
                  'INVALID_VALUE',
                  'entity needs entityType and entityId, or a typed id such as clientId',
                );
              }
              const company = await resolver.entityCompany(ref);
              await authorize(req, p, 'Security Management', ref, company).catch((e: unknown) => {
                const refusal = asCsError(e);
                throw refusal.kind === 'INSUFFICIENT_PRIVILEGES'
                  ? new CsError(refusal.kind, `${refusal.message}: Security Management on entity ${entityLabel(ref)}`)
                  : refusal;
              });
              targets.push({ ref, company });
            } catch (e) {
              const error = asCsError(e);
              return { items: [{ ref, entityCompany: -1, principal: null, role: null, error }], applied: false };
            }
          }
          // 2. Every association's principal and role, once each: O(associations).
          const named: Array<Pick<Item, 'principal' | 'role' | 'error'>> = [];
          for (const a of associations) {
            try {
              const principal = await resolver.principal(a.userOrGroup[0] as Record<string, unknown>);
              const role = await resolver.role(a.properties.role as Record<string, unknown>);
              named.push({ principal, role, error: null });
            } catch (e) {
              named.push({ principal: null, role: null, error: asCsError(e) });
            }
          }
          // 3. One item per entity and association, entity by entity (at most MAX_ITEMS, checked above).
          const items: Item[] = [];
          for (const { ref, company } of targets) {
            for (const n of named) {
              const item: Item = { ref, entityCompany: company, ...n };
              if (n.principal && n.role) {
                try {
                  checkGrant(view, p, ref, company, n.principal, n.role);
                } catch (e) {
                  item.error = asCsError(e);
                }
              }
              items.push(item);
            }
          }
          const overwritten = op === 'OVERWRITE' ? targets : [];
          if (items.some((i) => i.error)) return { items, applied: false };
          const removed = await apply(
            tx,
            op,
            items,
            now.toISOString(),
            { refs: overwritten.map((o) => o.ref) },
            { view, caller: p },
          );
          // Throwing rolls back what apply() already wrote.
          if (items.some((i) => i.error)) throw new Rollback(items);
          await bumpAuthzVersion(tx, [...items.map((i) => i.entityCompany), ...overwritten.map((o) => o.company)]);
          await appendAudit(tx, {
            actor: actorOf(p),
            companyId: overwritten[0]?.company ?? items[0]?.entityCompany ?? p.companyId,
            operation: `security.${op.toLowerCase()}`,
            targetType: 'security-associations',
            targetName: [...new Set(items.map((i) => `${i.ref?.type}:${i.ref?.id}`))].slice(0, 20).join(','),
            outcome: 'success',
            details: {
              entities: req.body.entityAssociated.entity.length,
              associations: items.slice(0, 100).map((i) => ({
                entity: i.ref,
                [i.principal?.kind === 'group' ? 'userGroup' : 'user']: i.principal?.name,
                role: i.role?.name,
              })),
              total: items.length,
              ...describeRemoved(view, removed),
            },
            sourceAddr: req.ip,
            at: now,
          });
          return { items, applied: true };
        })
        .catch((e: unknown) => {
          if (e instanceof Rollback) return { items: e.items, applied: false };
          throw e;
        });

      if (!outcome.applied) {
        // A refused request is a security event too, recorded on its own once nothing was applied.
        const failed = outcome.items.filter((i) => i.error);
        await ctx.store.db.transaction().execute((tx) =>
          appendAudit(tx, {
            actor: actorOf(p),
            operation: `security.${op.toLowerCase()}`,
            targetType: 'security-associations',
            outcome: 'failure',
            reason: failed[0]?.error?.message ?? '',
            details: {
              failed: failed.length,
              total: outcome.items.length,
              codes: [...new Set(failed.map((i) => i.error?.code))],
            },
            sourceAddr: req.ip,
            at: now,
          }),
        );
      }
      const response: ResultItem[] = outcome.items.map((i) =>
        i.error
          ? // cvpysdk reads errorString on failure; errorMessage is ours.
            {
              errorCode: i.error.code,
              warningCode: 0,
              warningMessage: i.error.message,
              errorString: i.error.message,
              errorMessage: i.error.message,
            }
          : outcome.applied
            ? { errorCode: 0, warningCode: 0, warningMessage: '' }
            : FAILED_BY_OTHERS,
      );
      return sendCs(req, reply, 'App_SecurityAssociationResp', { response });
    },
  );
}
