import fs from 'node:fs';
import path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, FastifySchema, RouteOptions } from 'fastify';
import { CS_ERRORS } from '../commserve/errors.js';
import { FD_ERRORS, type FdErrorName } from '../filedevices/errors.js';
import { API_DOCS } from './api-docs.js';
import { looseSchemaOf, type RouteDoc } from './route-doc.js';
import { buildXml } from './xml.js';

export type Dialect = 'commserve' | 'mirror' | 'file-devices' | 'operations';

/** The CommServe dialect is documented under its first mount point; the second serves the same routes. */
const COMMSERVE = '/commandcenter/api';
const MIRROR = '/webconsole/api';
const FILE_DEVICES = '/v9/storage';

export function dialectOf(url: string): Dialect {
  if (url === COMMSERVE || url.startsWith(`${COMMSERVE}/`)) return 'commserve';
  if (url === MIRROR || url.startsWith(`${MIRROR}/`)) return 'mirror';
  if (url.startsWith(`${FILE_DEVICES}/`)) return 'file-devices';
  return 'operations';
}

/** A route's key in its family's docs: `METHOD /path` under the dialect's prefix (`GET /` for the base URL). */
export function docKey(method: string, url: string): string {
  const d = dialectOf(url);
  const prefix = d === 'commserve' ? COMMSERVE : d === 'mirror' ? MIRROR : d === 'file-devices' ? FILE_DEVICES : '';
  return `${method} ${url.slice(prefix.length) || '/'}`;
}

export function docOf(method: string, url: string): RouteDoc | undefined {
  const d = dialectOf(url);
  if (d === 'mirror') return undefined;
  return API_DOCS[d][docKey(method, url)];
}

/** A route as the generator reads it: what Fastify was given. */
export interface DocumentedRoute {
  method: string;
  url: string;
  schema?: FastifySchema & { hide?: boolean };
  config?: RouteOptions['config'];
}

/** What is wrong with a route's documentation, as a sentence telling its author what to add; null when nothing is. */
export function docProblem(route: DocumentedRoute): string | null {
  const d = dialectOf(route.url);
  if (route.schema?.hide || d === 'mirror') return null;
  const key = docKey(route.method, route.url);
  const where =
    d === 'commserve'
      ? 'the `schema.ts` beside its routes (src/commserve/<family>/schema.ts), in the family docs listed in src/http/api-docs.ts'
      : d === 'file-devices'
        ? 'the `schema.ts` beside its routes (src/filedevices/<family>/schema.ts), in the family docs listed in src/http/api-docs.ts'
        : 'OPERATIONS_DOCS in src/http/api-docs.ts';
  const doc = docOf(route.method, route.url);
  if (!doc) {
    return `${route.method} ${route.url} has no API documentation: add '${key}': { summary, example (a reply), bodyExample and body or the route's schema.body when it takes a body } to ${where}`;
  }
  if (!doc.summary.trim()) return `${route.method} ${route.url}: its doc '${key}' needs a summary`;
  if (doc.example === undefined && doc.status !== 204) {
    return `${route.method} ${route.url}: its doc '${key}' needs an \`example\` of its success reply`;
  }
  const takesBody =
    doc.body !== null && (route.schema?.body !== undefined || doc.body !== undefined || doc.bodyType !== undefined);
  const undocumentedBody = doc.body === undefined && route.schema?.body === undefined && doc.bodyType === undefined;
  if (undocumentedBody && ['POST', 'PUT', 'PATCH'].includes(route.method)) {
    return `${route.method} ${route.url}: its doc '${key}' needs a \`body\` schema (or \`body: null\` when it takes none), since the route has no schema.body`;
  }
  if (takesBody && doc.bodyExample === undefined) {
    return `${route.method} ${route.url}: its doc '${key}' needs a \`bodyExample\` of its request body`;
  }
  return null;
}

const json = (schema: unknown, example?: unknown) => ({
  schema,
  ...(example === undefined ? {} : { example }),
});

/** The same fields in XML: scalars as attributes, objects and lists as child elements of the root. */
const xml = (root: string, example: unknown) => ({
  schema: {
    type: 'string',
    description: `XML: <${root}> with the JSON form's scalars as attributes and its objects and lists as child elements`,
  },
  ...(example !== null && typeof example === 'object' && !Array.isArray(example)
    ? { example: buildXml(root, example as Record<string, unknown>) }
    : {}),
});

