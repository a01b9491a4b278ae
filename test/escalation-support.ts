import { expect } from 'vitest';
import { b64, type TestApp } from './harness.js';

// Calls the escalation suites share: each is the body cvpysdk (or the product's
// documentation) sends, answering the id it created.

export const PW = 'Member-Passw0rd!';

export interface Ref {
  type: number;
  id: number;
}
export const COMMCELL_REF: Ref = { type: 1, id: 0 };
export const companyEntity = (companyId: number): Ref => ({ type: 61, id: companyId });

export function helpers(t: TestApp) {
  const firstResult = (res: { json(): { response: Array<Record<string, unknown>> } }) => res.json().response[0] ?? {};
  return {
    async user(token: string, name: string, groups: string[] = []): Promise<number> {
      const res = await t.call('POST', '/User', token, {
        users: [
          {
            userEntity: { userName: name },
            email: 'u@u.example',
            password: b64(PW),
            associatedUserGroups: groups.map((userGroupName) => ({ userGroupName })),
          },
        ],
      });
      expect(firstResult(res).errorCode, res.body).toBe(0);
      return (firstResult(res).entity as { userId: number }).userId;
    },
    async role(token: string, name: string, permissions: string[]): Promise<number> {
      const res = await t.call('POST', '/Role', token, {
        roles: [
          {
            role: { roleName: name },
            categoryPermission: { categoriesPermissionList: permissions.map((permissionName) => ({ permissionName })) },
          },
        ],
      });
      expect(firstResult(res).errorCode, res.body).toBe(0);
      return (firstResult(res).entity as { roleId: number }).roleId;
    },
    async entity(token: string, type: string, name: string, company?: string): Promise<number> {
      const res = await t.call('POST', '/Entities', token, { type, name, ...(company ? { company } : {}) });
      expect(res.json().errorCode, res.body).toBe(0);
      return res.json().entity.entityId as number;
    },
    /** POST Security: one entity, associations of `who` (`{userName}`, `{userGroupId}` …) with roles by name. */
    security(
      token: string,
      op: 'ADD' | 'OVERWRITE' | 'DELETE',
      ref: Ref,
      associations: Array<[Record<string, unknown>, string]>,
    ) {
      return t.call('POST', '/Security', token, {
        entityAssociated: { entity: [{ entityType: ref.type, _type_: 150, entityId: ref.id }] },
        securityAssociations: {
          associationsOperationType: op,
          associations: associations.map(([who, roleName]) => ({
            userOrGroup: [who],
            properties: { role: { roleName } },
          })),
        },
      });
    },
    async groupId(token: string, name: string): Promise<number> {
      const res = await t.call('GET', '/UserGroup', token);
      const g = res
        .json()
        .userGroups.find(
          (x: { userGroupEntity: { userGroupName: string } }) =>
            x.userGroupEntity.userGroupName.toLowerCase() === name.toLowerCase(),
        );
      expect(g, `${name} in ${res.body}`).toBeDefined();
      return g.userGroupEntity.userGroupId as number;
    },
    async explain(token: string, userId: number, ref: Ref, permission: string) {
      const res = await t.call(
        'GET',
        `/Security/Explain?userId=${userId}&entityType=${ref.type}&entityId=${ref.id}&permission=${encodeURIComponent(permission)}`,
        token,
      );
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { allowed: boolean; reason: string; grants: unknown[] };
    },
    /** POST UserGroup/{id} with cvpysdk's member update body. */
    members(token: string, groupId: number, op: 1 | 2 | 3, users: Array<Record<string, unknown>>) {
      return t.call('POST', `/UserGroup/${groupId}`, token, { groups: [{ usersOperationType: op, users }] });
    },
    audits(operation: string) {
      return t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', operation).orderBy('seq').execute();
    },
  };
}
