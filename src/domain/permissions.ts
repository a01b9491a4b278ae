import type { AuthzView, EntityRef } from './authz.js';
import { ENTITY_TYPES } from './catalogue.js';
import type { Principal } from './principal.js';

/**
 * What the directory routes ask, each answered by one permission on one
 * entity of the association model (see authz.ts): the CommCell's master
 * group holds Master on the CommCell, a company's Tenant Admin group holds
 * Tenant Admin on its company, and more can be granted with POST Security.
 */
export type Action =
  | { kind: 'company.create' }
  | { kind: 'company.view'; companyId: number }
  | { kind: 'company.administer'; companyId: number }
  | { kind: 'user.view'; companyId: number; userId: number }
  | { kind: 'user.manage'; companyId: number; userId?: number }
  | { kind: 'audit.view'; companyId: number | null };

export const COMMCELL: EntityRef = { type: ENTITY_TYPES.commcell, id: 0 };

/** The entity that stands for a company (the CommCell for company 0). */
export function companyRef(companyId: number): EntityRef {
  return companyId === 0 ? COMMCELL : { type: ENTITY_TYPES.company, id: companyId };
}

export function may(view: AuthzView, p: Principal, a: Action): boolean {
  switch (a.kind) {
    case 'company.create':
      return view.allowed(p.userId, 'Administrative Management', COMMCELL);
    case 'company.view':
      return a.companyId === p.companyId || view.allowed(p.userId, 'View', companyRef(a.companyId));
    case 'company.administer':
      return view.allowed(p.userId, 'Administrative Management', companyRef(a.companyId));
    case 'user.view':
      return a.userId === p.userId || view.allowed(p.userId, 'User Management', companyRef(a.companyId));
    case 'user.manage':
      return view.allowed(p.userId, 'User Management', companyRef(a.companyId));
    case 'audit.view':
      return view.allowed(p.userId, 'Audit View', companyRef(a.companyId ?? 0));
  }
}

/**
 * Whether `p` may even learn that an object of `companyId` exists: other
 * tenants' ids answer "not found", never "forbidden".
 */
export function canSeeCompany(view: AuthzView, p: Principal, companyId: number): boolean {
  return p.companyId === companyId || view.allowed(p.userId, 'View', companyRef(companyId));
}