function csContent(root: string, schema: unknown, example: unknown) {
  return { 'application/json': json(schema, example), 'application/xml': xml(root, example) };
}

/** The error body a CommServe route answers with, made by the route's own error shape (or the generic one). */
function csError(route: DocumentedRoute, name: keyof typeof CS_ERRORS): [string, Record<string, unknown>] {
  const e = CS_ERRORS[name];
  const fake = { body: {}, headers: {}, params: {}, query: {}, id: 'req-1' } as unknown as FastifyRequest;
  try {
    const made = route.config?.errorReply?.(e.code, e.message, {}, fake);
    if (made) return made;
  } catch {
    // A shape that reads the request's own body: the generic one stands for it.
  }
  return ['App_GenericResp', { errorCode: e.code, errorMessage: e.message }];
}

function csCodes(http: number): string {
  return Object.values(CS_ERRORS)
    .filter((e) => e.http === http)
    .map((e) => `${e.code} (${e.message})`)
    .join('; ');
}

function csResponses(route: DocumentedRoute, doc: RouteDoc) {
  const success = doc.reply ?? looseSchemaOf(doc.example);
  const [errRoot, errBody] = csError(route, 'NOT_FOUND');
  const errSchema = route.config?.errorReply === undefined ? CS_ERROR_REF : looseSchemaOf(errBody);
  const root = doc.root ?? 'App_GenericResp';
  // Routes answering errors in the generic shape share one description of each; the others carry their own.
  const generic = route.config?.errorReply === undefined;
  const statusError = (name: keyof typeof CS_ERRORS, description: string) => {
    if (generic) return ref(`CommServe${CS_ERRORS[name].http}`);
    const [r, body] = csError(route, name);
    return { description, content: csContent(r, errSchema, body) };
  };
  const responses: Record<string, unknown> = {
    200: {
      description: `Success; or an application error, which the product answers with HTTP 200 and a non-zero errorCode in the error shape (${errRoot}), one of: ${csCodes(200)}`,
      content: {
        'application/json': json({ anyOf: [success, errSchema] }, doc.example),
        'application/xml': xml(root, doc.example),
      },
    },
    400: statusError('BAD_REQUEST', `The body or a parameter cannot be read or is not valid: ${csCodes(400)}`),
  };
  if (route.config?.public !== true) {
    responses[401] = statusError('NOT_AUTHENTICATED', `No valid Authtoken: ${csCodes(401)}`);
  }
  responses[413] = statusError('BODY_TOO_LARGE', `The body is larger than BULWARK_BODY_LIMIT: ${csCodes(413)}`);
  responses[415] = statusError('UNSUPPORTED_MEDIA_TYPE', csCodes(415));
  if (doc.throttled) {
    const throttled = statusError('ADDRESS_THROTTLED', `Too many failed logins from this address: ${csCodes(429)}`);
    responses[429] = generic
      ? throttled
      : { ...throttled, headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } } };
  }
  responses[500] = statusError('INTERNAL', 'An unexpected error; the message names the request id');
  return responses;
}

const FD_ERROR_BODY = (names: FdErrorName[]) => ({
  type: 'object',
  required: ['errorCode', 'errorMsg', 'errorDetail'],
  properties: {
    errorCode: { type: 'string', enum: names },
    errorMsg: { type: 'string' },
    errorDetail: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
  },
});

const FD_DESCRIPTIONS: Record<number, string> = {
  400: 'The body or a parameter is not valid',
  401: 'No credentials, or credentials that are not valid',
  403: "The caller's access level does not allow this call",
  404: "No such object, or one outside the caller's restriction",
  409: 'The change conflicts with what is stored',
  500: 'An unexpected error',
};

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

function fdError(http: number, description: string) {
  const names = (Object.keys(FD_ERRORS) as FdErrorName[]).filter((n) => FD_ERRORS[n].http === http);
  const first = names[0] as FdErrorName;
  const msg = FD_ERRORS[first].message;
  return {
    description: `${description}: ${names.join(', ')}`,
    content: {
      'application/json': json(FD_ERROR_BODY(names), {
        errorCode: first,
        errorMsg: msg,
        errorDetail: { message: msg },
      }),
    },
  };
}

