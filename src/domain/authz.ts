import { ENTITY_TYPES, PERMISSIONS, type Permission } from './catalogue.js';
import { ListPool } from './list-pool.js';

/**
 * "May user U do permission X on entity E": one pure, in-memory answer.
 *
 * An association (entity, user or group, role) grants the role's permissions
 * on the entity and everything beneath it: CommCell > company > client group >
 * client > agent > instance > backup set > subclient, with plans, policies,
 * alerts and workflows directly under their company (or the CommCell). A
 * client inherits from every client group it is in. A company's user is never
 * granted anything outside its company, whatever associations say.
 *
 * The view is made of one part per company (0 = the CommCell), so a change in
 * one company reloads that company only (`replaceParts`). Part X holds:
 * entities owned by X; client-group memberships of X's client groups;
 * associations whose company is X (the company of the associated entity);
 * the permissions of X's roles (the built-in roles are the CommCell's); the
 * members of X's user groups; and X's users. The lookup structures a check
 * reads are shared by all parts and kept up to date incrementally: replacing
 * part X first takes out what the old part X put in, then puts in the new.
 * Roles are resolved at check time (node → principal → role ids, OR'ed with
 * each role's current permissions), so a grant in one company that uses a
 * role of another (a built-in role) follows a change of that role as soon as
 * the role's own part is reloaded.
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
  /** Kept so that reads of one entity need no query; views built only for checks may leave it out. */
  name?: string;
}

/** An entity as the view holds it. */
export interface EntityInView {
  id: number;
  type: number;
  companyId: number;
  parentId: number | null;
  name: string;
}

export interface Grant {
  entityType: number;
  entityId: number;
  principalKind: 'user' | 'group';
  principalId: number;
  roleId: number;
}

export interface ViewInput {
  entities: readonly TreeEntity[];
  /** [client group id, client id] */
  clientGroups: ReadonlyArray<readonly [number, number]>;
  grants: readonly Grant[];
  /** [role id, permission] */
  rolePermissions: ReadonlyArray<readonly [number, string]>;
  /** [user group id, user id] */
  memberships: ReadonlyArray<readonly [number, number]>;
  /** user id → owning company id (and, for replies, the user's name) */
  userCompanies: ReadonlyArray<readonly [number, number, string?]>;
  /** [user group id, name]: the part's user groups, named in replies (Explain). */
  groupNames?: ReadonlyArray<readonly [number, string]>;
  /** [role id, name]: the part's roles, named in replies (Explain). */
  roleNames?: ReadonlyArray<readonly [number, string]>;
  /**
   * Only read by the constructor, to split one input into per-company parts:
   * role id → owning company (absent: the CommCell, as for the built-in roles).
   */
  roleCompanies?: Iterable<readonly [number, number]>;
  /**
   * Only read by the constructor: user group id → owning company (absent: the
   * company of the member).
   */
  groupCompanies?: Iterable<readonly [number, number]>;
}

const BIT = new Map<string, number>(PERMISSIONS.map((p, i) => [p, 1 << i]));

// Node keys: entities by their (positive) id, companies and the CommCell below zero.
const COMMCELL_NODE = -1;
const companyNode = (companyId: number) => (companyId === 0 ? COMMCELL_NODE : -(companyId + 1));
const userKey = (id: number) => id * 2;
const groupKey = (id: number) => id * 2 + 1;
const principalKeyOf = (g: Grant) => (g.principalKind === 'user' ? userKey(g.principalId) : groupKey(g.principalId));

/** The node an association is made on, or null for one that names nothing (a CommCell other than 0). */
function grantNode(g: Grant): number | null {
  if (g.entityType === ENTITY_TYPES.commcell) return g.entityId === 0 ? COMMCELL_NODE : null;
  if (g.entityType === ENTITY_TYPES.company) return companyNode(g.entityId);
  return g.entityId;
}

/** The role ids a principal holds on a node: one (the common case) or several. */
type Roles = number | number[];

/**
 * Most nodes have a few associations: a flat [principal key, role id, …] list,
 * scanned, is faster to check than a map; a node with more pairs gets a map.
 */
const FLAT_MAX = 8;
/** The holders count of a node whose holders are in `bigHolders`. */
const HOLDERS_IN_MAP = -1;

