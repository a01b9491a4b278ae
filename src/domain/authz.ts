import { ENTITY_TYPES, PERMISSIONS, type Permission } from './catalogue.js';

/**
 * "May user U do permission X on entity E": one pure, in-memory answer.
 *
 * An association (entity, user or group, role) grants the role's permissions
 * on the entity and everything beneath it: CommCell > company > client group >
 * client > agent > instance > backup set > subclient, with plans, policies,
 * alerts and workflows directly under their company (or the CommCell). A
 * client inherits from every client group it is in. A company's user is never
 * granted anything outside its company, whatever associations say.
 */

export interface EntityRef {
  type: number;
  id: number;
}

export interface TreeEntity {
  id: number;
  type: number;
  companyId: number;
  parentId: number | null;
}

export interface Grant {
  entityType: number;
  entityId: number;
  principalKind: 'user' | 'group';
  principalId: number;
  roleId: number;
}

export interface ViewInput {
  entities: Iterable<TreeEntity>;
  /** [client group id, client id] */
  clientGroups: Iterable<readonly [number, number]>;
  grants: Iterable<Grant>;
  /** [role id, permission] */
  rolePermissions: Iterable<readonly [number, string]>;
  /** [user group id, user id] */
  memberships: Iterable<readonly [number, number]>;
  /** user id → owning company id */
  userCompanies: Iterable<readonly [number, number]>;
}

const BIT = new Map<string, number>(PERMISSIONS.map((p, i) => [p, 1 << i]));

// Node keys: entities by their (positive) id, companies and the CommCell below zero.
const COMMCELL_NODE = -1;
const companyNode = (companyId: number) => (companyId === 0 ? COMMCELL_NODE : -(companyId + 1));
const userKey = (id: number) => id * 2;
const groupKey = (id: number) => id * 2 + 1;

export class AuthzView {
  private readonly parent: number[] = [];
  private readonly type: number[] = [];
  private readonly company: number[] = [];
  private readonly groupsOfClient = new Map<number, number[]>();
  private readonly groupsOfUser = new Map<number, number[]>();
  private readonly userCompany = new Map<number, number>();
  private readonly roleMask = new Map<number, number>();
  /** node → principal → OR of its roles' permission bits there. */
  private readonly masks = new Map<number, Map<number, number>>();
  /** node → the associations made on it, for explanations. */
  private readonly grantsAt = new Map<number, Grant[]>();

  constructor(input: ViewInput) {
    for (const e of input.entities) {
      this.parent[e.id] = e.parentId ?? 0;
      this.type[e.id] = e.type;
      this.company[e.id] = e.companyId;
    }
    for (const [group, client] of input.clientGroups) push(this.groupsOfClient, client, group);
    for (const [group, user] of input.memberships) push(this.groupsOfUser, user, group);
    for (const [user, company] of input.userCompanies) this.userCompany.set(user, company);
    for (const [role, perm] of input.rolePermissions) {
      this.roleMask.set(role, (this.roleMask.get(role) ?? 0) | (BIT.get(perm) ?? 0));
    }
    for (const g of input.grants) {
      const node = this.nodeOf({ type: g.entityType, id: g.entityId });
      if (node === null) continue;
      push(this.grantsAt, node, g);
      const principal = g.principalKind === 'user' ? userKey(g.principalId) : groupKey(g.principalId);
      const byPrincipal = this.masks.get(node) ?? new Map<number, number>();
      this.masks.set(node, byPrincipal);
      byPrincipal.set(principal, (byPrincipal.get(principal) ?? 0) | (this.roleMask.get(g.roleId) ?? 0));
    }
  }

  /** The node key of an entity reference, or null when no such entity exists. */
  private nodeOf(ref: EntityRef): number | null {
    if (ref.type === ENTITY_TYPES.commcell) return ref.id === 0 ? COMMCELL_NODE : null;
    if (ref.type === ENTITY_TYPES.company) return companyNode(ref.id);
    return this.type[ref.id] === ref.type ? ref.id : null;
  }

  /** The company that owns an entity; null when it does not exist. */
  companyOf(ref: EntityRef): number | null {
    if (ref.type === ENTITY_TYPES.commcell) return ref.id === 0 ? 0 : null;
    if (ref.type === ENTITY_TYPES.company) return ref.id;
    return this.type[ref.id] === ref.type ? (this.company[ref.id] as number) : null;
  }

  exists(ref: EntityRef): boolean {
    return this.nodeOf(ref) !== null;
  }

  /**
   * The nodes whose associations apply to `ref`, nearest first: the entity,
   * its ancestors, the client groups of any client among them, its company,
   * and the CommCell. A company's user only ever looks inside its company.
   */
  private nodesAbove(ref: EntityRef, userCompany: number): number[] {
    const start = this.nodeOf(ref);
    if (start === null) return [];
    const owner = this.companyOf(ref) as number;
    if (userCompany !== 0 && owner !== userCompany) return [];
    const nodes: number[] = [];
    if (start > 0) {
      for (let id = start; id > 0; id = this.parent[id] as number) {
        nodes.push(id);
        if (this.type[id] === ENTITY_TYPES.client) {
          for (const g of this.groupsOfClient.get(id) ?? []) nodes.push(g);
        }
      }
      nodes.push(companyNode(owner));
    } else {
      nodes.push(start);
    }
    if (userCompany === 0 && nodes[nodes.length - 1] !== COMMCELL_NODE) nodes.push(COMMCELL_NODE);
    return nodes;
  }

  private principalsOf(userId: number): number[] {
    const keys = [userKey(userId)];
    for (const g of this.groupsOfUser.get(userId) ?? []) keys.push(groupKey(g));
    return keys;
  }

  allowed(userId: number, permission: Permission, ref: EntityRef): boolean {
    const bit = BIT.get(permission) as number;
    const userCompany = this.userCompany.get(userId);
    if (userCompany === undefined) return false;
    const principals = this.principalsOf(userId);
    for (const node of this.nodesAbove(ref, userCompany)) {
      const byPrincipal = this.masks.get(node);
      if (!byPrincipal) continue;
      for (const p of principals) {
        if (((byPrincipal.get(p) ?? 0) & bit) !== 0) return true;
      }
    }
    return false;
  }

  /** The associations that give `permission` on `ref` to the user, nearest entity first. */
  explain(userId: number, permission: Permission, ref: EntityRef): { allowed: boolean; grants: Grant[] } {
    const bit = BIT.get(permission) as number;
    const userCompany = this.userCompany.get(userId);
    if (userCompany === undefined) return { allowed: false, grants: [] };
    const groups = new Set(this.groupsOfUser.get(userId) ?? []);
    const found: Grant[] = [];
    for (const node of this.nodesAbove(ref, userCompany)) {
      for (const g of this.grantsAt.get(node) ?? []) {
        const mine = g.principalKind === 'user' ? g.principalId === userId : groups.has(g.principalId);
        if (mine && ((this.roleMask.get(g.roleId) ?? 0) & bit) !== 0) found.push(g);
      }
    }
    return { allowed: found.length > 0, grants: found };
  }
}

function push<T>(map: Map<number, T[]>, key: number, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
