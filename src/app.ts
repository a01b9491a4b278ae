import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifySchema, type RouteOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { observeAuditAppends } from './audit/log.js';
import { RefusalRecorder } from './audit/refusals.js';
import { ApiKeyService } from './auth/api-keys.js';
import { SessionService } from './auth/sessions.js';
import { AuthzService } from './authz/service.js';
import type { Requirement } from './commserve/authorize.js';
import { commServePlugin } from './commserve/plugin.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import type { FdRoute } from './filedevices/calls.js';
import { FdError } from './filedevices/errors.js';
import { FILE_DEVICES_PREFIX, fileDevicesPlugin } from './filedevices/plugin.js';
import { loggerOptions } from './http/logging.js';
import { registerApiDocs } from './http/openapi.js';
import { validatorCompiler } from './http/validation.js';
import { Metrics, mayReadMetrics } from './metrics.js';
import { ChangeListener } from './store/change-listener.js';
import type { Store } from './store/db.js';
import { Vault } from './store/vault.js';

export interface BuildOptions {
  config: Config;
  store: Store;
  clock?: () => Date;
  /** Where logs go (tests capture them); stdout by default. */
  logStream?: DestinationStream;
  /** The master key of stored passwords (src/crypto/master-key.ts); without one, routes that store a password fail. */
  masterKey?: Buffer | null;
  /** Node's process metrics (memory, event loop) in /metrics; on unless a test turns them off. */
  processMetrics?: boolean;
}

/**
 * A request id from the proxy in front is kept only when Bulwark is told to
 * trust that proxy, and only in this shape (so it cannot forge log lines);
 * otherwise every request gets a fresh random id.
 */
const INBOUND_REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

export const COMMSERVE_PREFIXES = ['/commandcenter/api', '/webconsole/api'] as const;

/**
 * PostgreSQL: one connection LISTENs for what other processes on the database
 * changed (src/store/changes.ts): the permission view catches up without a
 * version read per request, and revoked sessions and changed API keys leave
 * this process's caches when told rather than when they expire.
 */
function listenForChanges(ctx: AppContext, onState: (up: boolean, err?: unknown) => void): ChangeListener | null {
  const { store, config } = ctx;
  if (!config.pgListen || !store.newClient) return null;
  const listener = new ChangeListener({
    connect: store.newClient,
    onChange: (change) => {
      if (change.kind === 'authz') return ctx.authz.noteVersion(change.version);
      for (const id of change.ids) {
        if (change.kind === 'session') ctx.sessions.forgetSession(id);
        else if (change.kind === 'key') ctx.apiKeys.forget(id);
        else {
          ctx.sessions.forgetUser(id);
          ctx.apiKeys.forgetOwner(id);
        }
      }
    },
    resync: async (client) => {
      const { rows } = await client.query<{ version: string | number }>(
        'select version from authz_version where id = 1',
      );
      if (rows[0]) ctx.authz.noteVersion(Number(rows[0].version));
    },
    onState,
  });
  ctx.authz.useFeed(listener);
  listener.start();
  return listener;
}

/** Builds the whole HTTP app without listening: `main` listens, tests inject. */
export interface RouteInfo {
  method: string;
  url: string;
  public: boolean;
  /** What a CommServe route declares it needs (see commserve/authorize.ts). */
  requires: Requirement | undefined;
  /** What a file-devices route declares (its call id, whether it writes). */
  fd: FdRoute | undefined;
  /** The route's own schemas and config, as the API reference reads them (src/http/openapi.ts). */
  schema: FastifySchema | undefined;
  config: RouteOptions['config'];
}

