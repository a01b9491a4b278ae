import type { AuthzView, EntityRef } from './authz.js';
import { ENTITY_TYPES } from './catalogue.js';
import type { Principal } from './principal.js';

export const COMMCELL: EntityRef = { type: ENTITY_TYPES.commcell, id: 0 };

/** The entity that stands for a company (the CommCell for company 0). */
export function companyRef(companyId: number): EntityRef {
  return companyId === 0 ? COMMCELL : { type: ENTITY_TYPES.company, id: companyId };
}

/**
 * Whether `p` may even learn that an object of `companyId` exists: other
 * tenants' ids answer "not found", never "forbidden".
 */
export function canSeeCompany(view: AuthzView, p: Principal, companyId: number): boolean {
  return p.companyId === companyId || view.allowed(p.userId, 'View', companyRef(companyId));
}