// Slots of one entity in AuthzView.tree.
const E = 8;
const PARENT = 0;
const TYPE = 1;
const OWNER = 2;
const HOLDERS = 3;
const CLIENT_GROUPS = 6;
// Slots of one user in AuthzView.users, and of one company in AuthzView.companyNodes.
const U = 4;
const U_COMPANY = 0;
const U_GROUPS = 1;
const C = 4;

/** What one part put into the shared structures, so replacing it can take exactly that out. */
interface Part {
  entities: number[];
  /** [group, client, group, client, …] */
  clientGroups: number[];
  grants: Grant[];
  roles: number[];
  /** [group, user, group, user, …] */
  memberships: number[];
  users: number[];
  /** The user groups it named. */
  groups: number[];
}

/** What a replacement changed, to be written into the check's arrays once at the end. */
interface Touched {
  /** Nodes whose holders to recompute. */
  nodes: Set<number>;
  /** Clients whose client groups changed. */
  clients: Set<number>;
  /** Users whose user groups changed. */
  users: Set<number>;
}

const EMPTY: readonly number[] = [];

/** Whether `value` is among the `count` ints of `list` from `at`. */
function includes(list: Int32Array, at: number, count: number, value: number): boolean {
  for (let i = at; i < at + count; i++) if (list[i] === value) return true;
  return false;
}

export class AuthzView {
  // What a check reads is in typed arrays indexed by id, not in maps: a check
  // is a chain of dependent reads over a large heap, so it is as fast as the
  // number of distinct cache lines (and pages) it touches.
  /**
   * Per entity id, E slots (32 bytes, so an entity never straddles a cache
   * line, and nested entities, which have near ids, share lines): PARENT (0 =
   * none), TYPE (0 = no such entity), OWNER (its company), HOLDERS (who holds
   * roles there: a ListPool list of [principal key, role id] pairs, or
   * HOLDERS_IN_MAP), CLIENT_GROUPS (a client's client groups: a ListPool list).
   */
  private tree = new Int32Array(E * 1024);
  /** Per user id, U slots: U_COMPANY (its company + 1; 0 = no such user), U_GROUPS (a ListPool list). */
  private users = new Int32Array(U * 1024);
  /** Per company id (the CommCell at 0), C slots: who holds roles on it (as the tree's HOLDERS). */
  private companyNodes = new Int32Array(C * 64);
  /** The lists the slots above point to. */
  private readonly pool = new ListPool();
  /** The holders of nodes with more than FLAT_MAX pairs, by node key. */
  private readonly bigHolders = new Map<number, Map<number, Roles>>();
  /** role id → OR of its permission bits (0 for none or an unknown role). */
  private readonly roleMask: number[] = [];

  // What parts are built from; the arrays above are derived from these.
  private readonly groupsOfClient = new Map<number, number[]>();
  private readonly groupsOfUser = new Map<number, number[]>();
  /** node → the associations made on it, for explanations and rebuilding the holders. */
  private readonly grantsAt = new Map<number, Grant[]>();
  /** principal key → the associations made to it, for "what does P hold" (the escalation rules). */
  private readonly grantsTo = new Map<number, Grant[]>();
  /** role id → the part that defined it. */
  private readonly roleOwner = new Map<number, number>();
  private readonly parts = new Map<number, Part>();

  // Names, for replies: reads of one entity, user, group or role need no query.
  private readonly names: Array<string | undefined> = [];
  private readonly userNames = new Map<number, string>();
  /** user group id → [owning company, name] */
  private readonly groupNames = new Map<number, readonly [number, string]>();
  private readonly roleNames = new Map<number, string>();

  /** Builds every part from one input (each row goes to the part of the company that owns it). */
  constructor(input?: ViewInput) {
    if (input) this.replaceParts(splitByCompany(input));
  }

  /** A view of per-company inputs, as the store loads them. */
  static fromParts(parts: ReadonlyMap<number, ViewInput>): AuthzView {
    const view = new AuthzView();
    view.replaceParts(parts);
    return view;
  }

  /** The companies that have a part. */
  companies(): number[] {
    return [...this.parts.keys()];
  }

  /** Replaces one company's part: every row of `input` is taken to belong to that company. */
  replacePart(companyId: number, input: ViewInput): void {
    this.replaceParts(new Map([[companyId, input]]));
  }

