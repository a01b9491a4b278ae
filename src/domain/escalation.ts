import type { AuthzView, EntityRef } from './authz.js';
import { PERMISSIONS, type Permission } from './catalogue.js';
import { COMMCELL } from './permissions.js';

/**
 * The no-escalation rules, after Kubernetes RBAC's escalation prevention: a
 * caller may write something that grants permissions only when it already
 * holds every one of them where they would apply, and may take control of a
 * principal only when it already holds everything that principal holds.
 * Every write path (associations from either side, group membership, role
 * edits, password and enable changes, deletes) asks these functions; none
 * decides on its own.
 *
 * Holding is read from the permission view: a principal holds what its own
 * associations and those of its groups grant (a custom role counts as its
 * permissions), and a company's user holds nothing outside its company.
 */

/** Where, and what, the caller lacks. */
export interface Shortfall {
  ref: EntityRef;
  missing: Permission[];
}

export interface PrincipalRef {
  kind: 'user' | 'group';
  id: number;
}

/** The permissions of `permissions` that `userId` does not hold on `ref`. */
export function lacking(
  view: AuthzView,
  userId: number,
  ref: EntityRef,
  permissions: readonly Permission[],
): Permission[] {
  return permissions.filter((p) => !view.allowed(userId, p, ref));
}

/** Master on the CommCell: every permission everywhere, so nothing is beyond it. */
function holdsEverything(view: AuthzView, userId: number): boolean {
  return view.companyOfUser(userId) === 0 && lacking(view, userId, COMMCELL, PERMISSIONS).length === 0;
}

/** What must be held where: the first (entity, permissions) the caller lacks anything of, or null. */
function firstShortfall(
  view: AuthzView,
  userId: number,
  needs: Iterable<{ ref: EntityRef; permissions: readonly Permission[] }>,
): Shortfall | null {
  for (const { ref, permissions } of needs) {
    const missing = lacking(view, userId, ref, permissions);
    if (missing.length > 0) return { ref, missing };
  }
  return null;
}

/** The same permissions on each of `refs`. */
const onEach = function* (refs: Iterable<EntityRef>, permissions: readonly Permission[]) {
  for (const ref of refs) yield { ref, permissions };
};

/**
 * Adding or removing an association of `roleId` on `ref`: only by a caller
 * that holds every permission of the role there. Removal needs the same right
 * as adding, so a weaker user cannot strip a stronger grant (an OVERWRITE
 * with an empty list is the removal of everything it replaces).
 */
export function shortfallToAssociate(
  view: AuthzView,
  callerId: number,
  ref: EntityRef,
  roleId: number,
): Shortfall | null {
  return firstShortfall(view, callerId, onEach([ref], view.rolePermissions(roleId)));
}

/** The associations through which `principal` holds anything, as (entity, permissions). */
function heldBy(view: AuthzView, principal: PrincipalRef): Array<{ ref: EntityRef; permissions: Permission[] }> {
  const byNode = new Map<string, { ref: EntityRef; roles: Set<number> }>();
  for (const g of view.holdings(principal)) {
    const key = `${g.entityType}:${g.entityId}`;
    const at = byNode.get(key) ?? { ref: { type: g.entityType, id: g.entityId }, roles: new Set<number>() };
    at.roles.add(g.roleId);
    byNode.set(key, at);
  }
  return [...byNode.values()].map(({ ref, roles }) => ({
    ref,
    permissions: [...new Set([...roles].flatMap((r) => view.rolePermissions(r)))],
  }));
}

/**
 * Controlling a principal (setting its password, enabling or disabling it,
 * changing its group memberships, renaming or deleting it): only by a caller
 * that holds everything the principal holds, wherever it holds it. So only
 * Master manages Master, and a tenant's user manager cannot take over its
 * tenant admin. Everyone controls themselves.
 */
export function shortfallToControl(view: AuthzView, callerId: number, principal: PrincipalRef): Shortfall | null {
  if (principal.kind === 'user' && principal.id === callerId) return null;
  if (holdsEverything(view, callerId)) return null;
  return firstShortfall(view, callerId, heldBy(view, principal));
}

/**
 * Changing which permissions a role holds changes what every holder of it
 * holds wherever it is associated: the caller must hold each permission
 * added or removed on every one of those entities.
 */
export function shortfallToChangeRole(
  view: AuthzView,
  callerId: number,
  associatedOn: Iterable<EntityRef>,
  changed: readonly Permission[],
): Shortfall | null {
  if (changed.length === 0 || holdsEverything(view, callerId)) return null;
  return firstShortfall(view, callerId, onEach(associatedOn, changed));
}
