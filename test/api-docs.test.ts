import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteInfo } from '../src/app.js';
import { CS_ERRORS } from '../src/commserve/errors.js';
import { loadConfig } from '../src/config.js';
import { FD_ERRORS } from '../src/filedevices/errors.js';
import { dialectOf, docOf, docProblem } from '../src/http/openapi.js';
import { ADMIN_PASSWORD, b64, routesOf, startApp, TEST_MASTER_KEY, type TestApp } from './harness.js';

interface Operation {
  operationId: string;
  summary: string;
  security: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: { content: Record<string, { schema: unknown; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown; example?: unknown }> }>;
}

let t: TestApp;
let routes: RouteInfo[];
let spec: { openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, any> };

beforeAll(async () => {
  t = await startApp();
  routes = await routesOf(t);
  const res = await t.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  spec = inlineRefs(res.json());
});

/** The document with every local $ref replaced by what it names (it has no cycles), so tests read it plainly. */
function inlineRefs<T>(doc: T): T {
  const at = (ref: string) =>
    ref
      .slice(2)
      .split('/')
      .reduce<any>((o, k) => o?.[k], doc);
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 64) throw new Error('a $ref cycle');
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v === null || typeof v !== 'object') return v;
    const ref = (v as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/')) return walk(at(ref), depth + 1);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return walk(doc, 0) as T;
}
afterAll(() => t.app.close());

const documented = () =>
  routes.filter((r) => r.schema?.hide !== true && dialectOf(r.url) !== 'mirror' && r.method !== 'HEAD');
const pathOf = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const opOf = (r: RouteInfo) => spec.paths[pathOf(r.url)]?.[r.method.toLowerCase()];
// The examples are checked as JSON bodies are: strictly, no coercion.
const ajv = new Ajv({ strict: false, allErrors: true });