  /**
   * Replaces several companies' parts at once (a company with an empty input
   * loses its part). The whole replacement happens synchronously, so no check
   * sees it half done.
   */
  replaceParts(parts: ReadonlyMap<number, ViewInput>): void {
    // Checked, and room made, before anything changes: a replacement that cannot be
    // held throws and leaves the view as it was, never with a part half out.
    const most = checkIds(parts);
    this.tree = room(this.tree, E, most.entity);
    this.users = room(this.users, U, most.user);
    this.companyNodes = room(this.companyNodes, C, most.company);
    const touched: Touched = { nodes: new Set(), clients: new Set(), users: new Set() };
    // Everything out first, then everything in: a user or entity moving between two
    // replaced parts ends up in the new one whatever the order.
    for (const companyId of parts.keys()) this.removePart(companyId, touched);
    for (const [companyId, input] of parts) this.addPart(companyId, input, touched);
    for (const node of touched.nodes) this.rebuild(node);
    // Every id below has its slots: made room for above, or by an earlier replacement.
    for (const client of touched.clients) {
      this.pool.write(this.tree, client * E + CLIENT_GROUPS, 1, this.groupsOfClient.get(client) ?? EMPTY);
    }
    for (const user of touched.users) {
      this.pool.write(this.users, user * U + U_GROUPS, 1, this.groupsOfUser.get(user) ?? EMPTY);
    }
    if (this.pool.wasteful()) this.compact();
  }

  private removePart(companyId: number, touched: Touched): void {
    const old = this.parts.get(companyId);
    if (!old) return;
    this.parts.delete(companyId);
    const tree = this.tree;
    for (const id of old.entities) {
      // Only if no other part has taken it over since.
      if (tree[id * E + TYPE] === 0 || tree[id * E + OWNER] !== companyId) continue;
      tree[id * E + PARENT] = 0;
      tree[id * E + TYPE] = 0;
      tree[id * E + OWNER] = 0;
      this.names[id] = undefined;
      if (this.grantsAt.has(id)) touched.nodes.add(id);
    }
    unpair(this.groupsOfClient, old.clientGroups, touched.clients);
    unpair(this.groupsOfUser, old.memberships, touched.users);
    for (const user of old.users) {
      if (this.users[user * U + U_COMPANY] !== companyId + 1) continue;
      this.users[user * U + U_COMPANY] = 0;
      this.userNames.delete(user);
    }
    for (const group of old.groups) {
      if (this.groupNames.get(group)?.[0] === companyId) this.groupNames.delete(group);
    }
    for (const role of old.roles) {
      if (this.roleOwner.get(role) !== companyId) continue;
      this.roleOwner.delete(role);
      this.roleMask[role] = 0;
      this.roleNames.delete(role);
    }
    if (old.grants.length > 0) {
      const gone = new Set(old.grants);
      const nodes = new Set<number>();
      for (const g of old.grants) {
        const node = grantNode(g);
        if (node !== null) nodes.add(node);
      }
      for (const node of nodes) {
        const list = this.grantsAt.get(node);
        if (!list) continue;
        const kept = list.filter((g) => !gone.has(g));
        if (kept.length > 0) this.grantsAt.set(node, kept);
        else this.grantsAt.delete(node);
        touched.nodes.add(node);
      }
      const principals = new Set(old.grants.map(principalKeyOf));
      for (const key of principals) {
        const kept = (this.grantsTo.get(key) ?? []).filter((g) => !gone.has(g));
        if (kept.length > 0) this.grantsTo.set(key, kept);
        else this.grantsTo.delete(key);
      }
    }
  }

