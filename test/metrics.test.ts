import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BASE, b64, DIALECT, makeTenant, routesOf, startApp, type TestApp } from './harness.js';

/** `name{labels} value` lines of a Prometheus text exposition, comments dropped. */
function series(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  series(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('GET /metrics', () => {
  let t: TestApp;
  let admin: string;
  let tenant: { token: string; userId: number };
  /** What this suite sent that must never appear in /metrics. */
  const SECRETS = ['zetacorp', 'tadmin', 'Tenant-Passw0rd!', 'Wrong-Passw0rd!', 'probe-name-7731', 'no-such-path-5519'];

  beforeAll(async () => {
    t = await startApp();
    admin = await t.login();
    tenant = await makeTenant(t, admin, 'zetacorp');
    SECRETS.push(admin, tenant.token);
    // A refusal: a tenant admin asking for the CommCell's administrator.
    await t.call('GET', '/User/1', tenant.token);
    // A failed login, named, and a request no route matches, with names in its URL.
    await t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      payload: { mode: 4, username: 'zetacorp\\probe-name-7731', password: b64('Wrong-Passw0rd!') },
    });
    await t.inject({ method: 'GET', url: '/no-such-path-5519/zetacorp?token=probe-name-7731' });
    await t.call('GET', `/User/${tenant.userId}`, admin);
  });
  afterAll(() => t.close());

  const scrape = async () => {
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.body;
  };

  it('counts requests by route pattern and status, with latency histograms', async () => {
    const text = await scrape();
    const user = { method: 'GET', route: `${BASE}/User/:id` };
    // The refused one (1200 answers HTTP 200, as the product does) and the administrator's.
    expect(value(text, 'bulwark_http_requests_total', { ...user, status: '200' })).toBe(2);
    expect(value(text, 'bulwark_http_request_duration_seconds_count', { ...user, status: '200' })).toBe(2);
    expect(value(text, 'bulwark_http_request_duration_seconds_bucket', { ...user, status: '200', le: '+Inf' })).toBe(2);
    expect(value(text, 'bulwark_http_request_duration_seconds_bucket', { ...user, status: '200', le: '10' })).toBe(2);
    expect(value(text, 'bulwark_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(value(text, 'bulwark_http_requests_total', { route: `${BASE}/Login`, method: 'POST' })).toBeGreaterThan(1);
  });

  it('counts logins and failures, refusals, audit appends and permission-view reloads', async () => {
    const text = await scrape();
    expect(value(text, 'bulwark_logins_total', { dialect: 'commserve', outcome: 'success' })).toBe(2);
    expect(value(text, 'bulwark_logins_total', { dialect: 'commserve', outcome: 'bad_credentials' })).toBe(1);
    expect(value(text, 'bulwark_logins_total', { dialect: 'file-devices' })).toBe(0);
    expect(value(text, 'bulwark_refusals_total')).toBeGreaterThanOrEqual(1);
    // Every login, the company, the user: each wrote a record.
    expect(value(text, 'bulwark_audit_appends_total')).toBeGreaterThanOrEqual(5);
    expect(value(text, 'bulwark_audit_append_duration_seconds_count')).toBe(value(text, 'bulwark_audit_appends_total'));
    expect(value(text, 'bulwark_authz_view_reloads_total', { kind: 'full' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'bulwark_authz_view_reload_duration_seconds_count')).toBe(
      value(text, 'bulwark_authz_view_reloads_total'),
    );
    if (DIALECT === 'postgres') {
      expect(value(text, 'bulwark_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(text).toContain('bulwark_db_pool_waiting');
    } else {
      expect(text).not.toContain('bulwark_db_pool');
    }
  });

  it('names no tenant, user, token or URL: every label value is from a closed set or the route table', async () => {
    const text = await scrape();
    for (const s of SECRETS) expect(text).not.toContain(s);
    const patterns = new Set((await routesOf(t)).map((r) => r.url));
    patterns.add('unmatched');
    const closed: Record<string, (v: string) => boolean> = {
      method: (v) => ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'OTHER'].includes(v),
      route: (v) => patterns.has(v),
      status: (v) => /^[1-5][0-9]{2}$/.test(v),
      le: (v) => v === '+Inf' || Number.isFinite(Number(v)),
      outcome: (v) => ['success', 'bad_credentials', 'account_locked', 'address_blocked', 'disabled'].includes(v),
      dialect: (v) => ['commserve', 'file-devices'].includes(v),
      kind: (v) => ['full', 'part', 'account', 'address', 'passkey'].includes(v),
      reason: (v) => ['wrong', 'locked'].includes(v),
      code: (v) => /^[0-9]{1,10}$/.test(v),
    };
    const odd = series(text).flatMap((s) =>
      Object.entries(s.labels)
        .filter(([k, v]) => !closed[k]?.(v))
        .map(([k, v]) => `${s.name} ${k}=${v}`),
    );
    expect(odd).toEqual([]);
  });

  it('answers this host only; from elsewhere, or behind a trusted proxy, it is 403', async () => {
    const far = await t.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(far.statusCode).toBe(403);
    expect(far.body).not.toContain('bulwark_');
    const spoofed = await t.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    expect(spoofed.statusCode).toBe(403);
  });
});

describe('logins and lockouts, counted in one place for both dialects', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());
  const scrape = async () => (await t.inject({ method: 'GET', url: '/metrics' })).body;
  const basic = (user: string, password: string, ip: string) =>
    t.inject({
      method: 'GET',
      url: '/v9/storage/file-devices',
      headers: { authorization: `Basic ${b64(`${user}:${password}`)}` },
      remoteAddress: ip,
    });
  const login = (user: string, password: string, ip: string) =>
    t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      payload: { mode: 4, username: user, password: b64(password) },
      remoteAddress: ip,
    });
  const logins = (text: string, dialect: string, outcome: string) =>
    value(text, 'bulwark_logins_total', { dialect, outcome });

  it('file-devices password checks by outcome, and the account lock and the address block they cause', async () => {
    expect((await basic('admin', ADMIN_PASSWORD, '10.5.0.1')).statusCode).toBe(200);
    expect((await basic('admin', ADMIN_PASSWORD, '10.5.0.1')).statusCode).toBe(200);
    // Five wrong passwords lock the account (the fifth locks it), the sixth finds it locked.
    for (let i = 0; i < 5; i++) expect((await basic('admin', 'Wrong-1', `10.5.1.${i + 1}`)).statusCode).toBe(401);
    expect((await basic('admin', ADMIN_PASSWORD, '10.5.1.9')).json().errorCode).toBe('ACCOUNT_LOCKED');
    // Thirty failures from one address (names that do not exist) block it; the next is throttled.
    for (let i = 0; i < 30; i++) await basic(`ghost${i}`, 'x', '10.5.2.1');
    expect((await basic('ghost', 'x', '10.5.2.1')).json().errorCode).toBe('ADDRESS_THROTTLED');
    let text = await scrape();
    expect(logins(text, 'file-devices', 'success')).toBe(2);
    expect(logins(text, 'file-devices', 'bad_credentials')).toBe(35);
    expect(logins(text, 'file-devices', 'account_locked')).toBe(1);
    expect(logins(text, 'file-devices', 'address_blocked')).toBe(1);
    expect(value(text, 'bulwark_lockouts_total', { kind: 'account' })).toBe(1);
    expect(value(text, 'bulwark_lockouts_total', { kind: 'address' })).toBe(1);
    expect(logins(text, 'commserve', 'success') + logins(text, 'commserve', 'bad_credentials')).toBe(0);
    // The same lock answers a CommServe Login, counted under its own dialect.
    await login('admin', ADMIN_PASSWORD, '10.5.3.1');
    await login('ghost', 'x', '10.5.2.1');
    text = await scrape();
    expect(logins(text, 'commserve', 'account_locked')).toBe(1);
    expect(logins(text, 'commserve', 'address_blocked')).toBe(1);
    expect(value(text, 'bulwark_lockouts_total', { kind: 'account' })).toBe(1);
  });
});

