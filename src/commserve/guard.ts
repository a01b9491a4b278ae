import type { AuthzView, EntityRef } from '../domain/authz.js';
import { ENTITY_TYPES } from '../domain/catalogue.js';
import {
  type PrincipalRef,
  type Shortfall,
  shortfallToAssociate,
  shortfallToChangeRole,
  shortfallToControl,
} from '../domain/escalation.js';
import { canSeeCompany } from '../domain/permissions.js';
import type { Principal } from '../domain/principal.js';
import type { Tx } from '../store/db.js';
import { assertCommCellKeepsMaster, InvariantError } from '../store/invariants.js';
import { CS_ERRORS, CsError } from './errors.js';

// The HTTP edge of src/domain/escalation.ts: a shortfall becomes the
// product's 587204594, saying what is missing where (an entity of a company
// the caller may not see is not named).

const TYPE_NAMES = new Map<number, string>(Object.entries(ENTITY_TYPES).map(([name, type]) => [type, name]));

function where(view: AuthzView, caller: Principal, ref: EntityRef): string {
  const company = view.companyOf(ref);
  if (company === null || !canSeeCompany(view, caller, company)) return 'an entity you cannot see';
  if (ref.type === ENTITY_TYPES.commcell) return 'the CommCell';
  return `${TYPE_NAMES.get(ref.type) ?? `entity type ${ref.type}`} ${ref.id}`;
}

function raise(view: AuthzView, caller: Principal, s: Shortfall | null, what: string): void {
  if (!s) return;
  throw new CsError(
    'INSUFFICIENT_PRIVILEGES',
    `${CS_ERRORS.INSUFFICIENT_PRIVILEGES.message}: ${what} needs ${s.missing.join(', ')} on ${where(view, caller, s.ref)}, which you do not hold`,
  );
}

/** Refuses control of `target` (password, enable, membership, rename, delete) unless the caller holds all it holds. */
export function mustControl(view: AuthzView, caller: Principal, target: PrincipalRef & { name: string }): void {
  const label = `${target.kind === 'user' ? 'the user' : 'the user group'} ${target.name}`;
  raise(view, caller, shortfallToControl(view, caller.userId, target), `changing ${label}`);
}

/** Refuses writing (adding or removing) an association of `roleId` on `ref` unless the caller holds the whole role there. */
export function mustAssociate(
  view: AuthzView,
  caller: Principal,
  ref: EntityRef,
  roleId: number,
  roleName: string,
): void {
  raise(view, caller, shortfallToAssociate(view, caller.userId, ref, roleId), `an association of the role ${roleName}`);
}

/** Refuses changing a role's permissions unless the caller holds each changed one wherever the role is associated. */
export function mustChangeRole(
  view: AuthzView,
  caller: Principal,
  associatedOn: Iterable<EntityRef>,
  changed: Parameters<typeof shortfallToChangeRole>[3],
  roleName: string,
): void {
  raise(
    view,
    caller,
    shortfallToChangeRole(view, caller.userId, associatedOn, changed),
    `changing the role ${roleName}`,
  );
}

/** The last-Master rule (src/store/invariants.ts) as the product's 1204, in the caller's transaction. */
export async function mustKeepMaster(tx: Tx): Promise<void> {
  try {
    await assertCommCellKeepsMaster(tx);
  } catch (e) {
    if (e instanceof InvariantError) throw new CsError('INVALID_VALUE', e.message);
    throw e;
  }
}
