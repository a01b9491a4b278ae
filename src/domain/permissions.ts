import type { Principal } from './principal.js';

/**
 * The one place that decides what a principal may do. Until role-based
 * security associations land (issue 3), the rule is the product's default:
 * the CommCell's master group may do everything; a company's Tenant Admin
 * group administers that company; every user may read and change itself.
 */
export type Action =
  | { kind: 'company.create' }
  | { kind: 'company.view'; companyId: number }
  | { kind: 'company.administer'; companyId: number }
  | { kind: 'user.view'; companyId: number; userId: number }
  | { kind: 'user.manage'; companyId: number; userId?: number }
  | { kind: 'audit.view'; companyId: number | null };

export function may(p: Principal, a: Action): boolean {
  if (p.commcellAdmin) return true;
  switch (a.kind) {
    case 'company.create':
      return false;
    case 'company.view':
      return a.companyId === p.companyId;
    case 'company.administer':
    case 'user.manage':
      return p.tenantAdmin && a.companyId === p.companyId && p.companyId !== 0;
    case 'user.view':
      return a.userId === p.userId || (p.tenantAdmin && a.companyId === p.companyId);
    case 'audit.view':
      return p.tenantAdmin && a.companyId === p.companyId;
  }
}

/**
 * Whether `p` may even learn that an object of `companyId` exists: other
 * tenants' ids answer "not found", never "forbidden".
 */
export function canSeeCompany(p: Principal, companyId: number): boolean {
  return p.commcellAdmin || p.companyId === companyId;
}