function fdResponses(route: DocumentedRoute, doc: RouteDoc) {
  const status = doc.status ?? 200;
  const responses: Record<string, unknown> = {
    [status]:
      status === 204
        ? { description: 'Done; no body' }
        : {
            description: 'Success',
            content: { 'application/json': json(doc.reply ?? looseSchemaOf(doc.example), doc.example) },
          },
    400: ref('FileDevices400'),
    401: ref('FileDevices401'),
    403: ref('FileDevices403'),
  };
  if (route.url.includes(':')) responses[404] = ref('FileDevices404');
  if (route.config?.fd?.write) responses[409] = ref('FileDevices409');
  responses[500] = ref('FileDevices500');
  return responses;
}

function opsResponses(doc: RouteDoc) {
  const status = doc.status ?? 200;
  return {
    [status]: {
      description: 'Success',
      content: { [doc.contentType ?? 'application/json']: json(doc.reply ?? looseSchemaOf(doc.example), doc.example) },
    },
  };
}

/** A route's path and query parameters, from its own schemas, else its doc's, else its URL. */
function parameters(route: DocumentedRoute, doc: RouteDoc) {
  const out: unknown[] = [];
  const params = route.schema?.params as TSchema | undefined;
  for (const name of [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string)) {
    out.push({ name, in: 'path', required: true, schema: params?.properties?.[name] ?? { type: 'string' } });
  }
  const query = (route.schema?.querystring ?? doc.query) as TSchema | undefined;
  const required = new Set<string>(query?.required ?? []);
  for (const [name, schema] of Object.entries((query?.properties ?? {}) as Record<string, TSchema>)) {
    out.push({ name, in: 'query', required: required.has(name), schema });
  }
  return out;
}

function requestBody(route: DocumentedRoute, doc: RouteDoc, d: Dialect) {
  if (doc.body === null) return undefined;
  if (doc.bodyType) return { required: true, content: { [doc.bodyType]: json({ type: 'string' }, doc.bodyExample) } };
  const schema = route.schema?.body ?? doc.body;
  if (schema === undefined) return undefined;
  if (d !== 'commserve') return { required: true, content: { 'application/json': json(schema, doc.bodyExample) } };
  const root = route.config?.roots?.[0] ?? 'request';
  return { required: true, content: csContent(root, schema, doc.bodyExample) };
}

const SECURITY: Record<Dialect, unknown[]> = {
  commserve: [{ Authtoken: [] }],
  mirror: [],
  'file-devices': [{ ApiKey: [] }, { Basic: [] }, { SubsystemUser: [], SubsystemPassword: [] }],
  operations: [],
};

const TAG: Record<Dialect, string> = {
  commserve: 'CommServe',
  mirror: 'CommServe',
  'file-devices': 'File devices',
  operations: 'Operations',
};

function operation(route: DocumentedRoute, doc: RouteDoc, d: Dialect) {
  const body = requestBody(route, doc, d);
  const params = parameters(route, doc);
  const security = route.config?.public === true ? [] : SECURITY[d];
  return {
    operationId: operationId(route),
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [TAG[d]],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    security,
    responses:
      d === 'commserve' ? csResponses(route, doc) : d === 'file-devices' ? fdResponses(route, doc) : opsResponses(doc),
  };
}

