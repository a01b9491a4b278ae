import type { AuthzView, EntityRef } from '../../domain/authz.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import { type AssociationOp, parseAssociationOp, parseEntityRef } from '../../domain/entity-ref.js';
import { canSeeCompany } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import type { Tx } from '../../store/db.js';
import { CsError } from '../errors.js';
import { mustAssociate, mustKeepMaster } from '../guard.js';
import { checkPrincipalSide } from './limits.js';
import { type ResolvedPrincipal, type ResolvedRole, Resolver } from './resolve.js';

// The one implementation of writing security associations, shared by POST
// Security (entity side) and the user and user-group routes (principal side).

/** One association as the request names it, and what it resolved to. */
export interface Item {
  ref: EntityRef | null;
  entityCompany: number;
  principal: ResolvedPrincipal | null;
  role: ResolvedRole | null;
  error: CsError | null;
}

export const rowKey = (ref: EntityRef, p: ResolvedPrincipal, roleId: number) =>
  `${ref.type}:${ref.id}:${p.kind}:${p.id}:${roleId}`;

export class Rollback extends Error {
  constructor(readonly items: Item[]) {
    super('rollback');
  }
}

export function asCsError(e: unknown): CsError {
  if (e instanceof CsError && e.http === 200) return e;
  throw e;
}

/**
 * A grant must stay inside the principal's company, and may not give more
 * than the caller holds on that entity (no granting oneself Master).
 */
export function checkGrant(
  view: AuthzView,
  caller: Principal,
  ref: EntityRef,
  entityCompany: number,
  principal: ResolvedPrincipal,
  role: ResolvedRole,
): void {
  if (principal.companyId !== 0 && principal.companyId !== entityCompany) {
    throw new CsError('INVALID_VALUE', "a company's users and groups can only be granted on that company's entities");
  }
  if (role.companyId !== 0 && role.companyId !== entityCompany) {
    throw new CsError('INVALID_VALUE', "a company's custom role can only be used on that company's entities");
  }
  if (!canSeeCompany(view, caller, principal.companyId)) throw new CsError('NOT_FOUND');
  mustAssociate(view, caller, ref, role.id, role.name);
}

/** An association as stored, as apply() reports what it removed. */
export interface AssociationRow {
  entity_type: number;
  entity_id: number;
  principal_kind: 'user' | 'group';
  principal_id: number;
  role_id: number;
}

const keyOfRow = (r: AssociationRow) =>
  `${r.entity_type}:${r.entity_id}:${r.principal_kind}:${r.principal_id}:${r.role_id}`;

/**
 * Writes the items, and for OVERWRITE first removes whatever in the scope the
 * items do not list. Every removal, explicit (DELETE) or implied (OVERWRITE,
 * an empty list included), needs the same right as adding that association:
 * the caller holds the whole role on the entity (src/domain/escalation.ts).
 * Items were checked by the caller; the implied removals are checked here.
 * Returns the associations it removed, for the audit record.
 */
