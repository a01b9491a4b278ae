// The generated estate of the in-process benches (bench/authz.ts,
// bench/casbin.ts): per company 10 client groups and 150 clients, each client
// in two of the company's groups with an agent, an instance, a backup set and
// three subclients beneath; 100 users in 10 groups; as many associations as
// entities, each on a random entity of a random company, to one of that
// company's users or groups, with a role of 2..5. At 1000 companies: 1.06 M
// entities, 100 k users, 10 k groups, 1.06 M associations (issue 3's size).
import type { Grant, TreeEntity, ViewInput } from '../src/domain/authz.js';
import { BUILTIN_ROLES, ENTITY_TYPES as T } from '../src/domain/catalogue.js';
import { rng } from '../test/rng.js';

export const CLIENTS = 150;
export const USERS_PER_COMPANY = 100;
export const GROUPS_PER_COMPANY = 10;

export interface Leaf {
  type: number;
  id: number;
  company: number;
}

export interface GeneratedEstate {
  companies: number;
  input: Required<
    Pick<ViewInput, 'entities' | 'clientGroups' | 'grants' | 'rolePermissions' | 'memberships' | 'userCompanies'>
  >;
  leaves: Leaf[];
  /** Entity ids of each company (index = company id). */
  perCompany: number[][];
  users: number;
  groups: number;
  /** A random query: a subclient and a user, mostly of its own company, one in ten of another (always refused). */
  query(): { user: number; leaf: Leaf };
}

export function generateEstate(companies: number, seed = 42): GeneratedEstate {
  // A sound generator: the former LCG lost bits above 2^53 and gave 99 % of grants one role.
  const rand = rng(seed);
  const entities: TreeEntity[] = [];
  const clientGroups: Array<[number, number]> = [];
  const leaves: Leaf[] = [];
  const perCompany: number[][] = [];
  let id = 1;
  for (let c = 1; c <= companies; c++) {
    const mine: number[] = [];
    const groups: number[] = [];
    for (let i = 0; i < 10; i++) {
      entities.push({ id, type: T.clientGroup, companyId: c, parentId: null });
      groups.push(id);
      mine.push(id++);
    }
    for (let k = 0; k < CLIENTS; k++) {
      const client = id++;
      entities.push({ id: client, type: T.client, companyId: c, parentId: null });
      clientGroups.push([groups[rand(10)] as number, client], [groups[rand(10)] as number, client]);
      let parent = client;
      for (const type of [T.agent, T.instance, T.backupSet]) {
        entities.push({ id, type, companyId: c, parentId: parent });
        mine.push(id);
        parent = id++;
      }
      for (let s = 0; s < 3; s++) {
        entities.push({ id, type: T.subclient, companyId: c, parentId: parent });
        leaves.push({ type: T.subclient, id, company: c });
        mine.push(id++);
      }
      mine.push(client);
    }
    perCompany[c] = mine;
  }
  const users = companies * USERS_PER_COMPANY;
  const userCompanies: Array<[number, number]> = [];
  const memberships: Array<[number, number]> = [];
  for (let u = 1; u <= users; u++) {
    const company = Math.ceil(u / USERS_PER_COMPANY);
    userCompanies.push([u, company]);
    memberships.push([(company - 1) * GROUPS_PER_COMPANY + 1 + rand(GROUPS_PER_COMPANY), u]);
  }
  const grants: Grant[] = [];
  for (let i = 0; i < entities.length; i++) {
    const company = 1 + rand(companies);
    const list = perCompany[company] as number[];
    const e = entities[(list[rand(list.length)] as number) - 1] as TreeEntity;
    const asGroup = rand(2) === 0;
    grants.push({
      entityType: e.type,
      entityId: e.id,
      principalKind: asGroup ? 'group' : 'user',
      principalId: asGroup
        ? (company - 1) * GROUPS_PER_COMPANY + 1 + rand(GROUPS_PER_COMPANY)
        : (company - 1) * USERS_PER_COMPANY + 1 + rand(USERS_PER_COMPANY),
      roleId: 2 + rand(4),
    });
  }
  const rolePermissions = BUILTIN_ROLES.flatMap((r) => r.permissions.map((p) => [r.id, p] as [number, string]));
  const query = () => {
    const leaf = leaves[rand(leaves.length)] as Leaf;
    const company = rand(10) === 0 ? 1 + rand(companies) : leaf.company;
    return { user: (company - 1) * USERS_PER_COMPANY + 1 + rand(USERS_PER_COMPANY), leaf };
  };
  return {
    companies,
    input: { entities, clientGroups, grants, rolePermissions, memberships, userCompanies },
    leaves,
    perCompany,
    users,
    groups: companies * GROUPS_PER_COMPANY,
    query,
  };
}