/** `POST /Company/:id/Passkey` → `postCompanyByIdPasskey`: stable, so the generated client keeps its names. */
function operationId(route: DocumentedRoute): string {
  const words = docKey(route.method, route.url)
    .split(/[ /]+/)
    .filter(Boolean)
    .map((w) => (w.startsWith(':') ? `By-${w.slice(1)}` : w))
    .flatMap((w) => w.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  const [first = '', ...rest] = words;
  const prefix = dialectOf(route.url) === 'file-devices' ? 'fd' : '';
  const name = [first.toLowerCase(), ...rest.map((w) => w[0]?.toUpperCase() + w.slice(1))].join('');
  return prefix ? `${prefix}${name[0]?.toUpperCase()}${name.slice(1)}` : name;
}

const INFO_DESCRIPTION = `Bulwark, the security control plane of a backup and storage platform, speaks two dialects.

**CommServe** (tag CommServe): JSON or XML (\`Content-Type\` says which a body is; \`Accept: application/xml\` asks for XML replies),
\`Authtoken\` header from \`POST /commandcenter/api/Login\`. Every path here is also served under \`/webconsole/api\`,
paths are case-insensitive. Application errors answer HTTP 200 with a non-zero \`errorCode\`, as the product does.

**File devices** (tag File devices): JSON under \`/v9/storage\`; authenticate with \`X-Api-Key\`, HTTP Basic, or
\`X-Subsystem-User\` with \`X-Subsystem-Password\`. Errors answer \`{"errorCode","errorMsg","errorDetail":{"message"}}\` with their HTTP status.

Every reply names its request in \`X-Request-Id\`.`;

/** The error replies most routes share: CommServe's generic shape by status, and file-devices' one shape. */
function sharedResponses(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const cs: Array<[keyof typeof CS_ERRORS, string]> = [
    ['BAD_REQUEST', `The body or a parameter cannot be read or is not valid: ${csCodes(400)}`],
    ['NOT_AUTHENTICATED', `No valid Authtoken: ${csCodes(401)}`],
    ['BODY_TOO_LARGE', `The body is larger than BULWARK_BODY_LIMIT: ${csCodes(413)}`],
    ['UNSUPPORTED_MEDIA_TYPE', csCodes(415)],
    ['ADDRESS_THROTTLED', `Too many failed logins from this address: ${csCodes(429)}`],
    ['INTERNAL', 'An unexpected error; the message names the request id'],
  ];
  for (const [name, description] of cs) {
    const e = CS_ERRORS[name];
    const body = { errorCode: e.code, errorMessage: e.message };
    out[`CommServe${e.http}`] = { description, content: csContent('App_GenericResp', CS_ERROR_REF, body) };
  }
  (out.CommServe429 as Record<string, unknown>).headers = {
    'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' },
  };
  for (const [status, description] of Object.entries(FD_DESCRIPTIONS)) {
    out[`FileDevices${status}`] = fdError(Number(status), description);
  }
  return out;
}

const CS_ERROR_REF = { $ref: '#/components/schemas/CommServeError' };

const CS_GENERIC_ERROR = {
  description: "CommServe's error reply (App_GenericResp), unless a route answers in its own shape",
  type: 'object',
  required: ['errorCode', 'errorMessage'],
  properties: {
    errorCode: { type: 'integer', enum: Object.values(CS_ERRORS).map((e) => e.code) },
    errorMessage: { type: 'string' },
  },
};

/** The whole OpenAPI 3.1 document, from the routes as registered and their docs. */
export function buildOpenApi(routes: readonly DocumentedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const d = dialectOf(route.url);
    if (route.method === 'HEAD' || route.schema?.hide || d === 'mirror') continue;
    const doc = docOf(route.method, route.url);
    if (!doc) continue; // the docs test names it
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route, doc, d);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Bulwark', version, description: INFO_DESCRIPTION },
    tags: [
      { name: 'CommServe', description: 'The CommServe REST dialect (cvpysdk)' },
      { name: 'File devices', description: 'The file-devices REST dialect (HNASFileServer)' },
      { name: 'Operations', description: 'Health, readiness, metrics and this reference' },
    ],
    paths,
    components: {
      schemas: { CommServeError: CS_GENERIC_ERROR },
      responses: sharedResponses(),
      securitySchemes: {
        Authtoken: {
          type: 'apiKey',
          in: 'header',
          name: 'Authtoken',
          description: 'The token from POST Login (`QSDK …`)',
        },
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'A file-devices API key' },
        Basic: { type: 'http', scheme: 'basic', description: 'A user name and password' },
        SubsystemUser: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Subsystem-User',
          description: 'With X-Subsystem-Password',
        },
        SubsystemPassword: { type: 'apiKey', in: 'header', name: 'X-Subsystem-Password' },
        MetricsToken: { type: 'http', scheme: 'bearer', description: 'BULWARK_METRICS_TOKEN (GET /metrics)' },
      },
    },
  };
}

/**
 * Serves the reference: /openapi.json and the /docs page (Swagger UI, its
 * assets served from the package: no CDN). The document is built from every
 * route registered, on its first request: not at start, which every node and
 * every test app pays.
 */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, schema: r.schema, config: r.config });
  });
  const document: Record<string, unknown> = {};
  let built = false;
  const build = async () => {
    if (built) return;
    Object.assign(document, buildOpenApi(routes, packageVersion()));
    built = true;
  };
  const swagger = (await import('@fastify/swagger')).default;
  const swaggerUi = (await import('@fastify/swagger-ui')).default;
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(async (scope) => {
    scope.addHook('onRequest', build);
    await scope.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'none', deepLinking: true, validatorUrl: null },
    });
    scope.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(document));
  });
}

function packageVersion(): string {
  // dist/src/http or src/http: the package is the nearest folder above with a package.json.
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