export async function apply(
  tx: Tx,
  op: AssociationOp,
  items: Item[],
  at: string,
  /** What OVERWRITE replaces: all associations of these entities, or all of this principal's. */
  scope: { refs: EntityRef[] } | { principal: ResolvedPrincipal },
  by: { view: AuthzView; caller: Principal },
): Promise<AssociationRow[]> {
  // Entity ids by type, in chunks: a 10 k-entity request is a few queries, not 10 k.
  const idsByType = new Map<number, Set<number>>();
  const note = (ref: EntityRef) => {
    const set = idsByType.get(ref.type) ?? new Set<number>();
    idsByType.set(ref.type, set.add(ref.id));
  };
  for (const i of items) if (i.ref) note(i.ref);
  // OVERWRITE with no associations still clears its entities.
  if ('refs' in scope) for (const ref of scope.refs) note(ref);
  const chunks = function* () {
    for (const [type, set] of idsByType) {
      const ids = [...set];
      for (let k = 0; k < ids.length; k += 1000) yield { type, ids: ids.slice(k, k + 1000) };
    }
  };
  const columns = ['entity_type', 'entity_id', 'principal_kind', 'principal_id', 'role_id'] as const;
  const removed: AssociationRow[] = [];
  const remove = async (rows: AssociationRow[]) => {
    for (const r of rows) {
      await tx
        .deleteFrom('security_associations')
        .where('entity_type', '=', r.entity_type)
        .where('entity_id', '=', r.entity_id)
        .where('principal_kind', '=', r.principal_kind)
        .where('principal_id', '=', r.principal_id)
        .where('role_id', '=', r.role_id)
        .execute();
      removed.push(r);
    }
  };
  if (op === 'OVERWRITE') {
    const inScope: AssociationRow[] = [];
    if ('principal' in scope) {
      inScope.push(
        ...(await tx
          .selectFrom('security_associations')
          .select(columns)
          .where('principal_kind', '=', scope.principal.kind)
          .where('principal_id', '=', scope.principal.id)
          .execute()),
      );
    } else {
      for (const { type, ids } of chunks()) {
        inScope.push(
          ...(await tx
            .selectFrom('security_associations')
            .select(columns)
            .where('entity_type', '=', type)
            .where('entity_id', 'in', ids)
            .execute()),
        );
      }
    }
    const kept = new Set(
      items.flatMap((i) => (i.ref && i.principal && i.role ? [rowKey(i.ref, i.principal, i.role.id)] : [])),
    );
    const dropped = inScope.filter((r) => !kept.has(keyOfRow(r)));
    const checked = new Set<string>();
    for (const r of dropped) {
      const key = `${r.entity_type}:${r.entity_id}:${r.role_id}`;
      if (checked.has(key)) continue;
      checked.add(key);
      const name = by.view.roleName(r.role_id) ?? `id ${r.role_id}`;
      mustAssociate(by.view, by.caller, { type: r.entity_type, id: r.entity_id }, r.role_id, name);
    }
    await remove(dropped);
  }
  // What exists now on the entities of this request, to answer duplicate ADDs
  // and DELETEs of nothing per item.
  const existing = new Set<string>();
  for (const { type, ids } of chunks()) {
    const rows = await tx
      .selectFrom('security_associations')
      .select(columns)
      .where('entity_type', '=', type)
      .where('entity_id', 'in', ids)
      .execute();
    for (const r of rows) existing.add(keyOfRow(r));
  }
  const inserts = [];
  for (const i of items) {
    if (!i.ref || !i.principal || !i.role) continue;
    const key = rowKey(i.ref, i.principal, i.role.id);
    if (op === 'DELETE') {
      if (!existing.has(key)) {
        i.error = new CsError('NOT_FOUND', 'no such association to delete');
        continue;
      }
      existing.delete(key);
      await remove([
        {
          entity_type: i.ref.type,
          entity_id: i.ref.id,
          principal_kind: i.principal.kind,
          principal_id: i.principal.id,
          role_id: i.role.id,
        },
      ]);
      continue;
    }
    if (existing.has(key)) {
      // OVERWRITE lists the wanted state: naming one twice is no error.
      if (op === 'ADD') i.error = new CsError('ALREADY_EXISTS', 'that association already exists');
      continue;
    }
    existing.add(key);
    inserts.push({
      entity_type: i.ref.type,
      entity_id: i.ref.id,
      principal_kind: i.principal.kind,
      principal_id: i.principal.id,
      role_id: i.role.id,
      company_id: i.entityCompany,
      created_at: at,
    });
  }
  for (let k = 0; k < inserts.length; k += 500) {
    await tx
      .insertInto('security_associations')
      .values(inserts.slice(k, k + 500))
      .execute();
  }
  // Taking away Master can leave the CommCell without one: refused, whoever asks.
  if (removed.length > 0) await mustKeepMaster(tx);
  return removed;
}

/** Removed associations as an audit record lists them (the first 100, and how many). */
export function describeRemoved(view: AuthzView, rows: readonly AssociationRow[]) {
  return {
    removedCount: rows.length,
    removed: rows.slice(0, 100).map((r) => ({
      entity: { type: r.entity_type, id: r.entity_id },
      [r.principal_kind === 'group' ? 'userGroup' : 'user']:
        (r.principal_kind === 'group' ? view.groupName(r.principal_id) : view.userName(r.principal_id)) ??
        r.principal_id,
      role: view.roleName(r.role_id) ?? r.role_id,
    })),
  };
}