  private addPart(companyId: number, input: ViewInput, touched: Touched): void {
    const part: Part = {
      entities: [],
      clientGroups: [],
      grants: [],
      roles: [],
      memberships: [],
      users: [],
      groups: [],
    };
    for (const e of input.entities) {
      const s = e.id * E;
      this.tree[s + PARENT] = e.parentId ?? 0;
      this.tree[s + TYPE] = e.type;
      this.tree[s + OWNER] = e.companyId;
      this.names[e.id] = e.name;
      part.entities.push(e.id);
      if (this.grantsAt.has(e.id)) touched.nodes.add(e.id);
    }
    for (const [group, client] of input.clientGroups) {
      push(this.groupsOfClient, client, group);
      part.clientGroups.push(group, client);
      touched.clients.add(client);
    }
    for (const [group, user] of input.memberships) {
      push(this.groupsOfUser, user, group);
      part.memberships.push(group, user);
      touched.users.add(user);
    }
    for (const [user, company, name] of input.userCompanies) {
      this.users[user * U + U_COMPANY] = company + 1;
      if (name !== undefined) this.userNames.set(user, name);
      part.users.push(user);
    }
    for (const [group, name] of input.groupNames ?? []) {
      this.groupNames.set(group, [companyId, name]);
      part.groups.push(group);
    }
    for (const [role, perm] of input.rolePermissions) {
      while (this.roleMask.length <= role) this.roleMask.push(0);
      if (this.roleOwner.get(role) !== companyId) {
        // A role is defined by one part: the first row of it here starts it afresh.
        this.roleOwner.set(role, companyId);
        this.roleMask[role] = 0;
        part.roles.push(role);
      }
      this.roleMask[role] = (this.roleMask[role] as number) | (BIT.get(perm) ?? 0);
    }
    for (const [role, name] of input.roleNames ?? []) {
      // Its permissions have normally made this part the role's owner already; if not, the name does, so
      // that replacing the part takes the name out again.
      if (this.roleOwner.get(role) !== companyId) {
        while (this.roleMask.length <= role) this.roleMask.push(0);
        this.roleOwner.set(role, companyId);
        this.roleMask[role] = 0;
        part.roles.push(role);
      }
      this.roleNames.set(role, name);
    }
    for (const g of input.grants) {
      const node = grantNode(g);
      if (node === null) continue;
      push(this.grantsAt, node, g);
      push(this.grantsTo, principalKeyOf(g), g);
      part.grants.push(g);
      touched.nodes.add(node);
    }
    const empty =
      part.entities.length +
        part.clientGroups.length +
        part.grants.length +
        part.roles.length +
        part.memberships.length +
        part.users.length +
        part.groups.length ===
      0;
    if (!empty) this.parts.set(companyId, part);
  }

  /** Recomputes which principal holds which roles on a node, from its associations. */
  private rebuild(node: number): void {
    const byPrincipal = new Map<number, Roles>();
    let pairs = 0;
    for (const g of this.grantsAt.get(node) ?? []) {
      if (!this.validAt(g, node)) continue;
      const principal = g.principalKind === 'user' ? userKey(g.principalId) : groupKey(g.principalId);
      const held = byPrincipal.get(principal);
      if (held === undefined) byPrincipal.set(principal, g.roleId);
      else if (typeof held === 'number') {
        if (held === g.roleId) continue;
        byPrincipal.set(principal, [held, g.roleId]);
      } else if (held.includes(g.roleId)) continue;
      else held.push(g.roleId);
      pairs++;
    }
    const slots = node < 0 ? this.companyNodes : this.tree;
    const at = node < 0 ? (-node - 1) * C : node * E + HOLDERS;
    // Room was made for every node with holders (checkIds); one without slots has none to clear.
    if (at >= slots.length) return;
    const flat: number[] = [];
    if (pairs <= FLAT_MAX) {
      for (const [principal, roles] of byPrincipal) {
        for (const role of typeof roles === 'number' ? [roles] : roles) flat.push(principal, role);
      }
    }
    this.pool.write(slots, at, 2, flat);
    if (pairs > FLAT_MAX) {
      slots[at] = HOLDERS_IN_MAP;
      this.bigHolders.set(node, byPrincipal);
    } else {
      this.bigHolders.delete(node);
    }
  }

  /** Copies the pool's live lists into a fresh one (see ListPool). */
  private compact(): void {
    const { tree, users, companyNodes } = this;
    this.pool.compact((move) => {
      for (let s = 0; s < tree.length; s += E) {
        move(tree, s + HOLDERS, 2);
        move(tree, s + CLIENT_GROUPS, 1);
      }
      for (let s = 0; s < users.length; s += U) move(users, s + U_GROUPS, 1);
      for (let s = 0; s < companyNodes.length; s += C) move(companyNodes, s, 2);
    });
  }

  /** The type of entity `id`; 0 when there is none (any number is safe to ask about). */
  private typeOf(id: number): number {
    const s = id * E;
    return (id | 0) === id && s >= 0 && s < this.tree.length ? (this.tree[s + TYPE] as number) : 0;
  }

  /** An association on an entity counts only while that entity exists with the association's type. */
  private validAt(g: Grant, node: number): boolean {
    return node < 0 || (g.entityType !== 0 && this.typeOf(node) === g.entityType);
  }

