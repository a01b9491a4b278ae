import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, type TObject, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import type { Principal } from '../../domain/principal.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import { isUniqueViolation } from '../../store/directory.js';
import {
  type CompanyAccess,
  clientsOfGroup,
  createEntityFromSpec,
  deleteEntity,
  type EntityKind,
  type EntityRow,
  entityById,
  entityName,
  groupsOfClient,
  ImportConflictError,
  type ImportLineError,
  type ImportResult,
  importEntities,
  type LineErrorKind,
  listEntities,
  MAX_NAME,
  parseKind,
  renameEntity,
} from '../../store/entities.js';
import { actorOf, pathId } from '../actor.js';
import { sendCs } from '../codec.js';
import { CsError, type CsErrorName } from '../errors.js';
import { principalOf } from '../plugin.js';
import { Bool, Int, toBool, toInt } from '../schema.js';

// ---------------------------------------------------------------------------
// Who may do what. The one permission decision of this family, kept here so
// it can be swapped for the association engine in one place: the CommCell's
// administrators everywhere, a company's Tenant Admins in their company;
// everyone reads their own company's entities. Another company's entities
// are "not found", never "forbidden".

export function canWriteCompany(p: Principal, companyId: number): boolean {
  return p.commcellAdmin || (p.tenantAdmin && companyId === p.companyId);
}

export function canReadCompany(p: Principal, companyId: number): boolean {
  return p.commcellAdmin || companyId === p.companyId;
}

function accessOf(p: Principal): (companyId: number) => CompanyAccess {
  return (c) => (!canReadCompany(p, c) ? 'hidden' : canWriteCompany(p, c) ? 'write' : 'read-only');
}

/** Whose entities a list shows: everyone's for the CommCell's administrators (undefined), else one company's. */
function listScope(p: Principal): number | undefined {
  return p.commcellAdmin ? undefined : p.companyId;
}

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
});
export type CreateEntityBody = Static<typeof CreateEntityBody>;

export const RenameEntityBody = Type.Object({ name: NameText });
export type RenameEntityBody = Static<typeof RenameEntityBody>;

export const EntitiesQuery = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 40 })),
  companyId: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type EntitiesQuery = Static<typeof EntitiesQuery>;

/** The product's lists return everything; paging is optional here. */
export const PageQuery = Type.Object({
  offset: Type.Optional(Int({ minimum: 0 })),
  limit: Type.Optional(Int({ minimum: 1 })),
});
export type PageQuery = Static<typeof PageQuery>;

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
  });
}