/** cvpysdk's names for entities on the principal side. */
const NAME_KEYS: Readonly<Record<string, number>> = {
  clientName: ENTITY_TYPES.client,
  clientGroupName: ENTITY_TYPES.clientGroup,
  planName: ENTITY_TYPES.plan,
  storagePolicyName: ENTITY_TYPES.storagePolicy,
  schedulePolicyName: ENTITY_TYPES.schedulePolicy,
  alertName: ENTITY_TYPES.alert,
  workflowName: ENTITY_TYPES.workflow,
  providerDomainName: ENTITY_TYPES.company,
};

async function entityOf(resolver: Resolver, raw: Record<string, unknown>): Promise<EntityRef> {
  const ref = parseEntityRef(raw);
  if (ref) return ref;
  for (const [key, type] of Object.entries(NAME_KEYS)) {
    if (typeof raw[key] === 'string') return resolver.entityByName(type, raw[key] as string);
  }
  throw new CsError('INVALID_VALUE', `an entity must be named by id or by one of ${Object.keys(NAME_KEYS).join(', ')}`);
}

/**
 * Associations written from the principal's side, as cvpysdk sends them in
 * POST User, POST User/{id}, POST UserGroup and POST UserGroup/{id}:
 * `{"associationsOperationType", "associations": [{"entities": {"entity": [{"clientName": …}]}, "properties": {"role": {…}}}]}`.
 * Runs in the caller's transaction; the first bad association throws, so the
 * whole request (a user creation included) rolls back. Returns how many
 * associations were named and which ones an OVERWRITE removed.
 */
export async function applyPrincipalAssociations(
  tx: Tx,
  view: AuthzView,
  caller: Principal,
  principal: ResolvedPrincipal,
  block: unknown,
  at: string,
): Promise<{ named: number; removed: AssociationRow[] }> {
  if (block === null || typeof block !== 'object') return { named: 0, removed: [] };
  const b = block as { associationsOperationType?: unknown; associations?: unknown };
  const list = b.associations === undefined ? [] : Array.isArray(b.associations) ? b.associations : [b.associations];
  if (list.length === 0 && b.associationsOperationType === undefined) return { named: 0, removed: [] };
  const op = parseAssociationOp(b.associationsOperationType ?? 'ADD');
  if (!op) throw new CsError('BAD_REQUEST', 'associationsOperationType must be OVERWRITE, ADD or DELETE (1, 2 or 3)');
  // Bounded work: the entities of all associations are counted before any is looked up.
  checkPrincipalSide(list);
  const resolver = new Resolver(tx, view, caller);
  const items: Item[] = [];
  for (const a of list as Array<Record<string, unknown>>) {
    const entities = (a?.entities as { entity?: unknown } | undefined)?.entity;
    const role = (a?.properties as { role?: unknown } | undefined)?.role;
    if (entities === undefined || role === null || typeof role !== 'object') {
      throw new CsError('BAD_REQUEST', 'each association needs entities.entity and properties.role');
    }
    for (const raw of (Array.isArray(entities) ? entities : [entities]) as Array<Record<string, unknown>>) {
      const ref = await entityOf(resolver, raw ?? {});
      const entityCompany = await resolver.entityCompany(ref);
      if (!view.allowed(caller.userId, 'Security Management', ref)) throw new CsError('INSUFFICIENT_PRIVILEGES');
      const resolvedRole = await resolver.role(role as Record<string, unknown>);
      checkGrant(view, caller, ref, entityCompany, principal, resolvedRole);
      items.push({ ref, entityCompany, principal, role: resolvedRole, error: null });
    }
  }
  const removed = await apply(tx, op, items, at, { principal }, { view, caller });
  const failed = items.find((i) => i.error);
  if (failed?.error) throw failed.error;
  return { named: items.length, removed };
}
