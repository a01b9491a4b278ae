import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { COMMCELL } from '../domain/permissions.js';
import type { Principal } from '../domain/principal.js';
import { actorOf } from './actor.js';
import { registerAuditRoutes } from './audit/routes.js';
import { enforce, memoizeView } from './authorize.js';
import { registerBaseRoutes } from './base/routes.js';
import { registerBrowseRoutes } from './browse/routes.js';
import { registerCatalogueRoutes } from './catalogue/routes.js';
import { registerCommServeParsers, sendCs } from './codec.js';
import { registerAccountManagementRoutes } from './credentials/account-management/routes.js';
import { registerCredentialRoutes } from './credentials/routes.js';
import { registerEntityRoutes } from './entity/routes.js';
import { CS_ERRORS, CsError } from './errors.js';
import { registerLoginRoutes } from './login/routes.js';
import { registerOrganizationRoutes } from './organization/routes.js';
import { registerPasskeyRoutes } from './passkey/routes.js';
import { registerRoleRoutes } from './role/routes.js';
import { registerSecurityRoutes } from './security/routes.js';
import { registerUserRoutes } from './user/routes.js';
import { registerUserGroupRoutes } from './usergroup/routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** Audits a refused item of a batch (perItem); set for signed-in requests. */
    refused: ((e: CsError, target: string) => Promise<void>) | null;
  }
}

/** The authenticated caller; routes not marked public never run without one. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new CsError('NOT_AUTHENTICATED');
  return req.principal;
}

function toCsError(err: FastifyError): CsError {
  if (err instanceof CsError) return err;
  if (err.validation) {
    const first = err.validation[0];
    const where = `${err.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    return new CsError('BAD_REQUEST', `${where} ${first?.message ?? 'is not valid'}`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CsError('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CsError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new CsError('BAD_REQUEST', 'the Content-Length or Content-Type header is not valid');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new CsError('BAD_REQUEST');
  }
  return new CsError('INTERNAL');
}

/**
 * Refusals are security events, audited (coalesced per actor and route): a
 * missing privilege (587204594), and "not found" (1200), which is how another
 * tenant's ids answer, unless the caller sees the whole CommCell (then it
 * only ever means "no such thing").
 */
async function isRefusal(req: FastifyRequest, p: Principal, e: CsError): Promise<boolean> {
  if (e.kind === 'INSUFFICIENT_PRIVILEGES') return true;
  if (e.kind !== 'NOT_FOUND' || !req.authzView) return false;
  return !(await req.authzView()).allowed(p.userId, 'View', COMMCELL);
}

/** Audits a refusal of this request (or of one item of it, named by `target`). */
export async function auditRefusal(ctx: AppContext, req: FastifyRequest, e: CsError, target?: string): Promise<void> {
  if (!req.principal || !(await isRefusal(req, req.principal, e))) return;
  const params = (req.params ?? {}) as Record<string, unknown>;
  await ctx.refusals.record({
    actor: actorOf(req.principal),
    route: `${req.method} ${req.routeOptions.url ?? ''}`,
    target: target ?? Object.values(params).map(String).join('/').slice(0, 200),
    code: e.code,
    reason: e.message,
    sourceAddr: req.ip,
  });
}

/** The CommServe dialect, mounted once per prefix (/commandcenter/api, /webconsole/api). */
export async function commServePlugin(app: FastifyInstance, ctx: AppContext): Promise<void> {
  registerCommServeParsers(app);
  app.decorateRequest('principal', null);
  app.decorateRequest('refused', null);
  app.decorateRequest('authzView', null);
  app.decorateRequest('target', null);

  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public) return;
    const principal = await ctx.sessions.resolve(req.headers.authtoken as string | undefined);
    if (!principal) throw new CsError('NOT_AUTHENTICATED');
    req.principal = principal;
    req.authzView = memoizeView(ctx);
    req.refused = (e, target) => auditRefusal(ctx, req, e, target);
  });

  // After validation, so a requirement can read the parsed path and query.
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.config.public) return;
    await enforce(req, principalOf(req), ctx);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const e = toCsError(err);
    await auditRefusal(ctx, req, e);
    let message = e.message;
    if (e.http >= 500) {
      req.log.error({ err }, 'request failed');
      message = `${CS_ERRORS.INTERNAL.message}; request id ${req.id}`;
    } else {
      req.log.info({ errorCode: e.code, reason: e.message }, 'request refused');
    }
    // Every reply names its request in X-Request-Id, as the log lines do (reqId); our own
    // envelope says it in the body too. A route's product shape (a seed's) stays verbatim.
    const [root, body] = req.routeOptions.config.errorReply?.(e.code, message, e.extra ?? {}, req) ?? [
      'App_GenericResp',
      { errorCode: e.code, errorMessage: message, ...e.extra },
    ];
    if (e.kind === 'ADDRESS_THROTTLED' && typeof e.extra?.retryAfter === 'number') {
      reply.header('retry-after', String(e.extra.retryAfter));
    }
    return sendCs(req, reply, root, body, e.http);
  });

  registerBaseRoutes(app);
  registerLoginRoutes(app, ctx);
  registerOrganizationRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerSecurityRoutes(app, ctx);
  registerEntityRoutes(app, ctx);
  registerRoleRoutes(app, ctx);
  registerUserGroupRoutes(app, ctx);
  registerCatalogueRoutes(app, ctx);
  registerBrowseRoutes(app, ctx);
  registerPasskeyRoutes(app, ctx);
  registerCredentialRoutes(app, ctx);
  registerAccountManagementRoutes(app, ctx);
}
