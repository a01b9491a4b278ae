/**
 * What a whole-body entity update (cvpysdk sends back the properties it read,
 * with its change) means for the entity's account: cvpysdk reads
 * `impersonateUser: {userName}` (never a password) and sends it back as it
 * was, so the same user name without a password is no change.
 */
export type AccountChange =
  | { op: 'none' }
  | { op: 'set'; userName: string; password: string }
  | { op: 'rename'; userName: string }
  | { op: 'clear' }
  | { op: 'refuse'; problem: string };

/**
 * `current`: the stored user name (null: no account). `userName` undefined:
 * not sent; '' clears. `password` undefined or '': not sent.
 */
export function accountChange(
  current: string | null,
  userName: string | undefined,
  password: string | undefined,
): AccountChange {
  const hasPassword = password !== undefined && password !== '';
  if (userName === undefined) {
    if (!hasPassword) return { op: 'none' };
    if (current === null) return { op: 'refuse', problem: 'a password needs its userName' };
    return { op: 'set', userName: current, password };
  }
  if (userName === '') {
    if (hasPassword) return { op: 'refuse', problem: 'a password needs its userName' };
    return current === null ? { op: 'none' } : { op: 'clear' };
  }
  if (hasPassword) return { op: 'set', userName, password };
  if (current === null) return { op: 'refuse', problem: 'a new account needs its password' };
  return userName === current ? { op: 'none' } : { op: 'rename', userName };
}