  /** The node key of an entity reference, or null when no such entity exists. */
  private nodeOf(ref: EntityRef): number | null {
    if (ref.type === ENTITY_TYPES.commcell) return ref.id === 0 ? COMMCELL_NODE : null;
    if (ref.type === ENTITY_TYPES.company) return isId(ref.id, 0) ? companyNode(ref.id) : null;
    return ref.type !== 0 && this.typeOf(ref.id) === ref.type ? ref.id : null;
  }

  /** The company that owns an entity; null when it does not exist. */
  companyOf(ref: EntityRef): number | null {
    if (ref.type === ENTITY_TYPES.commcell) return ref.id === 0 ? 0 : null;
    if (ref.type === ENTITY_TYPES.company) return isId(ref.id, 0) ? ref.id : null;
    return ref.type !== 0 && this.typeOf(ref.id) === ref.type ? (this.tree[ref.id * E + OWNER] as number) : null;
  }

  /** The company a user belongs to; null for an unknown user. */
  companyOfUser(userId: number): number | null {
    const s = userId * U;
    if ((userId | 0) !== userId || s < 0 || s >= this.users.length) return null;
    const company = (this.users[s + U_COMPANY] as number) - 1;
    return company < 0 ? null : company;
  }

  /** An entity of the tree (not a company or the CommCell); null when no such entity of that type exists. */
  entity(ref: EntityRef): EntityInView | null {
    if (ref.type === ENTITY_TYPES.commcell || ref.type === ENTITY_TYPES.company) return null;
    if (ref.type === 0 || this.typeOf(ref.id) !== ref.type) return null;
    const parent = this.tree[ref.id * E + PARENT] as number;
    return {
      id: ref.id,
      type: ref.type,
      companyId: this.tree[ref.id * E + OWNER] as number,
      parentId: parent === 0 ? null : parent,
      name: this.names[ref.id] ?? '',
    };
  }

  /** The ids of a company's entities of one type, in id order (a scan of that company's part). */
  entitiesOf(companyId: number, type: number): number[] {
    const part = this.parts.get(companyId);
    if (!part) return [];
    const out: number[] = [];
    for (const id of part.entities) {
      if (this.tree[id * E + TYPE] === type && this.tree[id * E + OWNER] === companyId) out.push(id);
    }
    return out.sort((a, b) => a - b);
  }

  /** The ids of an entity's descendants of one type (its children when they are one level down). */
  descendantsOf(ancestor: EntityRef, type: number): number[] {
    const company = this.companyOf(ancestor);
    if (company === null || ancestor.type === ENTITY_TYPES.commcell || ancestor.type === ENTITY_TYPES.company) {
      return [];
    }
    return this.entitiesOf(company, type).filter((id) => {
      // A tree is a handful of levels deep; the bound only guards against a cycle.
      for (let at = this.tree[id * E + PARENT] as number, n = 0; at !== 0 && n < 64; n++) {
        if (at === ancestor.id) return true;
        at = this.tree[at * E + PARENT] as number;
      }
      return false;
    });
  }

  /** The entity itself or its nearest ancestor of one type; null when there is none (or no such entity). */
  ancestorOf(ref: EntityRef, type: number): EntityInView | null {
    if (this.nodeOf(ref) === null || ref.type === ENTITY_TYPES.commcell || ref.type === ENTITY_TYPES.company) {
      return null;
    }
    // A tree is a handful of levels deep; the bound only guards against a cycle.
    for (let at = ref.id, n = 0; at !== 0 && n < 64; n++) {
      if (this.typeOf(at) === type) return this.entity({ type, id: at });
      at = this.tree[at * E + PARENT] as number;
    }
    return null;
  }

  /** The client groups a client is in, by id. */
  clientGroupsOf(clientId: number): number[] {
    return [...(this.groupsOfClient.get(clientId) ?? EMPTY)].sort((a, b) => a - b);
  }

  userName(id: number): string | undefined {
    return this.userNames.get(id);
  }

  groupName(id: number): string | undefined {
    return this.groupNames.get(id)?.[1];
  }

  roleName(id: number): string | undefined {
    return this.roleNames.get(id);
  }

  exists(ref: EntityRef): boolean {
    return this.nodeOf(ref) !== null;
  }

