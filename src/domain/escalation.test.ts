import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grant } from '../../test/grants.js';
import { AuthzView, type Grant } from './authz.js';
import { BUILTIN_ROLES, PERMISSIONS, ENTITY_TYPES as T } from './catalogue.js';
import { shortfallToAssociate, shortfallToChangeRole, shortfallToControl } from './escalation.js';
import { COMMCELL } from './permissions.js';

// Company 7 owns client 30 (in client group 20); the CommCell owns client 10.
// Users: 1 in master (group 100); 2 and 3 of company 7, 3 in group 200
// (Tenant Admin on company 7); 4 of the CommCell with custom role 50
// (View + User Management) on the CommCell; 5 of company 7 in CommCell group 300.
const ROLE_UM = 50;
function estate(extra: Grant[] = []) {
  return new AuthzView({
    entities: [
      { id: 10, type: T.client, companyId: 0, parentId: null },
      { id: 20, type: T.clientGroup, companyId: 7, parentId: null },
      { id: 30, type: T.client, companyId: 7, parentId: null },
    ],
    clientGroups: [[20, 30]],
    rolePermissions: [
      ...BUILTIN_ROLES.flatMap((r) => r.permissions.map((p) => [r.id, p] as const)),
      [ROLE_UM, 'View'],
      [ROLE_UM, 'User Management'],
    ],
    memberships: [
      [100, 1],
      [200, 3],
      [300, 5],
    ],
    userCompanies: [
      [1, 0],
      [2, 7],
      [3, 7],
      [4, 0],
      [5, 7],
    ],
    grants: [
      grant(T.commcell, 0, 'group', 100, 1),
      grant(T.company, 7, 'group', 200, 2),
      grant(T.commcell, 0, 'user', 4, ROLE_UM),
      grant(T.commcell, 0, 'group', 300, 1),
      ...extra,
    ],
    groupCompanies: [
      [100, 0],
      [200, 7],
      [300, 0],
    ],
  });
}
const company7 = { type: T.company, id: 7 };

describe('shortfallToControl', () => {
  it('only Master controls master; a user manager controls no one stronger', () => {
    const v = estate();
    expect(shortfallToControl(v, 4, { kind: 'group', id: 100 })).toMatchObject({ ref: COMMCELL });
    expect(shortfallToControl(v, 4, { kind: 'user', id: 1 })?.missing).toContain('Security Management');
    expect(shortfallToControl(v, 4, { kind: 'user', id: 3 })?.ref).toEqual(company7);
    expect(shortfallToControl(v, 1, { kind: 'group', id: 100 })).toBeNull();
    expect(shortfallToControl(v, 1, { kind: 'user', id: 3 })).toBeNull();
    // The tenant admin controls its company's plain users, not the master group.
    expect(shortfallToControl(v, 3, { kind: 'user', id: 2 })).toBeNull();
    expect(shortfallToControl(v, 3, { kind: 'group', id: 100 })).not.toBeNull();
  });

  it("a company's member of a CommCell Master group holds nothing outside its company", () => {
    const v = estate();
    // User 5 is in group 300 (Master on the CommCell) but confined to company 7: it holds nothing there,
    // so a tenant admin of 7 controls it, while group 300 itself stays beyond that tenant admin.
    expect(v.holdings({ kind: 'user', id: 5 })).toEqual([]);
    expect(shortfallToControl(v, 3, { kind: 'user', id: 5 })).toBeNull();
    expect(shortfallToControl(v, 3, { kind: 'group', id: 300 })).not.toBeNull();
  });

  it('everyone controls themselves; a principal that holds nothing is controlled by anyone', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 3, 4, 5), (u) => {
        const v = estate();
        expect(shortfallToControl(v, u, { kind: 'user', id: u })).toBeNull();
        expect(shortfallToControl(v, u, { kind: 'user', id: 2 })).toBeNull();
      }),
    );
  });
});

describe('shortfallToAssociate and shortfallToChangeRole', () => {
  it('a role is written (added or removed) only by who holds all of it there', () => {
    const v = estate();
    expect(shortfallToAssociate(v, 4, COMMCELL, 5)).toBeNull();
    expect(shortfallToAssociate(v, 4, COMMCELL, 1)?.missing).toHaveLength(PERMISSIONS.length - 2);
    expect(shortfallToAssociate(v, 3, { type: T.client, id: 30 }, 2)).toBeNull();
    expect(shortfallToAssociate(v, 3, { type: T.client, id: 30 }, 1)?.missing).toEqual(['Storage Management']);
    expect(shortfallToAssociate(v, 3, { type: T.client, id: 10 }, 5)?.missing).toEqual(['View']);
  });

  it('a role edit needs each changed permission wherever the role is associated', () => {
    const v = estate();
    expect(shortfallToChangeRole(v, 3, [company7], ['Browse'])).toBeNull();
    expect(shortfallToChangeRole(v, 3, [company7, COMMCELL], ['Browse'])?.ref).toEqual(COMMCELL);
    expect(shortfallToChangeRole(v, 1, [company7, COMMCELL], PERMISSIONS)).toBeNull();
  });
});
