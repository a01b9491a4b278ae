import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import type { AuthzView, EntityRef } from '../domain/authz.js';
import type { Permission } from '../domain/catalogue.js';
import { COMMCELL, canSeeCompany, companyRef } from '../domain/permissions.js';
import type { Principal } from '../domain/principal.js';
import { CsError } from './errors.js';

/**
 * Every CommServe route says in its config what it needs, and the plugin
 * enforces it before the handler runs (a test fails any route that says
 * nothing). The decision itself is always `AuthzView.allowed`.
 *
 * - `signedIn`: any caller with a valid token; the reason says why, e.g. the
 *   route only ever answers about the caller, or scopes its list with
 *   `listScope`.
 * - `permission` on `on`: the target is resolved from the request; a target
 *   that does not exist, or lies in a company the caller may not see, is
 *   "not found" (never "forbidden"); then the permission is checked, unless
 *   `unless` (e.g. a user reading themselves) holds.
 * - `each`: the body names several targets (a batch, an import); the handler
 *   checks each one with `authorize`, which refuses a permission the route
 *   did not declare, so the declaration stays true.
 */
export type Requirement =
  | { signedIn: string }
  | {
      permission: Permission;
      on: Target;
      unless?: (req: FastifyRequest, p: Principal) => boolean;
      /** Answer a refusal as "not found": for objects the caller should not learn exist (other users). */
      hidden?: true;
    }
  | { each: readonly Permission[]; of: string };

/** Resolves the entity a request is about; null when there is no such thing. */
export type Target = (
  req: FastifyRequest,
  view: AuthzView,
  ctx: AppContext,
) => Promise<EntityRef | null> | EntityRef | null;

declare module 'fastify' {
  interface FastifyContextConfig {
    requires?: Requirement;
  }
  interface FastifyRequest {
    /** The permission view of this request: read once, so every decision in it sees one snapshot. */
    authzView: (() => Promise<AuthzView>) | null;
    /** What the route's `permission` requirement resolved its target to. */
    target: { ref: EntityRef; companyId: number } | null;
  }
}

export function viewOf(req: FastifyRequest): Promise<AuthzView> {
  if (!req.authzView) throw new CsError('NOT_AUTHENTICATED');
  return req.authzView();
}

/** One view per request, taken on first use. */
export function memoizeView(ctx: AppContext): () => Promise<AuthzView> {
  let view: Promise<AuthzView> | null = null;
  return () => {
    view ??= ctx.authz.current();
    return view;
  };
}

/** Whether `p` may learn that objects of `companyId` exist at all. */
export async function sees(req: FastifyRequest, p: Principal, companyId: number): Promise<boolean> {
  return canSeeCompany(await viewOf(req), p, companyId);
}

export async function allows(
  req: FastifyRequest,
  p: Principal,
  permission: Permission,
  ref: EntityRef,
): Promise<boolean> {
  return (await viewOf(req)).allowed(p.userId, permission, ref);
}

/**
 * Checks one target of a batch route: NOT_FOUND when the caller may not see
 * its company, INSUFFICIENT_PRIVILEGES when the permission is missing.
 */
export async function authorize(
  req: FastifyRequest,
  p: Principal,
  permission: Permission,
  ref: EntityRef,
  companyId: number,
): Promise<void> {
  const need = req.routeOptions.config.requires;
  if (!need || !('each' in need) || !need.each.includes(permission)) {
    // A programming error: the route's declaration would be a lie.
    throw new Error(`${req.routeOptions.url} checks ${permission} without declaring it`);
  }
  if (!(await sees(req, p, companyId))) throw new CsError('NOT_FOUND');
  if (!(await allows(req, p, permission, ref))) throw new CsError('INSUFFICIENT_PRIVILEGES');
}

/** The plugin's preHandler: enforces the route's declared requirement. */
export async function enforce(req: FastifyRequest, p: Principal, ctx: AppContext): Promise<void> {
  const need = req.routeOptions.config.requires;
  if (!need) throw new Error(`${req.routeOptions.url} declares no requirement`);
  if (!('permission' in need)) return;
  const view = await viewOf(req);
  const ref = await need.on(req, view, ctx);
  const companyId = ref === null ? null : view.companyOf(ref);
  if (ref === null || companyId === null) throw new CsError('NOT_FOUND');
  // A route about the CommCell as a whole (creating a company) is no secret: it refuses. What the CommCell owns is hidden.
  if (need.on !== onCommCell && !canSeeCompany(view, p, companyId)) throw new CsError('NOT_FOUND');
  req.target = { ref, companyId };
  if (need.unless?.(req, p)) return;
  if (!view.allowed(p.userId, need.permission, ref)) {
    throw new CsError(need.hidden ? 'NOT_FOUND' : 'INSUFFICIENT_PRIVILEGES');
  }
}

/**
 * Whose objects a list shows: every company's (`all`), or the companies in
 * which the caller holds `permission` on the company itself.
 */
export async function listScope(
  req: FastifyRequest,
  p: Principal,
  permission: Permission,
  companyIds: () => Promise<number[]>,
): Promise<{ all: true } | { all: false; companies: number[] }> {
  const view = await viewOf(req);
  if (view.allowed(p.userId, permission, COMMCELL)) return { all: true };
  // A company's user looks inside its own company only; a CommCell user may hold it on several companies.
  const candidates = p.companyId === 0 ? await companyIds() : [p.companyId];
  return { all: false, companies: candidates.filter((c) => view.allowed(p.userId, permission, companyRef(c))) };
}

/** For `unless`: the target lies in the caller's own company, which its users may always see. */
export const inOwnCompany = (req: FastifyRequest, p: Principal): boolean => req.target?.companyId === p.companyId;

// -- targets -----------------------------------------------------------------

export const onCommCell: Target = () => COMMCELL;

/** The caller's own company (the CommCell for the CommCell's users). */
export const onOwnCompany: Target = (req) => companyRef((req.principal as Principal).companyId);
