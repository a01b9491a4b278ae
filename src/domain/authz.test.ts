import { describe, expect, it } from 'vitest';
import { AuthzView, type Grant, type TreeEntity } from './authz.js';
import { ENTITY_TYPES as T } from './catalogue.js';

// A small estate: the CommCell owns client group 10; company 7 owns client
// groups 20 and 21, client 30 (in both groups), agent 31 > instance 32 >
// backup set 33 > subclient 34, and plan 40. Company 8 owns client 50.
const entities: TreeEntity[] = [
  { id: 10, type: T.clientGroup, companyId: 0, parentId: null },
  { id: 20, type: T.clientGroup, companyId: 7, parentId: null },
  { id: 21, type: T.clientGroup, companyId: 7, parentId: null },
  { id: 30, type: T.client, companyId: 7, parentId: null },
  { id: 31, type: T.agent, companyId: 7, parentId: 30 },
  { id: 32, type: T.instance, companyId: 7, parentId: 31 },
  { id: 33, type: T.backupSet, companyId: 7, parentId: 32 },
  { id: 34, type: T.subclient, companyId: 7, parentId: 33 },
  { id: 40, type: T.plan, companyId: 7, parentId: null },
  { id: 50, type: T.client, companyId: 8, parentId: null },
];
// Users: 1 CommCell admin (group 100 = master), 2 tenant user of company 7,
// 3 another tenant user of 7 in group 200, 4 tenant user of company 8.
const MASTER = 1;
const RESTORE = 4;
const VIEW = 5;
const base = {
  entities,
  clientGroups: [
    [20, 30],
    [21, 30],
  ] as const,
  rolePermissions: [
    ...['View', 'Browse', 'In Place Restore', 'Security Management'].map((p) => [MASTER, p] as const),
    ...['View', 'Browse', 'In Place Restore'].map((p) => [RESTORE, p] as const),
    [VIEW, 'View'] as const,
  ],
  memberships: [
    [100, 1],
    [200, 3],
  ] as const,
  userCompanies: [
    [1, 0],
    [2, 7],
    [3, 7],
    [4, 8],
  ] as const,
};
const g = (
  entityType: number,
  entityId: number,
  kind: 'user' | 'group',
  principalId: number,
  roleId: number,
): Grant => ({
  entityType,
  entityId,
  principalKind: kind,
  principalId,
  roleId,
});
const view = (grants: Grant[]) => new AuthzView({ ...base, grants });
const sub = { type: T.subclient, id: 34 };

describe('AuthzView', () => {
  it('gives the CommCell Master group everything, in every company', () => {
    const v = view([g(T.commcell, 0, 'group', 100, MASTER)]);
    expect(v.allowed(1, 'In Place Restore', sub)).toBe(true);
    expect(v.allowed(1, 'Security Management', { type: T.client, id: 50 })).toBe(true);
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it('inherits down each level of the tree, and not up', () => {
    for (const [type, id] of [
      [T.client, 30],
      [T.agent, 31],
      [T.instance, 32],
      [T.backupSet, 33],
      [T.subclient, 34],
    ] as const) {
      const v = view([g(type, id, 'user', 2, RESTORE)]);
      expect(v.allowed(2, 'Browse', sub), `granted on ${type}`).toBe(true);
      expect(v.allowed(2, 'Browse', { type: T.client, id: 30 }), `not above ${type}`).toBe(type === T.client);
    }
  });

  it('inherits through every client group a client is in', () => {
    for (const group of [20, 21]) {
      const v = view([g(T.clientGroup, group, 'user', 2, RESTORE)]);
      expect(v.allowed(2, 'In Place Restore', sub)).toBe(true);
      expect(v.allowed(2, 'In Place Restore', { type: T.plan, id: 40 })).toBe(false);
    }
  });

  it('inherits from the company to all its entities, through user groups too', () => {
    const v = view([g(T.company, 7, 'group', 200, VIEW)]);
    expect(v.allowed(3, 'View', sub)).toBe(true);
    expect(v.allowed(3, 'View', { type: T.plan, id: 40 })).toBe(true);
    expect(v.allowed(3, 'Browse', sub)).toBe(false);
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it("never lets a company's user reach outside its company, even when an association says so", () => {
    const v = view([
      g(T.commcell, 0, 'user', 2, MASTER),
      g(T.clientGroup, 10, 'user', 2, MASTER),
      g(T.client, 50, 'user', 2, MASTER),
      g(T.company, 8, 'user', 2, MASTER),
    ]);
    expect(v.allowed(2, 'View', { type: T.client, id: 50 })).toBe(false);
    expect(v.allowed(2, 'View', { type: T.clientGroup, id: 10 })).toBe(false);
    expect(v.allowed(2, 'View', { type: T.company, id: 8 })).toBe(false);
    // A grant on the CommCell does not reach into its own company either.
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it('answers false for unknown entities, a wrong type for an id, and unknown users', () => {
    const v = view([g(T.commcell, 0, 'group', 100, MASTER)]);
    expect(v.allowed(1, 'View', { type: T.client, id: 999 })).toBe(false);
    expect(v.allowed(1, 'View', { type: T.client, id: 34 })).toBe(false);
    expect(v.allowed(99, 'View', sub)).toBe(false);
  });

  it('explains which associations give a permission, nearest first', () => {
    const grants = [
      g(T.commcell, 0, 'group', 100, MASTER),
      g(T.clientGroup, 21, 'user', 3, RESTORE),
      g(T.backupSet, 33, 'group', 200, VIEW),
      g(T.agent, 31, 'user', 3, VIEW),
    ];
    const v = view(grants);
    expect(v.explain(3, 'View', sub)).toEqual({ allowed: true, grants: [grants[2], grants[3], grants[1]] });
    expect(v.explain(3, 'Browse', sub)).toEqual({ allowed: true, grants: [grants[1]] });
    expect(v.explain(3, 'Security Management', sub)).toEqual({ allowed: false, grants: [] });
    expect(v.explain(1, 'Security Management', sub).grants).toEqual([grants[0]]);
  });
});
