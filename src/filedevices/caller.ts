import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/log.js';
import type { Access, KeyPowers, UserLevel } from '../domain/api-keys.js';
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

/** Whether the caller sees virtual server `id` (a key restricted to others does not). */
export const seesVirtualServer = (c: FdCaller, id: number) =>
  c.powers.virtualServers === null || c.powers.virtualServers.has(id);

/** Whether the caller acts within API key group `id`. */
export const seesGroup = (c: FdCaller, id: number) => c.powers.groups === null || c.powers.groups.has(id);

/** Whether a write is allowed; 403 otherwise. */
export function requireWrite(c: FdCaller, what: string): void {
  if (c.access !== 'FULL_CONTROL') throw new FdError('ACCESS_DENIED', `${what} needs FULL_CONTROL access`);
}
