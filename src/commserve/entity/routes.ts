import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, type TObject, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { AuthzView } from '../../domain/authz.js';
import { ENTITY_TYPES, type Permission } from '../../domain/catalogue.js';
import { canSeeCompany, companyRef } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import {
  type CompanyAccess,
  createEntityFromSpec,
  ImportConflictError,
  type ImportLineError,
  type ImportResult,
  importEntities,
  type LineErrorKind,
} from '../../import/entities.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import { companyIds, isUniqueViolation } from '../../store/directory.js';
import {
  clientsOfGroup,
  deleteEntity,
  type EntityKind,
  type EntityRow,
  isConstraintViolation,
  listEntities,
  MAX_NAME,
  parseKind,
  renameEntity,
} from '../../store/entities.js';
import { actorOf, pathId } from '../actor.js';
import { authorize, listScope, type Requirement, sees, type Target, viewOf } from '../authorize.js';
import { clientDetails } from '../browse/navigation.js';
import { sendCs } from '../codec.js';
import { CsError, type CsErrorName } from '../errors.js';
import { readName } from '../names.js';
import { PagingQuery, readPaging } from '../paging.js';
import { principalOf } from '../plugin.js';
import { Bool, toBool } from '../schema.js';
import { accountOut, registerAccountRoutes } from './accounts.js';

// ---------------------------------------------------------------------------
// Who may do what: seeing an entity takes View on it; creating, renaming and
// deleting take Administrative Management (on the company for a create, on
// the entity itself otherwise). Another company's entities are "not found",
// never "forbidden".

const MANAGE: Permission = 'Administrative Management';

/** How an import line may touch a company: by the caller's Administrative Management there. */
function accessOf(view: AuthzView, p: Principal): (companyId: number) => CompanyAccess {
  return (c) =>
    !canSeeCompany(view, p, c) ? 'hidden' : view.allowed(p.userId, MANAGE, companyRef(c)) ? 'write' : 'read-only';
}

/** The entity a path names: `/Entities/{type}/{id}`, or a fixed kind such as `/Client/{id}`. */
function pathEntity(kind?: EntityKind): Target {
  return (req) => {
    const k = kind ?? parseKind((req.params as Record<string, string>).type ?? '');
    const id = pathId(req);
    return k === undefined || id === null ? null : { type: ENTITY_TYPES[k], id };
  };
}

const seeEntity = (kind?: EntityKind) => ({ permission: 'View', on: pathEntity(kind) }) satisfies Requirement;
const manageEntity = { permission: MANAGE, on: pathEntity() } satisfies Requirement;
const listsEntities = { signedIn: 'lists only the entities the caller holds View on' };
const createsEntities = { each: [MANAGE], of: "each entity's company" } satisfies Requirement;

// ---------------------------------------------------------------------------
// Schemas

export const ImportQuery = Type.Object({ partial: Type.Optional(Bool()) });
export type ImportQuery = Static<typeof ImportQuery>;

const NameText = Type.String({ minLength: 1, maxLength: MAX_NAME });
const TypeText = Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Integer()]);

/** A parent by type and name, with its own parent when the name alone is ambiguous (four levels at most). */
function parentRef(depth: number): TObject {
  return Type.Object({
    type: TypeText,
    name: NameText,
    ...(depth > 1 ? { parent: Type.Optional(parentRef(depth - 1)) } : {}),
  });
}
const ParentRefSchema = parentRef(4);

/** One entity, as one line of an import. */
export const CreateEntityBody = Type.Object({
  type: TypeText,
  name: NameText,
  company: Type.Optional(Type.String({ maxLength: 256 })),
  parent: Type.Optional(ParentRefSchema),
  clientGroups: Type.Optional(Type.Array(NameText, { maxItems: 1000 })),
  appId: Type.Optional(Type.Integer()),
  os: Type.Optional(Type.String({ maxLength: 40 })),
  account: Type.Optional(
    Type.Object({
      userName: Type.Optional(Type.String({ maxLength: 256 })),
      password: Type.Optional(Type.String({ maxLength: 8192 })),
    }),
  ),
});
export type CreateEntityBody = Static<typeof CreateEntityBody>;

export const RenameEntityBody = Type.Object({ name: NameText });
export type RenameEntityBody = Static<typeof RenameEntityBody>;

export const EntitiesQuery = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 40 })),
  companyId: Type.Optional(Type.Integer({ minimum: 0 })),
  ...PagingQuery.properties,
});
export type EntitiesQuery = Static<typeof EntitiesQuery>;