describe('GET /metrics with a token, or behind a proxy', () => {
  const TOKEN = `${'m'.repeat(20)}etrics-token-0123`;
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ metricsToken: TOKEN, trustProxy: true });
  });
  afterAll(() => t.close());

  it('takes exactly the token, from anywhere; nothing else, not even this host', async () => {
    const get = (headers: Record<string, string>, remoteAddress = '10.9.8.7') =>
      t.inject({ method: 'GET', url: '/metrics', headers, remoteAddress });
    expect((await get({ authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    expect((await get({ authorization: `Bearer ${TOKEN}x` })).statusCode).toBe(403);
    expect((await get({ authorization: `Bearer ${TOKEN.slice(1)}` })).statusCode).toBe(403);
    expect((await get({ authorization: TOKEN })).statusCode).toBe(403);
    expect((await get({}, '127.0.0.1')).statusCode).toBe(403);
  });

  it("keeps the proxy's request id when it is well formed, and makes a new one otherwise", async () => {
    const id = async (given: string) =>
      (await t.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': given } })).headers[
        'x-request-id'
      ] as string;
    expect(await id('lb-0f3a9c2e-77')).toBe('lb-0f3a9c2e-77');
    expect(await id('x'.repeat(65))).toMatch(UUID);
    expect(await id('short')).toMatch(UUID);
    expect(await id('a b"c\\nforged=1 line')).toMatch(UUID);
  });
});

describe('request ids', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await t.login();
  });
  afterAll(() => t.close());

  const logsOf = (id: string) =>
    t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id);

  it('a CommServe error names its request in X-Request-Id and every log line of it', async () => {
    const res = await t.call('GET', '/User/999999', admin);
    expect(res.json().errorCode).toBe(1200);
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    // The product's envelope stays as the seeds show it: the id is in the header, not the body.
    expect(res.json().requestId).toBeUndefined();
    const lines = logsOf(id);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'request refused', 'request completed']),
    );
  });

  it('an XML error carries it too, and each request gets its own', async () => {
    const a = await t.call('GET', '/User/999999', admin, undefined, { accept: 'application/xml' });
    const b = await t.call('GET', '/User/999999', admin, undefined, { accept: 'application/xml' });
    const idA = a.headers['x-request-id'];
    expect(idA).toMatch(UUID);
    expect(a.body).toContain('App_GenericResp');
    expect(b.headers['x-request-id']).not.toBe(idA);
  });

  it('errors of the framework and unknown routes carry it; an inbound id is not taken without a trusted proxy', async () => {
    const unknown = await t.inject({
      method: 'GET',
      url: '/nowhere',
      headers: { 'x-request-id': 'attacker-chosen-1' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['x-request-id']).toMatch(UUID);
    const badUrl = await t.inject({ method: 'GET', url: `${BASE}/User/%zz` });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.headers['x-request-id']).toMatch(UUID);
    const noToken = await t.inject({ method: 'GET', url: `${BASE}/User`, headers: { accept: 'application/json' } });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.headers['x-request-id']).toMatch(UUID);
    expect(logsOf(noToken.headers['x-request-id'] as string).length).toBeGreaterThan(0);
  });
});

describe('lockout and passkey counters', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('counts an account lock once, and the refused logins while it holds', async () => {
    const bad = () =>
      t.inject({
        method: 'POST',
        url: `${BASE}/Login`,
        payload: { mode: 4, username: 'admin', password: b64(`${ADMIN_PASSWORD}x`) },
      });
    for (let i = 0; i < 5; i++) await bad();
    await bad();
    const text = (await t.inject({ method: 'GET', url: '/metrics' })).body;
    expect(value(text, 'bulwark_lockouts_total', { kind: 'account' })).toBe(1);
    expect(value(text, 'bulwark_logins_total', { outcome: 'bad_credentials' })).toBe(5);
    expect(value(text, 'bulwark_logins_total', { outcome: 'account_locked' })).toBe(1);
  });
});
