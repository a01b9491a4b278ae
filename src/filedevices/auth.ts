import type { FastifyRequest } from 'fastify';
import { levelOf } from '../auth/access-level.js';
import type { KeyRefusal } from '../auth/api-keys.js';
import { checkPassword, forgetFailures } from '../auth/password-check.js';
import type { AppContext } from '../context.js';
import { accessOfLevel, capPowers, minAccess, UNBOUNDED } from '../domain/api-keys.js';
import { loginName } from '../domain/principal.js';
import type { FdCaller } from './caller.js';
import type { FdRoute } from './calls.js';
import { FdError } from './errors.js';

/**
 * A credential header, sent at most once. Node keeps the first of two
 * Authorization headers and joins two X-Api-Key headers with ", ": either
 * way the request is refused, so no proxy and server can disagree on which
 * credential counted.
 */
const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  let seen = 0;
  const raw = req.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).length === name.length && raw[i]?.toLowerCase() === name) seen++;
  if (Array.isArray(v) || seen > 1) throw new FdError('NOT_AUTHENTICATED', `send ${name} once`);
  return v;
};

const KEY_REFUSALS: Record<KeyRefusal, string> = {
  malformed: 'the API key is not well-formed',
  unknown: 'no such API key',
  disabled: 'the API key is disabled',
  expired: 'the API key has expired',
  source: 'the API key may not be used from this address',
  'owner-disabled': "the API key's owner is disabled",
};

/** Name and password from the subsystem headers or Basic authorization, or null when neither is sent. */
function passwordCredentials(req: FastifyRequest): { name: string; password: string } | null {
  const user = header(req, 'x-subsystem-user');
  const password = header(req, 'x-subsystem-password');
  if (user !== undefined || password !== undefined) {
    if (!user || password === undefined)
      throw new FdError('NOT_AUTHENTICATED', 'send both X-Subsystem-User and X-Subsystem-Password');
    return { name: user, password };
  }
  const auth = header(req, 'authorization');
  if (auth === undefined) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,4096})\s*$/i.exec(auth);
  if (!m) throw new FdError('NOT_AUTHENTICATED', 'the Authorization header is not Basic credentials');
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new FdError('NOT_AUTHENTICATED', 'the Basic credentials are not user:password');
  return { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Marks a refusal the password check has already audited, so the error handler does not audit it twice. */
const auditedAlready = (e: FdError) => {
  e.audited = true;
  return e;
};

/**
 * Authenticates a file-devices request: `X-Api-Key`, else `X-Subsystem-User`
 * with `X-Subsystem-Password`, else `Authorization: Basic`. A request that
 * sends a key is judged by the key alone (no fallback to a password it also
 * sent). Before throwing, it names who was claimed in `req.fdClaim`, so the
 * error handler audits the refusal (src/filedevices/plugin.ts) with an actor
 * and never the key.
 */
export async function authenticate(ctx: AppContext, req: FastifyRequest, route: FdRoute): Promise<FdCaller> {
  const presented = header(req, 'x-api-key');
  if (presented !== undefined) {
    const r = await ctx.apiKeys.resolve(presented.trim(), req.ip);
    if (!r.ok) {
      req.fdClaim = { userId: null, name: r.prefix ? `api key ${r.prefix}` : 'api key (malformed)', companyId: null };
      throw new FdError('INVALID_CREDENTIALS', KEY_REFUSALS[r.why]);
    }
    const { key } = r;
    // The owner's level from the current permission view, never cached with the key: a demotion
    // counts from the owner's keys' next request on every node whose view has seen it.
    const level = levelOf(await ctx.authz.current(), key.owner.userId);
    if (level === null) {
      req.fdClaim = {
        userId: key.owner.userId,
        name: `${key.owner.name} (api key ${key.prefix})`,
        companyId: key.owner.companyId,
      };
      throw new FdError('ACCESS_DENIED', "the API key's owner has no file-devices access");
    }
    const powers = capPowers(key.powers, accessOfLevel(level));
    return {
      via: 'key',
      userId: key.owner.userId,
      userName: key.owner.name,
      companyId: key.owner.companyId,
      level,
      access: powers.rest,
      powers,
      key: { id: key.id, prefix: key.prefix },
    };
  }
  req.fdClaim = { userId: null, name: 'anonymous', companyId: null };
  const creds = passwordCredentials(req);
  if (!creds) throw new FdError('NOT_AUTHENTICATED');
  req.fdClaim = { userId: null, name: creds.name.slice(0, 200), companyId: null };
  if (creds.name.length > 512 || creds.password.length > 8192) throw new FdError('INVALID_CREDENTIALS');
  const checked = await checkPassword(ctx, 'file-devices', ctx.clock(), req.ip, creds.name, creds.password, 'login', {
    dialect: 'file-devices',
    call: route.call,
  });
  if (!checked.ok) {
    switch (checked.why) {
      case 'address-throttled':
        throw auditedAlready(
          new FdError('ADDRESS_THROTTLED', undefined, { 'retry-after': String(checked.retryAfter) }),
        );
      case 'locked':
      case 'locked-now':
        throw auditedAlready(new FdError('ACCOUNT_LOCKED', undefined, { 'retry-after': String(checked.remaining) }));
      case 'failed':
        throw auditedAlready(new FdError('INVALID_CREDENTIALS', 'invalid username or password'));
      case 'disabled':
        throw auditedAlready(new FdError('INVALID_CREDENTIALS', 'login is disabled for this account or its company'));
    }
  }
  if (checked.hadFailures) await forgetFailures(ctx.store.db, checked.acctKey);
  const { user, company } = checked;
  const userName = loginName(company.id, company.domain_name, user.user_name);
  const level = levelOf(await ctx.authz.current(), user.id);
  if (level === null) {
    req.fdClaim = { userId: user.id, name: userName, companyId: company.id };
    throw new FdError('ACCESS_DENIED', 'this user has no file-devices access level');
  }
  const access = accessOfLevel(level);
  return {
    via: 'user',
    userId: user.id,
    userName,
    companyId: company.id,
    level,
    access,
    powers: { ...UNBOUNDED, rest: minAccess(UNBOUNDED.rest, access), soap: access },
    key: null,
  };
}

/** The route's call id against a CALLID_RESTRICTED key, and a write against the access level. */
export function authorizeCall(c: FdCaller, route: FdRoute): void {
  if (c.powers.callIds !== null && route.call !== 'getAccessLevel' && !c.powers.callIds.has(route.call)) {
    throw new FdError('ACCESS_DENIED', `this API key may not make the call ${route.call}`);
  }
  if (c.access === 'NO_ACCESS') throw new FdError('ACCESS_DENIED', 'this API key has no REST access');
  if (route.write && c.access !== 'FULL_CONTROL') {
    throw new FdError('ACCESS_DENIED', `${route.call} needs FULL_CONTROL access`);
  }
}