export interface ImportReply {
  imported: number;
  results: Array<{ line: number; entityType: number; entityId: number }>;
  errors: Array<{ line: number; message: string }>;
}

export interface EntityView {
  entityType: number;
  entityId: number;
  name: string;
  companyId: number;
  parentId: number;
}

const ERROR_OF: Record<LineErrorKind, CsErrorName> = {
  invalid: 'INVALID_VALUE',
  'not-found': 'NOT_FOUND',
  exists: 'ALREADY_EXISTS',
  forbidden: 'INSUFFICIENT_PRIVILEGES',
};

const entityView = (e: EntityRow): EntityView => ({
  entityType: e.type,
  entityId: e.id,
  name: e.name,
  companyId: e.company_id,
  parentId: e.parent_id ?? 0,
});

function* linesOf(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    yield text.slice(start, end);
    start = end + 1;
  }
}

// ---------------------------------------------------------------------------

/**
 * The entity tree: POST Entities/Import (JSON lines), POST Entities, rename
 * and delete, the generic GET Entities, and the product-shaped reads
 * (GET Client, ClientGroup, Plan). Registered in its own scope so that only
 * these routes take application/x-ndjson.
 */
export function registerEntityRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.register(async (scope) => {
    // Read as a string so the body limit holds; the importer parses each line.
    scope.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_req, body, done) => {
      done(null, body);
    });
    routes(scope, ctx);
    registerAccountRoutes(scope, ctx);
  });
}

