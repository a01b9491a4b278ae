import type { AuthzView, EntityRef } from '../../domain/authz.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import { type PasskeyLevel, windowOpen } from '../../domain/passkey.js';
import type { Executor } from '../../store/db.js';
import { readGuards } from '../../store/passkeys.js';
import { CsError } from '../errors.js';

export interface RestoreWindow {
  /** The passkey level that guards the entity: the lowest one with a passkey set; null when none has one. */
  guardedBy: null | { level: PasskeyLevel; id: number };
  /** Whether browse and restore may go ahead as far as passkeys go: no guard, or the guard's window is open now. */
  open: boolean;
}

/**
 * The passkey half of the browse and restore gate. Walks up from the entity
 * (a subclient, or anything from a client down) through the view to its
 * client, then to the client's company and the CommCell, and reads their
 * passkey states from the database on every call (no cache), so a window's
 * expiry, its disabling and a passkey's removal hold from the next request
 * on every node. An entity the view does not hold is "not found".
 */
export async function restoreWindow(
  db: Executor,
  view: AuthzView,
  subclientRef: EntityRef,
  now: Date,
): Promise<RestoreWindow> {
  const companyId = view.companyOf(subclientRef);
  if (companyId === null) throw new CsError('NOT_FOUND');
  let clientId: number | null = null;
  for (let e = view.entity(subclientRef); e; ) {
    if (e.type === ENTITY_TYPES.client) {
      clientId = e.id;
      break;
    }
    if (e.parentId === null) break;
    const parent = e.parentId;
    e =
      [ENTITY_TYPES.backupSet, ENTITY_TYPES.instance, ENTITY_TYPES.agent, ENTITY_TYPES.client]
        .map((type) => view.entity({ type, id: parent }))
        .find((x) => x !== null) ?? null;
  }
  const companies = companyId === 0 ? [0] : [companyId, 0];
  const guards = await readGuards(db, clientId, companies);
  const levels: Array<{
    level: PasskeyLevel;
    id: number;
    state: { hash: string | null; authorizeUntil: string | null } | null | undefined;
  }> = [
    ...(clientId === null ? [] : [{ level: 'client' as const, id: clientId, state: guards.client }]),
    ...(companyId === 0 ? [] : [{ level: 'company' as const, id: companyId, state: guards.companies.get(companyId) }]),
    { level: 'commcell', id: 0, state: guards.companies.get(0) },
  ];
  for (const l of levels) {
    if (l.state?.hash)
      return { guardedBy: { level: l.level, id: l.id }, open: windowOpen(l.state.authorizeUntil, now) };
  }
  return { guardedBy: null, open: true };
}
