import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteInfo } from '../src/app.js';
import { BASE, routesOf, startApp, type TestApp } from './harness.js';

// Every route the app registers, found at build time: a route added later is
// covered here without anyone remembering to add it.
let t: TestApp;
let routes: RouteInfo[];
beforeAll(async () => {
  t = await startApp();
  routes = await routesOf(t);
});
afterAll(async () => {
  await t.close();
});

const concrete = (url: string) => url.replace(/:(\w+)/g, '1');
const isCommServe = (r: RouteInfo) => r.url.startsWith('/commandcenter/api') || r.url.startsWith('/webconsole/api');

describe('the security table, for every CommServe route', () => {
  it('finds the routes (and the public ones are exactly the base, Login and RenewLoginToken)', () => {
    const cs = routes.filter(isCommServe);
    expect(cs.length).toBeGreaterThan(20);
    const publicOnes = new Set(
      cs.filter((r) => r.public).map((r) => r.url.replace(/^\/(commandcenter|webconsole)\/api/, '')),
    );
    expect([...publicOnes].sort()).toEqual(['', '/Login', '/RenewLoginToken']);
  });

  it('every other route declares what it needs (commserve/authorize.ts), and "signed in" only where it answers about the caller or scopes a list', () => {
    const cs = routes.filter((r) => isCommServe(r) && !r.public);
    const undeclared = cs.filter((r) => r.requires === undefined).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
    const signedIn = new Set(
      cs
        .filter((r) => r.requires && 'signedIn' in r.requires)
        .map((r) => `${r.method} ${r.url.replace(/^\/(commandcenter|webconsole)\/api/, '')}`),
    );
    // A new entry here is a decision: its handler must show only what the caller may see.
    expect([...signedIn].sort()).toEqual(
      [
        'GET /Client',
        'GET /ClientGroup',
        'GET /Entities',
        'GET /Organization',
        'GET /Plan',
        'GET /Security/Permissions',
        'GET /Security/Roles',
        'GET /User',
        'GET /UserGroup',
        'GET /V4/UserGroup',
        'GET /WhoAmI',
        'GET /v4/user',
        'POST /Logout',
        'POST /WhoAmI',
        // Fixed answers cvpysdk needs on its way to a restore, and the job list (scoped like GET Client).
        'GET /CommServ',
        'GET /Schedules',
        'GET /VSAClientAndClientGroupList',
        'POST /Jobs',
        // Credential Manager reads: only records the caller manages, created, or may use (issue 12).
        'GET /CommCell/Credentials',
        'GET /CommCell/Credentials/:id',
        'GET /V5/credential/:id',
      ].sort(),
    );
  });

  it('answers 401 with errorCode 1100 without an Authtoken, with a forged one, and with a revoked one', async () => {
    const token = await t.login();
    await t.call('POST', '/Logout', token);
    const forged = `QSDK ${'ab'.repeat(32)}`;
    for (const r of routes.filter((x) => isCommServe(x) && !x.public)) {
      for (const header of [undefined, forged, token, 'QSDK', 'x'.repeat(600)]) {
        const res = await t.inject({
          method: r.method as 'GET',
          url: concrete(r.url),
          headers: header ? { authtoken: header } : {},
          ...(r.method === 'POST' ? { payload: {} } : {}),
        });
        expect(res.statusCode, `${r.method} ${r.url} with ${header?.slice(0, 10)}`).toBe(401);
        expect(res.json().errorCode).toBe(1100);
      }
    }
  });

  it('GET of the base answers 200 without a token under both mount points', async () => {
    for (const base of ['/commandcenter/api', '/webconsole/api', '/commandcenter/api/', '/WebConsole/API']) {
      expect((await t.inject({ method: 'GET', url: base })).statusCode, base).toBe(200);
    }
  });

  it('an unknown route is a 404, not a 500', async () => {
    const res = await t.inject({ method: 'GET', url: `${BASE}/NoSuchThing` });
    expect(res.statusCode).toBe(404);
  });
});

describe('malformed URLs', () => {
  it('an over-long or badly encoded path parameter answers in our envelope without echoing the URL', async () => {
    const token = await t.login();
    const long = await t.call('GET', `/User/${'1'.repeat(300)}`, token);
    expect(long.statusCode).toBe(414);
    expect(long.json()).toEqual({ errorCode: 1200, errorMessage: 'The request URL is not valid' });
    const bad = await t.call('GET', '/User/%zz', token);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('%zz');
  });
});
