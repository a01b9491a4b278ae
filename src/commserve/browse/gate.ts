import type { AuthzView, EntityRef } from '../../domain/authz.js';
import type { Executor } from '../../store/db.js';
import { CsError } from '../errors.js';
import { restoreWindow } from '../passkey/gate.js';

/**
 * The passkey half of the browse and restore gate, the one call point of
 * both paths (the permission half is the route's: Browse, In Place or
 * Out-of-Place Restore). When the lowest passkey level over the subclient
 * (client, else company, else CommCell) has a passkey, an authorize-for-restore
 * window must be open on that level now; it is read from the database on
 * every call, so removing the passkey, closing the window or its expiry take
 * effect on the next request on every node.
 */
export async function checkRestoreGate(
  db: Executor,
  view: AuthzView,
  subclientRef: EntityRef,
  now: Date,
): Promise<void> {
  const w = await restoreWindow(db, view, subclientRef, now);
  if (w.guardedBy && !w.open) {
    const where = w.guardedBy.level === 'commcell' ? 'the CommCell' : `its ${w.guardedBy.level}`;
    throw new CsError(
      'RESTORE_NOT_AUTHORIZED',
      `authorize for restore first: a passkey on ${where} guards this subclient and no authorize-for-restore window is open`,
      { guardedBy: w.guardedBy.level },
    );
  }
}
