import { describe, expect, it } from 'vitest';
import { BASE, type TestApp, withApp } from './harness.js';

// Issue 9, finding 10 (logs): a token sent as ?Authtoken= was logged verbatim.
let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
}, 'all');

describe('query strings in the log', () => {
  it('are redacted on every request line, whatever the route answers', async () => {
    const secret = (n: number) => `QSDK ${'s3cr3t'.repeat(4)}${n}`;
    const q = (n: number) => `?Authtoken=${encodeURIComponent(secret(n))}&offset=0`;
    const requests = [
      { method: 'GET', url: `${BASE}/User${q(1)}` }, // 401: no header
      { method: 'GET', url: `${BASE}/User${q(2)}`, headers: { authtoken: admin } }, // 200
      { method: 'GET', url: `${BASE}/NoSuchThing${q(3)}` }, // 404
      { method: 'GET', url: `${BASE}/User/%zz${q(4)}`, headers: { authtoken: admin } }, // bad URL
      { method: 'GET', url: `${BASE}/Entities${q(5)}&limit=1e20`, headers: { authtoken: admin } }, // 400
      { method: 'POST', url: `${BASE}/Login${q(6)}`, headers: { 'content-type': 'application/json' }, payload: '{' },
      { method: 'GET', url: `/healthz${q(7)}` },
    ] as const;
    const before = t.logs.length;
    for (const r of requests) {
      const res = await t.inject(r as Parameters<TestApp['inject']>[0]);
      expect(res.statusCode).toBeLessThan(500);
    }
    const logged = t.logs.slice(before).join('');
    expect(logged).not.toContain('s3cr3t');
    expect(logged).not.toContain('Authtoken=');
    expect(logged).not.toContain('offset=0');
    // What is logged is still useful: the method and the path, marked as having had a query.
    const urls = t.logs
      .slice(before)
      .map((l) => JSON.parse(l) as { req?: { url: string; method: string } })
      .filter((l) => l.req)
      .map((l) => `${l.req?.method} ${l.req?.url}`);
    expect(urls).toEqual([
      `GET ${BASE}/User?[redacted]`,
      `GET ${BASE}/User?[redacted]`,
      `GET ${BASE}/NoSuchThing?[redacted]`,
      `GET ${BASE}/User/%zz?[redacted]`,
      `GET ${BASE}/Entities?[redacted]`,
      `POST ${BASE}/Login?[redacted]`,
      'GET /healthz?[redacted]',
    ]);
  });

  it('headers stay redacted as before, and a URL without a query is logged as it is', async () => {
    const before = t.logs.length;
    await t.call('GET', '/WhoAmI', admin);
    const logged = t.logs.slice(before).join('');
    expect(logged).toContain(`"url":"${BASE}/WhoAmI"`);
    expect(logged).not.toContain(admin.slice(5));
  });
});