export async function buildApp(
  opts: BuildOptions,
): Promise<{ app: FastifyInstance; ctx: AppContext; routes: RouteInfo[] }> {
  const { config, store } = opts;
  const clock = opts.clock ?? (() => new Date());
  const ctx: AppContext = {
    config,
    store,
    clock,
    sessions: new SessionService(store, clock),
    authz: new AuthzService(store),
    refusals: new RefusalRecorder(store, clock, (err) => app.log.error({ err }, 'could not audit a refused request')),
    apiKeys: new ApiKeyService(store, clock),
    vault: new Vault(store, opts.masterKey ?? null),
    metrics: new Metrics(store, { processMetrics: opts.processMetrics }),
  };
  const { metrics } = ctx;
  ctx.authz.onReload = (kind, seconds) => {
    metrics.viewReloads.inc({ kind });
    metrics.viewReloadSeconds.observe({ kind }, seconds);
  };
  ctx.refusals.onRefusal = (code) => metrics.refusals.inc({ code: String(code) });
  const listener = listenForChanges(ctx, (up, err) => {
    if (up) app.log.info('listening for changes of other nodes (LISTEN/NOTIFY)');
    else
      app.log.warn(
        { err },
        'lost the change listener: reading the permission version on every request until it is back',
      );
  });
  const stopObservingAudit = observeAuditAppends((seconds) => {
    metrics.auditAppends.inc();
    metrics.auditSeconds.observe(seconds);
  });
  const https =
    config.tlsCert && config.tlsKey
      ? { https: { cert: fs.readFileSync(config.tlsCert), key: fs.readFileSync(config.tlsKey) } }
      : {};
  const logger = loggerOptions(config.logLevel);
  const app = Fastify({
    ...https,
    ...(opts.logStream ? { loggerInstance: (await import('pino')).pino(logger, opts.logStream) } : { logger }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // The product's routes are case-insensitive and cvpysdk sends some URLs
    // with doubled slashes (".../api//CommCell/...").
    routerOptions: {
      caseSensitive: false,
      ignoreDuplicateSlashes: true,
      ignoreTrailingSlash: true,
      maxParamLength: 200,
    },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = config.trustProxy ? req.headers['x-request-id'] : undefined;
      return typeof given === 'string' && INBOUND_REQUEST_ID.test(given) ? given : randomUUID();
    },
    // A malformed URL or an over-long path parameter: answer in our envelope
    // and never echo the URL back.
    frameworkErrors: (error, req, reply) => {
      const status = error.statusCode ?? 400;
      // Each dialect's own envelope: the file-devices one under its prefix.
      const body = (req.url ?? '').toLowerCase().startsWith(`${FILE_DEVICES_PREFIX}/`)
        ? new FdError('INVALID_INPUT', 'the request URL is not valid').body()
        : { errorCode: status === 414 ? 1200 : 1000, errorMessage: 'The request URL is not valid' };
      (reply as FastifyReply).code(status).header('x-request-id', req.id).send(body);
    },
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);

  // Every route, so the cross-cutting security suite covers new ones without being told.
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD')
        routes.push({
          method,
          url: r.url,
          public: r.config?.public === true,
          requires: r.config?.requires,
          fd: r.config?.fd,
          schema: r.schema,
          config: r.config,
        });
    }
  });

  // The permission view is loaded now, not by the first request: at a million
  // entities that takes seconds, and a load balancer should wait for it (readyz).
  let viewLoaded = false;
  const loadView = () => {
    const started = performance.now();
    ctx.authz.current().then(
      () => {
        if (!viewLoaded) app.log.info({ ms: Math.round(performance.now() - started) }, 'permission view loaded');
        viewLoaded = true;
      },
      (err) => app.log.error({ err }, 'could not load the permission view'),
    );
  };
  loadView();

  // Every reply names its request, so an operator can find its log lines.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => metrics.observeRequest(req, reply));

  // Public, as /healthz is: the reference names routes and shapes, never a secret.
  // BULWARK_API_DOCS=false leaves both out.
  if (config.apiDocs) await registerApiDocs(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (req, reply) => {
    if (!mayReadMetrics(req, config.metricsToken, config.trustProxy)) {
      return reply.code(403).send({
        errorCode: 403,
        errorMessage: 'metrics are served to this host, or with BULWARK_METRICS_TOKEN',
        requestId: req.id,
      });
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/readyz', async (_req, reply) => {
    try {
      await store.db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
    } catch {
      return reply.code(503).send({ status: 'not ready', reason: 'the database does not answer' });
    }
    if (!viewLoaded) {
      loadView(); // joins a load in progress, or retries one that failed
      return reply.code(503).send({ status: 'not ready', reason: 'loading the permission view' });
    }
    return { status: 'ready' };
  });

  // Counts of refusals not yet written go into the trail before the store closes.
  app.addHook('onClose', () => ctx.refusals.stop());
  app.addHook('onClose', async () => listener?.close());
  app.addHook('onClose', async () => {
    stopObservingAudit();
  });

  for (const prefix of COMMSERVE_PREFIXES) {
    await app.register(async (scope) => commServePlugin(scope, ctx), { prefix });
  }
  await app.register(async (scope) => fileDevicesPlugin(scope, ctx), { prefix: FILE_DEVICES_PREFIX });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ errorCode: 404, errorMessage: `No route ${req.method} ${req.url.split('?')[0]}` });
  });
  return { app, ctx, routes };
}
