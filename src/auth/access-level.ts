import type { UserLevel } from '../domain/api-keys.js';
import type { AuthzView } from '../domain/authz.js';
import { COMMCELL } from '../domain/permissions.js';

/**
 * How a Bulwark (CommServe) user maps to a file-devices management access
 * level. The file server is an asset of the whole CommCell, so only the
 * CommCell's associations count:
 * - `Storage Management` on the CommCell (the Master role there; the
 *   CommCell administrator) → SUPERVISOR (reads and writes);
 * - otherwise `View` on the CommCell (the View role, an operator's role
 *   there) → USER (reads only);
 * - otherwise (every tenant user: the Tenant Admin role has no Storage
 *   Management, and a company's users are never granted the CommCell) → no
 *   access: the dialect answers 403.
 * The level is computed from the permission view at each use, so a demotion
 * counts from the next request (an API key's owner: within the key cache's 5 s).
 */
export function levelOf(view: AuthzView, userId: number): UserLevel | null {
  if (view.allowed(userId, 'Storage Management', COMMCELL)) return 'SUPERVISOR';
  if (view.allowed(userId, 'View', COMMCELL)) return 'USER';
  return null;
}