function routes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  /** An entity of `kind` the caller may see; NOT_FOUND otherwise (also for another company's). */
  async function visibleEntity(p: Principal, id: number | null, kind?: EntityKind): Promise<EntityRow> {
    const e = id === null ? undefined : await entityById(db, id);
    if (!e || (kind !== undefined && e.type !== ENTITY_TYPES[kind]) || !canReadCompany(p, e.company_id)) {
      throw new CsError('NOT_FOUND', kind ? `no ${kind} with id ${id ?? ''}` : `no entity with id ${id ?? ''}`);
    }
    return e;
  }

  function pathKind(req: FastifyRequest): EntityKind {
    const raw = (req.params as Record<string, string>).type ?? '';
    const kind = parseKind(raw);
    if (!kind) throw new CsError('NOT_FOUND', `no entity type ${JSON.stringify(raw.slice(0, 40))}`);
    return kind;
  }

  // -- writes ---------------------------------------------------------------

  r.post('/Entities/Import', { schema: { querystring: ImportQuery } }, async (req, reply) => {
    const p = principalOf(req);
    if (typeof req.body !== 'string') {
      throw new CsError('UNSUPPORTED_MEDIA_TYPE', 'send the entities as application/x-ndjson, one JSON object a line');
    }
    if (!canWriteCompany(p, p.companyId)) throw new CsError('INSUFFICIENT_PRIVILEGES');
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
        access: accessOf(p),
        onResult: (x: ImportResult) => results.push({ line: x.line, entityType: x.entityType, entityId: x.entityId }),
        onError: (e) => errors.push(e),
      });
    } catch (e) {
      if (e instanceof ImportConflictError) throw new CsError('ALREADY_EXISTS', `${e.message}; try again`);
      throw e;
    }
    errors.sort((a, b) => a.line - b.line);
    const body: ImportReply = {
      imported: summary.imported,
      results: summary.committed ? results : [],
      errors: errors.map((e) => ({ line: e.line, message: e.message })),
    };
    return sendCs(req, reply, 'EntityImportResp', body as unknown as Record<string, unknown>);
  });

  /** POST Entities: one import-shaped entity, checked as an import line is, audited as a create. */
  async function createOne(p: Principal, body: CreateEntityBody, sourceAddr: string, now: Date) {
    try {
      return await db.transaction().execute(async (tx) => {
        const r = await createEntityFromSpec(tx, ctx.store.dialect, body, {
          actor: actorOf(p),
          clock: () => now,
          defaultCompanyId: p.companyId,
          access: accessOf(p),
        });
        if (!r.ok) throw new CsError(ERROR_OF[r.error.kind], r.error.message);
        const e = r.result;
        await bumpAuthzVersion(tx);
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

  r.post('/Entities', { schema: { body: CreateEntityBody } }, async (req, reply) => {
    const p = principalOf(req);
    if (!canWriteCompany(p, p.companyId)) throw new CsError('INSUFFICIENT_PRIVILEGES');
    const now = ctx.clock();
    const created = await createOne(p, req.body, req.ip, now);
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
  });

  r.post('/Entities/:type/:id', { schema: { body: RenameEntityBody } }, async (req, reply) => {
    const p = principalOf(req);
    const e = await visibleEntity(p, pathId(req), pathKind(req));
    if (!canWriteCompany(p, e.company_id)) throw new CsError('INSUFFICIENT_PRIVILEGES');
    const name = entityName(req.body.name);
    if (name === null)
      throw new CsError('INVALID_VALUE', 'name must be 1 to 256 characters without control characters');
    const now = ctx.clock();
    try {
      await db.transaction().execute(async (tx) => {
        await renameEntity(tx, e.id, name);
        await bumpAuthzVersion(tx);
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
  });

  r.delete('/Entities/:type/:id', async (req, reply) => {
    const p = principalOf(req);
    const e = await visibleEntity(p, pathId(req), pathKind(req));
    if (!canWriteCompany(p, e.company_id)) throw new CsError('INSUFFICIENT_PRIVILEGES');
    const now = ctx.clock();
    const removed = await db.transaction().execute(async (tx) => {
      const removed = await deleteEntity(tx, e.id);
      await bumpAuthzVersion(tx);
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

  r.get('/Entities', { schema: { querystring: EntitiesQuery } }, async (req, reply) => {
    const p = principalOf(req);
    const q = req.query;
    let type: number | undefined;
    if (q.type !== undefined && q.type !== '') {
      const kind = parseKind(q.type);
      if (!kind) throw new CsError('INVALID_VALUE', `unknown entity type "${q.type.slice(0, 40)}"`);
      type = ENTITY_TYPES[kind];
    }
    let companyId = listScope(p);
    if (q.companyId !== undefined) {
      // Another company's entities are simply none.
      if (!canReadCompany(p, q.companyId)) return sendCs(req, reply, 'EntitiesResp', { entities: [], total: 0 });
      companyId = q.companyId;
    }
    const { rows, total } = await listEntities(db, {
      type,
      companyId,
      offset: q.offset ?? 0,
      limit: q.limit ?? 100,
    });
    return sendCs(req, reply, 'EntitiesResp', { entities: rows.map(entityView), total });
  });

  const page = (q: PageQuery) => ({
    offset: q.offset === undefined ? 0 : toInt(q.offset),
    limit: q.limit === undefined ? undefined : toInt(q.limit),
  });

  const clientEntity = (e: EntityRow) => ({
    clientId: e.id,
    clientName: e.name,
    displayName: e.name,
    hostName: e.name,
  });

  r.get('/Client', { schema: { querystring: PageQuery } }, async (req, reply) => {
    const p = principalOf(req);
    const { rows } = await listEntities(db, { type: ENTITY_TYPES.client, companyId: listScope(p), ...page(req.query) });
    return sendCs(req, reply, 'App_GetClientPropertiesResponse', {
      clientProperties: rows.map((e) => ({ client: { clientEntity: clientEntity(e) } })),
    });
  });

  r.get('/Client/:id', async (req, reply) => {
    const p = principalOf(req);
    const e = await visibleEntity(p, pathId(req), 'client');
    const groups = await groupsOfClient(db, e.id);
    return sendCs(req, reply, 'App_GetClientPropertiesResponse', {
      clientProperties: [
        {
          client: { clientEntity: clientEntity(e) },
          clientGroups: groups.map((g) => ({ clientGroupId: g.id, clientGroupName: g.name })),
          clientProps: { companyId: e.company_id },
        },
      ],
    });
  });

  r.get('/ClientGroup', { schema: { querystring: PageQuery } }, async (req, reply) => {
    const p = principalOf(req);
    const { rows } = await listEntities(db, {
      type: ENTITY_TYPES.clientGroup,
      companyId: listScope(p),
      ...page(req.query),
    });
    return sendCs(req, reply, 'App_GetClientGroupsResponse', { groups: rows.map((g) => ({ Id: g.id, name: g.name })) });
  });

  r.get('/ClientGroup/:id', async (req, reply) => {
    const p = principalOf(req);
    const g = await visibleEntity(p, pathId(req), 'clientGroup');
    const clients = await clientsOfGroup(db, g.id);
    return sendCs(req, reply, 'App_PerformClientGroupResp', {
      clientGroupDetail: {
        clientGroup: { clientGroupId: g.id, clientGroupName: g.name },
        associatedClients: clients.map((c) => ({ clientId: c.id, clientName: c.name })),
      },
    });
  });

  r.get('/Plan', { schema: { querystring: PageQuery } }, async (req, reply) => {
    const p = principalOf(req);
    const { rows } = await listEntities(db, { type: ENTITY_TYPES.plan, companyId: listScope(p), ...page(req.query) });
    return sendCs(req, reply, 'App_GetPlansResponse', {
      plans: rows.map((e) => ({ plan: { planId: e.id, planName: e.name } })),
    });
  });

  r.get('/Plan/:id', async (req, reply) => {
    const p = principalOf(req);
    const e = await visibleEntity(p, pathId(req), 'plan');
    return sendCs(req, reply, 'App_GetPlanResponse', {
      plan: { summary: { plan: { planId: e.id, planName: e.name } }, storage: { copy: [] } },
    });
  });
}
