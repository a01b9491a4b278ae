import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { AuthzView } from '../domain/authz.js';
import { COMMCELL } from '../domain/permissions.js';
import type { Principal } from '../domain/principal.js';
import { authorize } from './authorize.js';

const view = new AuthzView({
  entities: [],
  clientGroups: [],
  grants: [{ entityType: 1, entityId: 0, principalKind: 'user', principalId: 7, roleId: 1 }],
  rolePermissions: [[1, 'User Management']],
  memberships: [],
  userCompanies: [[7, 0]],
});
const p = { userId: 7, companyId: 0 } as Principal;
const request = (requires: unknown) =>
  ({
    routeOptions: { url: '/x', config: { requires } },
    authzView: async () => view,
  }) as unknown as FastifyRequest;

describe('authorize', () => {
  it('checks a permission the route declares', async () => {
    await expect(
      authorize(request({ each: ['User Management'], of: 'x' }), p, 'User Management', COMMCELL, 0),
    ).resolves.toBeUndefined();
    await expect(
      authorize(request({ each: ['User Management', 'View'], of: 'x' }), p, 'View', COMMCELL, 0),
    ).rejects.toMatchObject({ kind: 'INSUFFICIENT_PRIVILEGES' });
  });

  it('refuses, as a programming error, a permission the route did not declare', async () => {
    await expect(authorize(request({ each: ['View'], of: 'x' }), p, 'User Management', COMMCELL, 0)).rejects.toThrow(
      /without declaring it/,
    );
    await expect(authorize(request({ signedIn: 'x' }), p, 'View', COMMCELL, 0)).rejects.toThrow(/without declaring it/);
  });
});
