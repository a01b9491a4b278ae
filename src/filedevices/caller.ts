import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/log.js';
import { type Access, type KeyPowers, type UserLevel, withinCeiling } from '../domain/api-keys.js';
import { cidrWithin } from '../domain/cidr.js';
import type { FdRoute } from './calls.js';
import { FdError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A file-devices route's call id and whether it writes (src/filedevices/calls.ts). */
    fd?: FdRoute;
  }
  interface FastifyRequest {
    fdCaller: FdCaller | null;
    /** Who a refused request claimed to be (a key's prefix, a login name), for the audit trail. */
    fdClaim: AuditActor | null;
  }
}

/** Who is calling the file-devices dialect, after authentication. */
export interface FdCaller {
  via: 'key' | 'user';
  /** The user acting: the caller, or the key's owner. */
  userId: number;
  userName: string;
  companyId: number;
  /** The user's (or the key owner's) current management access level. */
  level: UserLevel;
  /** Effective REST access: a key's own capped by its owner's level. */
  access: Access;
  /** The most this caller may give a key it creates or changes, and the scope it acts in. */
  powers: KeyPowers;
  key: { id: number; prefix: string } | null;
}

export function callerOf(req: FastifyRequest): FdCaller {
  if (!req.fdCaller) throw new FdError('NOT_AUTHENTICATED');
  return req.fdCaller;
}

export function actorOf(c: FdCaller): AuditActor {
  return {
    userId: c.userId,
    name: c.key ? `${c.userName} (api key ${c.key.prefix})` : c.userName,
    companyId: c.companyId,
  };
}

/*
 * The file-devices dialect's access rules, one line each, and where each is enforced
 * (tests: test/filedevices-attacks.test.ts, test/filedevices-security.test.ts):
 * R1  every route authenticates; a request sending X-Api-Key is judged by the key alone (auth.ts).
 * R2  a user's level: Storage Management on the CommCell = SUPERVISOR, else View there = USER,
 *     else 403; read from the permission view at each request (auth/access-level.ts).
 * R3  a key acts as its owner; its effective access is its own ∧ its owner's current level (auth.ts).
 * R4  every non-GET call is a write and needs FULL_CONTROL; a CALLID_RESTRICTED key makes only its calls (authorizeCall).
 * R5  a key made or changed is within the caller's powers on every axis: rest and soap access,
 *     call ids, virtual servers, groups, source ranges, expiry (mayGive).
 * R6  a caller changes, deletes, or moves between groups only keys already within its powers (mayGive).
 * R7  a caller restricted to virtual servers sees only those; any other id answers 404 exactly as
 *     one that does not exist; it creates none (seesVirtualServer).
 * R8  a caller restricted to groups sees only those groups and the keys that are their members;
 *     it creates neither keys nor groups (seesGroup, seesKey).
 * R9  a restricted caller sees no key that names a virtual server or group it cannot see, so no
 *     key reveals a hidden object (seesKey).
 * R10 names and addresses are unique across the file server: a restricted caller renaming or
 *     addressing its own objects may learn that a name or address is taken (409), never by what.
 */

/** Whether the caller sees virtual server `id` (a key restricted to others does not). */
export const seesVirtualServer = (c: FdCaller, id: number) =>
  c.powers.virtualServers === null || c.powers.virtualServers.has(id);

/** Whether the caller acts within API key group `id`. */
export const seesGroup = (c: FdCaller, id: number) => c.powers.groups === null || c.powers.groups.has(id);

const within = (named: readonly number[] | null, allowed: ReadonlySet<number> | null) =>
  allowed === null || named === null || named.every((x) => allowed.has(x));

/**
 * Whether the caller sees a key (R8, R9): every management user sees every
 * key (lists carry no secret), except that a group-restricted caller sees
 * only members of its groups, and a restricted caller no key naming a
 * server or group outside its restriction.
 */
export function seesKey(
  c: FdCaller,
  k: { virtualServers: readonly number[] | null; groups: readonly number[] | null },
  memberOf: readonly number[],
): boolean {
  if (c.powers.groups !== null && !memberOf.some((g) => seesGroup(c, g))) return false;
  return within(k.virtualServers, c.powers.virtualServers) && within(k.groups, c.powers.groups);
}

/** R5/R6: `k` is within what the caller may give; 403 otherwise. */
export function mayGive(c: FdCaller, k: KeyPowers, what: string): void {
  if (!withinCeiling(k, c.powers, cidrWithin)) {
    throw new FdError('ACCESS_DENIED', `${what} would exceed the caller's own access or restrictions`);
  }
}

/** Whether a write is allowed; 403 otherwise. */
export function requireWrite(c: FdCaller, what: string): void {
  if (c.access !== 'FULL_CONTROL') throw new FdError('ACCESS_DENIED', `${what} needs FULL_CONTROL access`);
}
