import fs from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { DestinationStream } from 'pino';
import { RefusalRecorder } from './audit/refusals.js';
import { levelOf } from './auth/access-level.js';
import { ApiKeyService } from './auth/api-keys.js';
import { SessionService } from './auth/sessions.js';
import { AuthzService } from './authz/service.js';
import type { Requirement } from './commserve/authorize.js';
import { commServePlugin } from './commserve/plugin.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import type { FdRoute } from './filedevices/calls.js';
import { FILE_DEVICES_PREFIX, fileDevicesPlugin } from './filedevices/plugin.js';
import { loggerOptions } from './http/logging.js';
import { validatorCompiler } from './http/validation.js';
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
}

export const COMMSERVE_PREFIXES = ['/commandcenter/api', '/webconsole/api'] as const;

/** Builds the whole HTTP app without listening: `main` listens, tests inject. */
export interface RouteInfo {
  method: string;
  url: string;
  public: boolean;
  /** What a CommServe route declares it needs (see commserve/authorize.ts). */
  requires: Requirement | undefined;
  /** What a file-devices route declares (its call id, whether it writes). */
  fd: FdRoute | undefined;
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
    apiKeys: new ApiKeyService(store, clock, async (userId) => levelOf(await ctx.authz.current(), userId)),
    vault: new Vault(store, opts.masterKey ?? null),
  };
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
    // A malformed URL or an over-long path parameter: answer in our envelope
    // and never echo the URL back.
    frameworkErrors: (error, _req, reply) => {
      const status = error.statusCode ?? 400;
      (reply as FastifyReply)
        .code(status)
        .send({ errorCode: status === 414 ? 1200 : 1000, errorMessage: 'The request URL is not valid' });
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

  app.get('/healthz', async () => ({ status: 'ok' }));
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

  for (const prefix of COMMSERVE_PREFIXES) {
    await app.register(async (scope) => commServePlugin(scope, ctx), { prefix });
  }
  await app.register(async (scope) => fileDevicesPlugin(scope, ctx), { prefix: FILE_DEVICES_PREFIX });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ errorCode: 404, errorMessage: `No route ${req.method} ${req.url.split('?')[0]}` });
  });
  return { app, ctx, routes };
}
