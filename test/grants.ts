import type { Grant } from '../src/domain/authz.js';

/** An association, as the permission view takes it, in one line. */
export const grant = (
  entityType: number,
  entityId: number,
  kind: 'user' | 'group',
  principalId: number,
  roleId: number,
): Grant => ({ entityType, entityId, principalKind: kind, principalId, roleId });