function routes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db, dialect } = ctx.store;

  /**
   * The path's entity, once the route's requirement has found it and let the
   * caller see it. Read from the request's permission view, which holds the
   * whole tree with names and is as fresh as a query would be: every write to
   * an entity moves the version the view is checked against.
   */
  async function targetEntity(req: FastifyRequest): Promise<EntityRow> {
    const { ref } = req.target as NonNullable<typeof req.target>;
    const e = (await viewOf(req)).entity(ref);
    if (!e) throw new CsError('NOT_FOUND', `no entity with id ${ref.id}`);
    return { id: e.id, type: e.type, company_id: e.companyId, parent_id: e.parentId, name: e.name };
  }

  /**
   * What a list shows: every company's entities with View on the CommCell;
   * else those of the companies the caller holds View on, and, in its own
   * company, the single entities it holds View on (through a client group,
   * say), picked out of that company's entities in memory.
   */
  async function visibleScope(req: FastifyRequest, p: Principal, type?: number) {
    const scope = await listScope(req, p, 'View', () => companyIds(db));
    if (scope.all) return undefined;
    const ids: number[] = [];
    if (!scope.companies.includes(p.companyId)) {
      const view = await viewOf(req);
      let own = db.selectFrom('entities').select(['id', 'type']).where('company_id', '=', p.companyId);
      if (type !== undefined) own = own.where('type', '=', type);
      for (const e of await own.execute()) {
        if (view.allowed(p.userId, 'View', { type: e.type, id: e.id })) ids.push(e.id);
      }
    }
    return { companies: scope.companies, ids };
  }

  // -- writes ---------------------------------------------------------------

  r.post(
    '/Entities/Import',
    { schema: { querystring: ImportQuery }, config: { requires: createsEntities } },
    async (req, reply) => {
      const p = principalOf(req);
      if (typeof req.body !== 'string') {
        throw new CsError(
          'UNSUPPORTED_MEDIA_TYPE',
          'send the entities as application/x-ndjson, one JSON object a line',
        );
      }
      // Most imports fill the caller's own company: refuse up front rather than line by line.
      await authorize(req, p, MANAGE, companyRef(p.companyId), p.companyId);
      const view = await viewOf(req);
      const partial = req.query.partial !== undefined && toBool(req.query.partial);
      const results: ImportReply['results'] = [];
      const errors: ImportLineError[] = [];
      let summary: Awaited<ReturnType<typeof importEntities>>;
      try {
        summary = await importEntities(ctx.store, linesOf(req.body), {
          partial,
          actor: actorOf(p),
          sourceAddr: req.ip,
          clock: ctx.clock,
          defaultCompanyId: p.companyId,
          access: accessOf(view, p),
          vault: ctx.vault,
          onResult: (x: ImportResult) => results.push({ line: x.line, entityType: x.entityType, entityId: x.entityId }),
          onError: (e) => errors.push(e),
        });
      } catch (e) {
        if (e instanceof ImportConflictError) throw new CsError('ALREADY_EXISTS', `${e.message}; try again`);
        // The import's transaction rolled back on a write that a concurrent change
        // made impossible (a name taken or a parent deleted after it was checked,
        // or PostgreSQL breaking a deadlock between two imports): nothing was
        // written, and the caller may retry. Found as a 500 by test/fuzz-bodies on
        // PostgreSQL, where concurrent imports run at once.
        const code = (e as { code?: string })?.code;
        if (isConstraintViolation(e) || code === '40P01' || code === '40001') {
          throw new CsError(
            'ALREADY_EXISTS',
            'the import conflicts with a concurrent change to the entities; try again',
          );
        }
        throw e;
      }
      errors.sort((a, b) => a.line - b.line);
      const body: ImportReply = {
        imported: summary.imported,
        results: summary.committed ? results : [],
        errors: errors.map((e) => ({ line: e.line, message: e.message })),
      };
      return sendCs(req, reply, 'EntityImportResp', body as unknown as Record<string, unknown>);
    },
  );

  /** POST Entities: one import-shaped entity, checked as an import line is, audited as a create. */
  async function createOne(p: Principal, view: AuthzView, body: CreateEntityBody, sourceAddr: string, now: Date) {
    try {
      return await db.transaction().execute(async (tx) => {
        const r = await createEntityFromSpec(tx, ctx.store.dialect, body, {
          actor: actorOf(p),
          clock: () => now,
          defaultCompanyId: p.companyId,
          access: accessOf(view, p),
          vault: ctx.vault,
        });
        if (!r.ok) throw new CsError(ERROR_OF[r.error.kind], r.error.message);
        const e = r.result;
        await bumpAuthzVersion(tx, [e.companyId]);
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: e.companyId,
          operation: 'entity.create',
          targetType: String(e.entityType),
          targetId: e.entityId,
          targetName: e.name,
          outcome: 'success',
          details: { parentId: e.parentId ?? 0, clientGroups: body.clientGroups ?? [] },
          sourceAddr,
          at: now,
        });
        return e;
      });
    } catch (e) {
      if (e instanceof ImportConflictError) throw new CsError('ALREADY_EXISTS', `${e.message}; try again`);
      throw e;
    }
  }

  r.post(
    '/Entities',
    { schema: { body: CreateEntityBody }, config: { requires: createsEntities } },
    async (req, reply) => {
      const p = principalOf(req);
      await authorize(req, p, MANAGE, companyRef(p.companyId), p.companyId);
      const now = ctx.clock();
      const created = await createOne(p, await viewOf(req), req.body, req.ip, now);
      return sendCs(req, reply, 'EntityResp', {
        errorCode: 0,
        errorMessage: '',
        entity: {
          entityType: created.entityType,
          entityId: created.entityId,
          name: created.name,
          companyId: created.companyId,
          parentId: created.parentId ?? 0,
        },
      });
    },
  );

  r.post(
    '/Entities/:type/:id',
    { schema: { body: RenameEntityBody }, config: { requires: manageEntity } },
    async (req, reply) => {
      const p = principalOf(req);
      const e = await targetEntity(req);
      const name = readName(req.body.name, 'name', MAX_NAME);
      const now = ctx.clock();
      try {
        await db.transaction().execute(async (tx) => {
          await renameEntity(tx, e.id, name);
          await bumpAuthzVersion(tx, [e.company_id]);
          await appendAudit(tx, {
            actor: actorOf(p),
            companyId: e.company_id,
            operation: 'entity.rename',
            targetType: String(e.type),
            targetId: e.id,
            targetName: name,
            outcome: 'success',
            details: { from: e.name, to: name },
            sourceAddr: req.ip,
            at: now,
          });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new CsError('ALREADY_EXISTS', `the name "${name}" is already used there`);
        throw err;
      }
      return sendCs(req, reply, 'EntityResp', { errorCode: 0, errorMessage: '', entity: entityView({ ...e, name }) });
    },
  );

  r.delete('/Entities/:type/:id', { config: { requires: manageEntity } }, async (req, reply) => {
    const p = principalOf(req);
    const e = await targetEntity(req);
    const now = ctx.clock();
    const removed = await db.transaction().execute(async (tx) => {
      const removed = await deleteEntity(tx, e.id);
      await bumpAuthzVersion(tx, [e.company_id]);
      await appendAudit(tx, {
        actor: actorOf(p),
        companyId: e.company_id,
        operation: 'entity.delete',
        targetType: String(e.type),
        targetId: e.id,
        targetName: e.name,
        outcome: 'success',
        details: { entitiesRemoved: removed.entities, associationsRemoved: removed.associations },
        sourceAddr: req.ip,
        at: now,
      });
      return removed;
    });
    return sendCs(req, reply, 'App_GenericResp', { errorCode: 0, errorMessage: '', removed: removed.entities });
  });

  // -- reads ----------------------------------------------------------------

  r.get(
    '/Entities',
    { schema: { querystring: EntitiesQuery }, config: { requires: listsEntities } },
    async (req, reply) => {
      const p = principalOf(req);
      const q = req.query;
      const page = readPaging(q, 100);
      let type: number | undefined;
      if (q.type !== undefined && q.type !== '') {
        const kind = parseKind(q.type);
        if (!kind) throw new CsError('INVALID_VALUE', `unknown entity type "${q.type.slice(0, 40)}"`);
        type = ENTITY_TYPES[kind];
      }
      // Another company's entities are simply none.
      if (q.companyId !== undefined && !(await sees(req, p, q.companyId))) {
        return sendCs(req, reply, 'EntitiesResp', { entities: [], total: 0 });
      }
      const { rows, total } = await listEntities(db, dialect, {
        type,
        companyId: q.companyId,
        scope: await visibleScope(req, p, type),
        ...page,
      });
      return sendCs(req, reply, 'EntitiesResp', { entities: rows.map(entityView), total });
    },
  );

  const clientEntity = (e: EntityRow) => ({
    clientId: e.id,
    clientName: e.name,
    displayName: e.name,
    hostName: e.name,
  });

  const listOf = async (req: FastifyRequest, type: number) =>
    listEntities(db, dialect, {
      type,
      scope: await visibleScope(req, principalOf(req), type),
      // The product's lists return everything unless paged.
      ...readPaging(req.query as PagingQuery),
    });

  r.get(
    '/Client',
    { schema: { querystring: PagingQuery }, config: { requires: listsEntities } },
    async (req, reply) => {
      const { rows } = await listOf(req, ENTITY_TYPES.client);
      return sendCs(req, reply, 'App_GetClientPropertiesResponse', {
        clientProperties: rows.map((e) => ({ client: { clientEntity: clientEntity(e) } })),
      });
    },
  );

  r.get('/Client/:id', { config: { requires: seeEntity('client') } }, async (req, reply) => {
    const e = await targetEntity(req);
    const view = await viewOf(req);
    // What cvpysdk's Client reads besides the entity (osInfo, activity control): src/commserve/browse/navigation.ts.
    const more = await clientDetails(db, e.id);
    return sendCs(req, reply, 'App_GetClientPropertiesResponse', {
      clientProperties: [
        {
          client: { clientEntity: clientEntity(e), ...more.client },
          clientGroups: view.clientGroupsOf(e.id).map((id) => ({
            clientGroupId: id,
            clientGroupName: view.entity({ type: ENTITY_TYPES.clientGroup, id })?.name ?? '',
          })),
          clientProps: {
            companyId: e.company_id,
            ...more.clientProps,
            // The client's impersonation account (user name only; src/commserve/entity/accounts.ts).
            impersonateUser: await accountOut(db, e.id, 'clientImpersonation'),
          },
        },
      ],
    });
  });

  r.get(
    '/ClientGroup',
    { schema: { querystring: PagingQuery }, config: { requires: listsEntities } },
    async (req, reply) => {
      const { rows } = await listOf(req, ENTITY_TYPES.clientGroup);
      return sendCs(req, reply, 'App_GetClientGroupsResponse', {
        groups: rows.map((g) => ({ Id: g.id, name: g.name })),
      });
    },
  );

  r.get('/ClientGroup/:id', { config: { requires: seeEntity('clientGroup') } }, async (req, reply) => {
    const g = await targetEntity(req);
    const clients = await clientsOfGroup(db, g.id);
    return sendCs(req, reply, 'App_PerformClientGroupResp', {
      clientGroupDetail: {
        clientGroup: { clientGroupId: g.id, clientGroupName: g.name },
        associatedClients: clients.map((c) => ({ clientId: c.id, clientName: c.name })),
      },
    });
  });

  r.get('/Plan', { schema: { querystring: PagingQuery }, config: { requires: listsEntities } }, async (req, reply) => {
    const { rows } = await listOf(req, ENTITY_TYPES.plan);
    return sendCs(req, reply, 'App_GetPlansResponse', {
      plans: rows.map((e) => ({ plan: { planId: e.id, planName: e.name } })),
    });
  });

  r.get('/Plan/:id', { config: { requires: seeEntity('plan') } }, async (req, reply) => {
    const e = await targetEntity(req);
    return sendCs(req, reply, 'App_GetPlanResponse', {
      plan: { summary: { plan: { planId: e.id, planName: e.name } }, storage: { copy: [] } },
    });
  });
}