  /**
   * The nodes whose associations apply to `ref`, nearest first: the entity,
   * its ancestors, the client groups of any client among them, its company,
   * and the CommCell. A company's user only ever looks inside its company.
   * (`allowed` walks the same nodes without building the list.)
   */
  private nodesAbove(ref: EntityRef, userCompany: number): number[] {
    const start = this.nodeOf(ref);
    if (start === null) return [];
    const owner = this.companyOf(ref) as number;
    if (userCompany !== 0 && owner !== userCompany) return [];
    const nodes: number[] = [];
    if (start > 0) {
      for (let id = start; id > 0; id = this.tree[id * E + PARENT] as number) {
        nodes.push(id);
        if (this.tree[id * E + TYPE] === ENTITY_TYPES.client) {
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

  allowed(userId: number, permission: Permission, ref: EntityRef): boolean {
    const bit = BIT.get(permission) as number;
    const userCompany = this.companyOfUser(userId);
    if (userCompany === null) return false;
    const start = this.nodeOf(ref);
    if (start === null) return false;
    const owner = this.companyOf(ref) as number;
    if (userCompany !== 0 && owner !== userCompany) return false;
    // The user's groups: in its own slots when it has one, else in the pool.
    const users = this.users;
    const u = userId * U + U_GROUPS;
    const groupCount = users[u] as number;
    const groups = this.pool.arrayOf(users, u);
    const groupsAt = this.pool.startOf(users, u);
    const me = userKey(userId);
    let last = start;
    if (start > 0) {
      const tree = this.tree;
      for (let id = start; id > 0; id = tree[id * E + PARENT] as number) {
        const s = id * E;
        if (this.holdsAt(tree, s + HOLDERS, id, me, groups, groupsAt, groupCount, bit)) return true;
        const count = tree[s + CLIENT_GROUPS] as number;
        if (count !== 0 && tree[s + TYPE] === ENTITY_TYPES.client) {
          const list = this.pool.arrayOf(tree, s + CLIENT_GROUPS);
          const at = this.pool.startOf(tree, s + CLIENT_GROUPS);
          for (let i = at; i < at + count; i++) {
            const g = list[i] as number;
            if (this.holdsAt(tree, g * E + HOLDERS, g, me, groups, groupsAt, groupCount, bit)) return true;
          }
        }
      }
      last = companyNode(owner);
    }
    if (this.holdsOnCompany(-last - 1, me, groups, groupsAt, groupCount, bit)) return true;
    return userCompany === 0 && last !== COMMCELL_NODE && this.holdsOnCompany(0, me, groups, groupsAt, groupCount, bit);
  }

  private holdsOnCompany(
    company: number,
    me: number,
    groups: Int32Array,
    groupsAt: number,
    groupCount: number,
    bit: number,
  ): boolean {
    const at = company * C;
    return (
      at < this.companyNodes.length &&
      this.holdsAt(this.companyNodes, at, -company - 1, me, groups, groupsAt, groupCount, bit)
    );
  }

  /**
   * Whether user key `me`, or one of its groups (`groupCount` ids of `groups`
   * from `groupsAt`), holds a role with `bit` among the holders listed at
   * slots[at] of node `node`.
   */
  private holdsAt(
    slots: Int32Array,
    at: number,
    node: number,
    me: number,
    groups: Int32Array,
    groupsAt: number,
    groupCount: number,
    bit: number,
  ): boolean {
    const count = slots[at] as number;
    if (count === 0) return false;
    if (count === HOLDERS_IN_MAP) {
      const holders = this.bigHolders.get(node) as Map<number, Roles>;
      if (this.grants(holders.get(me), bit)) return true;
      for (let i = groupsAt; i < groupsAt + groupCount; i++) {
        if (this.grants(holders.get(groupKey(groups[i] as number)), bit)) return true;
      }
      return false;
    }
    const list = this.pool.arrayOf(slots, at);
    const from = this.pool.startOf(slots, at);
    for (let i = from; i < from + 2 * count; i += 2) {
      const key = list[i] as number;
      if (key === me || ((key & 1) === 1 && includes(groups, groupsAt, groupCount, key >> 1))) {
        if (((this.roleMask[list[i + 1] as number] ?? 0) & bit) !== 0) return true;
      }
    }
    return false;
  }

  private grants(roles: Roles | undefined, bit: number): boolean {
    if (roles === undefined) return false;
    if (typeof roles === 'number') return ((this.roleMask[roles] ?? 0) & bit) !== 0;
    for (const r of roles) if (((this.roleMask[r] ?? 0) & bit) !== 0) return true;
    return false;
  }

  /** The permissions of a role, in catalogue order (none for an unknown role). */
  rolePermissions(roleId: number): Permission[] {
    const mask = this.roleMask[roleId] ?? 0;
    return PERMISSIONS.filter((_, i) => (mask & (1 << i)) !== 0);
  }

  /** The user groups a user is a member of. */
  groupsOf(userId: number): readonly number[] {
    return this.groupsOfUser.get(userId) ?? EMPTY;
  }

  /**
   * The associations through which a principal holds anything: a group's
   * own; a user's own and those of its groups. Only those that count: on an
   * entity that exists, and, for a company's user, inside its company (a
   * company's member of a CommCell group gets nothing outside its company
   * from it).
   */
  holdings(principal: { kind: 'user' | 'group'; id: number }): Grant[] {
    const own = (key: number) => (this.grantsTo.get(key) ?? []).filter((g) => this.counts(g));
    if (principal.kind === 'group') return own(groupKey(principal.id));
    const company = this.companyOfUser(principal.id);
    if (company === null) return [];
    const all = [...own(userKey(principal.id))];
    for (const group of this.groupsOf(principal.id)) all.push(...own(groupKey(group)));
    return company === 0 ? all : all.filter((g) => this.companyOf({ type: g.entityType, id: g.entityId }) === company);
  }

  /** Whether an association names an existing entity (and so grants anything). */
  private counts(g: Grant): boolean {
    const node = grantNode(g);
    return node !== null && this.validAt(g, node);
  }

  /** The associations that give `permission` on `ref` to the user, nearest entity first. */
  explain(userId: number, permission: Permission, ref: EntityRef): { allowed: boolean; grants: Grant[] } {
    const bit = BIT.get(permission) as number;
    const userCompany = this.companyOfUser(userId);
    if (userCompany === null) return { allowed: false, grants: [] };
    const groups = new Set(this.groupsOfUser.get(userId) ?? []);
    const found: Grant[] = [];
    for (const node of this.nodesAbove(ref, userCompany)) {
      for (const g of this.grantsAt.get(node) ?? []) {
        if (!this.validAt(g, node)) continue;
        const mine = g.principalKind === 'user' ? g.principalId === userId : groups.has(g.principalId);
        if (mine && ((this.roleMask[g.roleId] ?? 0) & bit) !== 0) found.push(g);
      }
    }
    return { allowed: found.length > 0, grants: found };
  }
}

/**
 * The largest id the view holds: keys of principals (2 × id + 1) and every id
 * must fit the check's 32-bit slots. Ids are database sequence values, far
 * below this; the arrays grow with the largest id, so memory runs out first.
 */
const MAX_ID = 2 ** 30 - 1;

const isId = (id: number, least: number) => Number.isInteger(id) && id >= least && id <= MAX_ID;

function checkId(what: string, id: number, least = 1): number {
  if (!isId(id, least))
    throw new RangeError(`the permission view holds ${what} ids from ${least} to ${MAX_ID}; got ${id}`);
  return id;
}

/** Throws on an id the view cannot hold; returns the largest entity, user and company ids. */
function checkIds(parts: ReadonlyMap<number, ViewInput>): { entity: number; user: number; company: number } {
  let entity = 0;
  let user = 0;
  let company = 0;
  for (const [companyId, input] of parts) {
    company = Math.max(company, checkId('company', companyId, 0));
    for (const e of input.entities) {
      entity = Math.max(entity, checkId('entity', e.id));
      if (e.parentId !== null) checkId('entity', e.parentId);
      company = Math.max(company, checkId('company', e.companyId, 0));
    }
    for (const [group, client] of input.clientGroups) {
      entity = Math.max(entity, checkId('entity', group), checkId('entity', client));
    }
    for (const [group, member] of input.memberships) {
      checkId('user group', group);
      user = Math.max(user, checkId('user', member));
    }
    for (const [id, userCompany] of input.userCompanies) {
      user = Math.max(user, checkId('user', id));
      company = Math.max(company, checkId('company', userCompany, 0));
    }
    for (const [group] of input.groupNames ?? []) checkId('user group', group);
    for (const [role] of input.rolePermissions) checkId('role', role);
    for (const [role] of input.roleNames ?? []) checkId('role', role);
    for (const g of input.grants) {
      checkId(g.principalKind === 'user' ? 'user' : 'user group', g.principalId);
      checkId('role', g.roleId);
      if (g.entityType === ENTITY_TYPES.company) company = Math.max(company, checkId('company', g.entityId, 0));
      else if (g.entityType !== ENTITY_TYPES.commcell) checkId('entity', g.entityId);
    }
  }
  return { entity, user, company };
}

/** `slots` (`width` ints per id) with room for `id`: itself, or a copy twice as large as needed. */
function room(slots: Int32Array<ArrayBuffer>, width: number, id: number): Int32Array<ArrayBuffer> {
  if (id * width < slots.length) return slots;
  let n = slots.length;
  while (n <= id * width) n *= 2;
  const grown = new Int32Array(n);
  grown.set(slots);
  return grown;
}

/** One company's rows, as arrays (a ViewInput that can be appended to). */
export interface PartRows {
  entities: TreeEntity[];
  clientGroups: Array<readonly [number, number]>;
  grants: Grant[];
  rolePermissions: Array<readonly [number, string]>;
  memberships: Array<readonly [number, number]>;
  userCompanies: Array<readonly [number, number, string?]>;
  groupNames: Array<readonly [number, string]>;
  roleNames: Array<readonly [number, string]>;
}

export const emptyPartRows = (): PartRows => ({
  entities: [],
  clientGroups: [],
  grants: [],
  rolePermissions: [],
  memberships: [],
  userCompanies: [],
  groupNames: [],
  roleNames: [],
});

/**
 * Per-company rows, each part made on first use. Rows mostly come grouped by
 * company, so the last part asked for is kept at hand.
 */
export function partsByCompany(): { parts: Map<number, PartRows>; partOf: (companyId: number) => PartRows } {
  const parts = new Map<number, PartRows>();
  let lastId = Number.NaN;
  let last = emptyPartRows();
  const partOf = (companyId: number): PartRows => {
    if (companyId === lastId) return last;
    let p = parts.get(companyId);
    if (!p) {
      p = emptyPartRows();
      parts.set(companyId, p);
    }
    lastId = companyId;
    last = p;
    return p;
  };
  return { parts, partOf };
}

/** One input cut into per-company parts, each row to the company that owns it. */
function splitByCompany(input: ViewInput): Map<number, ViewInput> {
  const { parts, partOf } = partsByCompany();
  const entityCompany: number[] = [];
  for (const e of input.entities) {
    entityCompany[e.id] = e.companyId;
    partOf(e.companyId).entities.push(e);
  }
  for (const pair of input.clientGroups) partOf(entityCompany[pair[0]] ?? 0).clientGroups.push(pair);
  for (const g of input.grants) {
    const company =
      g.entityType === ENTITY_TYPES.commcell
        ? 0
        : g.entityType === ENTITY_TYPES.company
          ? g.entityId
          : (entityCompany[g.entityId] ?? 0);
    partOf(company).grants.push(g);
  }
  const roleCompany = new Map(input.roleCompanies ?? []);
  for (const rp of input.rolePermissions) partOf(roleCompany.get(rp[0]) ?? 0).rolePermissions.push(rp);
  for (const rn of input.roleNames ?? []) partOf(roleCompany.get(rn[0]) ?? 0).roleNames.push(rn);
  const userCompany = new Map<number, number>();
  for (const uc of input.userCompanies) {
    userCompany.set(uc[0], uc[1]);
    partOf(uc[1]).userCompanies.push(uc);
  }
  const groupCompany = new Map(input.groupCompanies ?? []);
  for (const gn of input.groupNames ?? []) partOf(groupCompany.get(gn[0]) ?? 0).groupNames.push(gn);
  for (const m of input.memberships) {
    partOf(groupCompany.get(m[0]) ?? userCompany.get(m[1]) ?? 0).memberships.push(m);
  }
  return parts;
}

function push<T>(map: Map<number, T[]>, key: number, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Takes [key-owner, key, …] pairs back out of a key → owners map, one occurrence each, noting the keys. */
function unpair(map: Map<number, number[]>, pairs: readonly number[], keys: Set<number>): void {
  for (let i = 0; i < pairs.length; i += 2) {
    const owner = pairs[i] as number;
    const key = pairs[i + 1] as number;
    keys.add(key);
    const list = map.get(key);
    if (!list) continue;
    const at = list.indexOf(owner);
    if (at < 0) continue;
    if (list.length === 1) map.delete(key);
    else list.splice(at, 1);
  }
}