describe('the API reference', () => {
  it('documents every route: a summary, an example reply, and a body schema with an example where it takes one', () => {
    // A failure names each route and exactly what to add, and where.
    const problems = routes.map((r) => docProblem(r)).filter((p) => p !== null);
    expect(problems).toEqual([]);
    expect(documented().length).toBeGreaterThan(90);
  });

  it('is OpenAPI 3.1 with one operation per documented route, each with a unique operationId', () => {
    expect(spec.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const r of documented()) {
      const op = opOf(r);
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      expect(ids.has(op!.operationId), op!.operationId).toBe(false);
      ids.add(op!.operationId);
      for (const name of [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1])) {
        expect(op!.parameters?.some((p) => p.in === 'path' && p.name === name && p.required)).toBe(true);
      }
    }
    // The second CommServe mount point serves the same routes; it is said once, in the description.
    expect(Object.keys(spec.paths).some((p) => p.startsWith('/webconsole/'))).toBe(false);
  });

  it('examples of bodies, queries and replies meet the schemas the spec gives them', () => {
    for (const r of documented()) {
      const op = opOf(r)!;
      const where = `${r.method} ${r.url}`;
      const body = op.requestBody?.content['application/json'];
      if (body) {
        expect(body.example, where).toBeDefined();
        const ok = ajv.validate(body.schema as object, body.example);
        expect(ok ? null : ajv.errorsText(), `${where} body example`).toBeNull();
      }
      const success = Object.entries(op.responses).find(([s]) => s.startsWith('2'));
      expect(success, where).toBeDefined();
      const media = success![1].content?.['application/json'];
      if (media) {
        const ok = ajv.validate(media.schema as object, media.example);
        expect(ok ? null : ajv.errorsText(), `${where} reply example`).toBeNull();
      }
    }
  });

  it('gives the CommServe dialect JSON and XML media types, the Authtoken scheme, and every error status with its body', () => {
    const parser = new XMLParser({ ignoreAttributes: false });
    for (const r of documented().filter((x) => dialectOf(x.url) === 'commserve')) {
      const op = opOf(r)!;
      const where = `${r.method} ${r.url}`;
      expect(op.security, where).toEqual(r.public ? [] : [{ Authtoken: [] }]);
      const statuses = Object.keys(op.responses);
      expect(statuses, where).toEqual(
        expect.arrayContaining(['200', '400', '413', '415', '500', ...(r.public ? [] : ['401'])]),
      );
      for (const [status, resp] of Object.entries(op.responses)) {
        expect(Object.keys(resp.content ?? {}), `${where} ${status}`).toEqual(['application/json', 'application/xml']);
        const xml = resp.content?.['application/xml']?.example;
        if (typeof xml === 'string') {
          expect(XMLValidator.validate(xml), `${where} ${status} XML example`).toBe(true);
          parser.parse(xml);
        }
      }
      // Each error example is the body the route answers with (its own shape), carrying a catalogue code.
      const codes = new Set<number>(Object.values(CS_ERRORS).map((e) => e.code));
      const err400 = JSON.stringify(op.responses['400']?.content?.['application/json']?.example);
      expect(
        [...err400.matchAll(/"errorCode":(\d+)/g)].every((m) => codes.has(Number(m[1]))),
        where,
      ).toBe(true);
      if (op.requestBody && !docOf(r.method, r.url)?.bodyType) {
        expect(Object.keys(op.requestBody.content), where).toEqual(['application/json', 'application/xml']);
      }
    }
    expect(spec.components.securitySchemes.Authtoken).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'header', name: 'Authtoken' }),
    );
  });

  it('gives the file-devices dialect its three ways to authenticate and its one error body', () => {
    const s = spec.components.securitySchemes;
    expect(s.ApiKey).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }));
    expect(s.Basic).toEqual(expect.objectContaining({ type: 'http', scheme: 'basic' }));
    expect(s.SubsystemUser).toEqual(expect.objectContaining({ in: 'header', name: 'X-Subsystem-User' }));
    expect(s.SubsystemPassword).toEqual(expect.objectContaining({ in: 'header', name: 'X-Subsystem-Password' }));
    const fd = documented().filter((x) => dialectOf(x.url) === 'file-devices');
    expect(fd.length).toBeGreaterThan(20);
    const statuses = new Set<string>();
    for (const r of fd) {
      const op = opOf(r)!;
      expect(op.security).toEqual([{ ApiKey: [] }, { Basic: [] }, { SubsystemUser: [], SubsystemPassword: [] }]);
      for (const [status, resp] of Object.entries(op.responses)) {
        if (!status.startsWith('4') && !status.startsWith('5')) continue;
        statuses.add(status);
        const media = resp.content?.['application/json'];
        expect(ajv.validate(media?.schema as object, media?.example), `${r.method} ${r.url} ${status}`).toBe(true);
        const example = media?.example as { errorCode: keyof typeof FD_ERRORS };
        expect(FD_ERRORS[example.errorCode].http).toBe(Number(status));
      }
    }
    // Every status the catalogue uses is documented somewhere.
    expect([...statuses].sort()).toEqual([...new Set(Object.values(FD_ERRORS).map((e) => String(e.http)))].sort());
  });

  it('holds no secret of the server it describes: built from code, not from the store', async () => {
    const text = (await t.inject({ method: 'GET', url: '/openapi.json' })).body;
    const token = await t.login();
    for (const secret of [ADMIN_PASSWORD, b64(ADMIN_PASSWORD), TEST_MASTER_KEY.toString('base64'), token]) {
      expect(text.includes(secret)).toBe(false);
    }
  });

  it('names no route the app does not serve, and serves no route it does not name', () => {
    const served = new Set(documented().map((r) => `${r.method.toLowerCase()} ${pathOf(r.url)}`));
    const named = Object.entries(spec.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(new Set(named)).toEqual(served);
    expect(docOf('GET', '/commandcenter/api/NoSuchRoute')).toBeUndefined();
  });
});

describe('the /docs page', () => {
  it('is served from the package: the page and its script come from this server, no CDN', async () => {
    let page = await t.inject({ method: 'GET', url: '/docs' });
    for (let hops = 0; page.statusCode === 302 && hops < 3; hops++) {
      const next = new URL(String(page.headers.location), 'http://x/docs/').pathname;
      page = await t.inject({ method: 'GET', url: next });
    }
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const srcs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(srcs.length).toBeGreaterThan(0);
    for (const s of srcs) expect(s, s).not.toMatch(/^(https?:)?\/\//);
    const bundle = await t.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
    const init = await t.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    // No call out to validator.swagger.io, and the spec it renders is this server's own.
    expect(init.body).toMatch(/validatorUrl"?:\s*null/);
    expect((await t.inject({ method: 'GET', url: '/docs/json' })).json().openapi).toBe('3.1.0');
  });

  it('is off, with /openapi.json, when BULWARK_API_DOCS=false', async () => {
    const { buildApp } = await import('../src/app.js');
    const config = { ...loadConfig({ BULWARK_API_DOCS: 'false' }), logLevel: 'silent' };
    expect(config.apiDocs).toBe(false);
    const off = await buildApp({ config, store: t.store, clock: t.clock.now });
    try {
      for (const url of ['/openapi.json', '/docs', '/docs/static/index.html']) {
        expect((await off.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
      }
      expect((await off.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await off.app.close();
    }
  });
});
