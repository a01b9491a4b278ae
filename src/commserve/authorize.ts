import type { AppContext } from '../context.js';
import { type Action, canSeeCompany, may } from '../domain/permissions.js';
import type { Principal } from '../domain/principal.js';

/** `may`, against this process's current permission view. */
export async function mayDo(ctx: AppContext, p: Principal, action: Action): Promise<boolean> {
  return may(await ctx.authz.current(), p, action);
}

export async function seesCompany(ctx: AppContext, p: Principal, companyId: number): Promise<boolean> {
  return canSeeCompany(await ctx.authz.current(), p, companyId);
}
