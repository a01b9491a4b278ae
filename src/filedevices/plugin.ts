import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { registerApiKeyGroupRoutes } from './api-key-groups/routes.js';
import { registerApiKeyRoutes } from './api-keys/routes.js';
import { authenticate, authorizeCall } from './auth.js';
import { actorOf } from './caller.js';
import { registerDeviceRoutes } from './device/routes.js';
import { FD_ERRORS, FdError } from './errors.js';
import { registerManagementRoutes } from './management/routes.js';
import { registerVirtualServerRoutes } from './virtual-servers/routes.js';

export const FILE_DEVICES_PREFIX = '/v9/storage';

function toFdError(err: FastifyError): FdError {
  if (err instanceof FdError) return err;
  if (err.validation) {
    const first = err.validation[0];
    const where = `${err.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    return new FdError('INVALID_INPUT', `${where} ${first?.message ?? 'is not valid'}`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FdError('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FdError('UNSUPPORTED_MEDIA_TYPE');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new FdError('INVALID_INPUT');
  return new FdError('INTERNAL_ERROR');
}

/**
 * Refusals are security events, audited here once, in the one trail
 * (coalesced per actor, route and status): every 401 and 403, and a 404 for a
 * caller whose key is restricted (how objects outside its restriction
 * answer). A failed password check has audited itself (`audited`); a request
 * refused before it has a caller is audited under what it claimed
 * (`fdClaim`: a key's prefix, a login name, or anonymous), never the key.
 */
async function auditRefusal(ctx: AppContext, req: FastifyRequest, e: FdError): Promise<void> {
  if (e.audited) return;
  const c = req.fdCaller;
  const restricted = c !== null && (c.powers.virtualServers !== null || c.powers.groups !== null);
  if (!(e.http === 401 || e.http === 403 || (e.http === 404 && restricted))) return;
  const actor = c ? actorOf(c) : req.fdClaim;
  if (!actor) return;
  const params = (req.params ?? {}) as Record<string, unknown>;
  await ctx.refusals.record({
    actor,
    route: `${req.method} ${req.routeOptions.url ?? ''}`,
    target: Object.values(params).map(String).join('/').slice(0, 200),
    code: e.http,
    reason: e.detail ?? e.message,
    sourceAddr: req.ip,
  });
}

/** The file-devices dialect: JSON only, every route authenticated (mounted at /v9/storage). */
export async function fileDevicesPlugin(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Clients send Content-Type: application/json on bodiless POSTs and DELETEs
  // (HNASFileServer's enable/disable): an empty body is no body, not an error.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    json(req, body as string, done);
  });
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('fdCaller', null);
  app.decorateRequest('fdClaim', null);

  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.config.fd;
    if (!route) return;
    req.fdCaller = await authenticate(ctx, req, route);
    authorizeCall(req.fdCaller, route);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const e = toFdError(err);
    await auditRefusal(ctx, req, e);
    if (e.http >= 500) {
      req.log.error({ err }, 'request failed');
      const internal = new FdError('INTERNAL_ERROR', `${FD_ERRORS.INTERNAL_ERROR.message}; request id ${req.id}`);
      return reply.code(500).send(internal.body());
    }
    req.log.info({ errorCode: e.kind, reason: e.detail ?? e.message }, 'request refused');
    for (const [k, v] of Object.entries(e.headers ?? {})) reply.header(k, v);
    return reply.code(e.http).send(e.body());
  });

  app.setNotFoundHandler((req, reply) => {
    reply
      .code(404)
      .send(
        new FdError(
          'ROUTE_NOT_FOUND',
          `no resource ${req.method} ${(req.url.split('?')[0] ?? '').slice(0, 200)}`,
        ).body(),
      );
  });

  registerDeviceRoutes(app, ctx);
  registerManagementRoutes(app, ctx);
  registerApiKeyRoutes(app, ctx);
  registerApiKeyGroupRoutes(app, ctx);
  registerVirtualServerRoutes(app, ctx);
}
