import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteInfo } from '../src/app.js';
import { newApiKey } from '../src/domain/api-keys.js';
import { CALL_IDS } from '../src/filedevices/calls.js';
import { ADMIN_BASIC, commCellUser, createVs, type FdAuth, fd, mintKey, userAuth } from './filedevices.js';
import { routesOf, startApp, type TestApp } from './harness.js';

// The twin of security-table.test.ts for the file-devices dialect: every
// route the app registers under /v9/storage, found at build time, so a route
// added later is covered without anyone listing it.
let t: TestApp;
let routes: RouteInfo[];
let readOnlyKey: string;
let vsOnlyKey: string;
let callOnlyKey: string;
beforeAll(async () => {
  t = await startApp();
  routes = (await routesOf(t)).filter((r) => r.url.startsWith('/v9/storage'));
  const admin = await t.login();
  await commCellUser(t, admin, 'viewer', 'View');
  await commCellUser(t, admin, 'victim', 'Master');
  await createVs(t, 'evs1', '10.0.0.1');
  await createVs(t, 'evs2', '10.0.0.2');
  await fd(t, 'POST', 'file-devices/management/api-key-groups', ADMIN_BASIC, { name: 'g1' });
  readOnlyKey = (await mintKey(t, { restApiAccess: 'READ_ONLY', description: 'ro' })).key;
  vsOnlyKey = (await mintKey(t, { restApiAccess: 'FULL_CONTROL', restrictedToVirtualServers: ['evs2'] })).key;
  callOnlyKey = (
    await mintKey(t, { restApiAccess: 'FULL_CONTROL', keyType: 'CALLID_RESTRICTED', allowedCallIds: ['getFileDevice'] })
  ).key;
});
afterAll(async () => {
  await t.close();
});

/** A concrete URL for a route: ids name evs1 (virtual server 1), group 1, a key that does not exist. */
const concrete = (url: string) =>
  url
    .replace('/v9/storage/', '')
    .replace(':ip', '10.0.0.1')
    .replace(':keyId', 'AAAAAAAAAA')
    .replace(/:id/, url.includes('api-keys') ? 'AAAAAAAAAA' : '1');
const bodyFor = (r: RouteInfo) =>
  r.url.endsWith('/ip-addresses')
    ? { ipAddress: '10.9.9.9', netmask: '24', port: 'ag1' }
    : r.method === 'POST' || r.method === 'PATCH'
      ? {}
      : undefined;

describe('the security table, for every file-devices route', () => {
  it('every route declares a call id, each call id names exactly one route, and none is public', () => {
    expect(routes.length).toBe(CALL_IDS.length);
    expect(routes.filter((r) => !r.fd).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    expect(routes.map((r) => r.fd?.call).sort()).toEqual([...CALL_IDS].sort());
    expect(routes.filter((r) => r.public)).toEqual([]);
    // Writes are exactly the non-GET routes.
    for (const r of routes) expect(r.fd?.write, `${r.method} ${r.url}`).toBe(r.method !== 'GET');
  });

  it('answers 401 in the envelope without credentials, and with wrong or malformed ones', async () => {
    const forged = newApiKey().key; // well-formed, checksum valid, never stored
    const cases: FdAuth[] = [
      null,
      { key: forged },
      { key: 'not-a-key' },
      { key: `${forged.slice(0, -1)}${forged.endsWith('A') ? 'B' : 'A'}` },
      { user: 'ghost', password: 'nope', scheme: 'basic' },
      { user: 'victim', password: 'wrong', scheme: 'subsystem' },
      { headers: { authorization: 'Bearer abc' } },
      { headers: { 'x-subsystem-user': 'admin' } },
    ];
    let n = 0;
    for (const r of routes) {
      for (const auth of cases) {
        // Each from its own address: the per-address throttle is not what this table is about.
        const ip = `192.0.2.${(n++ % 250) + 1}`;
        const res = await fd(t, r.method, concrete(r.url), auth, bodyFor(r), ip);
        expect(res.statusCode, `${r.method} ${r.url} with ${JSON.stringify(auth)}`).toBe(401);
        const body = res.json();
        expect(Object.keys(body).sort()).toEqual(['errorCode', 'errorDetail', 'errorMsg']);
        expect(['NOT_AUTHENTICATED', 'INVALID_CREDENTIALS', 'ACCOUNT_LOCKED']).toContain(body.errorCode);
      }
    }
  });

  it('password failures here count toward the same lockout as CommServe Login', async () => {
    const admin = await t.login();
    await commCellUser(t, admin, 'target', 'View');
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await fd(
            t,
            'GET',
            'file-devices',
            { user: 'TARGET', password: `bad${i}`, scheme: 'basic' },
            undefined,
            '198.51.100.1',
          )
        ).statusCode,
      ).toBe(401);
    }
    const locked = await fd(t, 'GET', 'file-devices', userAuth('target'), undefined, '198.51.100.2');
    expect(locked.json().errorCode).toBe('ACCOUNT_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    const login = await t.inject({
      method: 'POST',
      url: '/commandcenter/api/Login',
      payload: { username: 'target', password: Buffer.from('Storage-Passw0rd!').toString('base64') },
    });
    expect(login.json().errList[0].errorCode).toBe(1102);
  });

  it('read-only callers (a READ_ONLY key, a USER) are refused every write with 403, and read every read', async () => {
    for (const auth of [{ key: readOnlyKey }, userAuth('viewer', 'subsystem')] as FdAuth[]) {
      for (const r of routes) {
        const res = await fd(t, r.method, concrete(r.url), auth, bodyFor(r));
        if (r.method === 'GET') expect([200, 404], `${r.method} ${r.url}`).toContain(res.statusCode);
        else {
          expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
          expect(res.json().errorCode).toBe('ACCESS_DENIED');
        }
      }
    }
  });

  it('restricted keys: a call-id key makes its call only; a virtual-server key gets 404 for the others', async () => {
    for (const r of routes) {
      const res = await fd(t, r.method, concrete(r.url), { key: callOnlyKey }, bodyFor(r));
      const allowed = r.fd?.call === 'getFileDevice' || r.fd?.call === 'getAccessLevel';
      if (allowed) expect(res.statusCode).toBe(200);
      else expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
    }
    for (const r of routes.filter((x) => x.url.includes('virtual-servers/:id'))) {
      const res = await fd(t, r.method, concrete(r.url), { key: vsOnlyKey }, bodyFor(r));
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(404);
    }
  });
});

// key type x access x restriction x call, against a reference model of the rule.
describe('the key table: type x access x restriction x method', () => {
  const types = ['UNRESTRICTED', 'CALLID_WITH', 'CALLID_WITHOUT'] as const;
  const levels = ['NO_ACCESS', 'READ_ONLY', 'FULL_CONTROL'] as const;
  const restrictions = [null, 'evs1', 'evs2'] as const;
  const calls = [
    { call: 'listVirtualServers', method: 'GET', path: 'virtual-servers', write: false, body: undefined },
    { call: 'getVirtualServer', method: 'GET', path: 'virtual-servers/evs1', write: false, body: undefined },
    { call: 'updateVirtualServer', method: 'PATCH', path: 'virtual-servers/1', write: true, body: { nodeId: 1 } },
    { call: 'enableVirtualServer', method: 'POST', path: 'virtual-servers/1/enable', write: true, body: undefined },
  ] as const;

  it('every combination answers as the model says', async () => {
    for (const type of types) {
      for (const level of levels) {
        for (const restriction of restrictions) {
          for (const c of calls) {
            const body: Record<string, unknown> = { restApiAccess: level };
            if (type !== 'UNRESTRICTED') {
              body.keyType = 'CALLID_RESTRICTED';
              body.allowedCallIds = type === 'CALLID_WITH' ? [c.call] : ['getFileDevice'];
            }
            if (restriction) body.restrictedToVirtualServers = [restriction];
            const { key } = await mintKey(t, body);
            const res = await fd(t, c.method, c.path, { key }, c.body);
            const expected =
              type === 'CALLID_WITHOUT' || level === 'NO_ACCESS' || (c.write && level !== 'FULL_CONTROL')
                ? 403
                : restriction === 'evs2' && c.call !== 'listVirtualServers'
                  ? 404
                  : c.method === 'GET'
                    ? 200
                    : 204;
            const label = `${type} ${level} ${restriction} ${c.call}`;
            expect(res.statusCode, label).toBe(expected);
            if (c.call === 'listVirtualServers' && expected === 200) {
              const names = res.json().virtualServers.map((v: { name: string }) => v.name);
              expect(names, label).toEqual(restriction ? [restriction] : ['evs1', 'evs2']);
            }
          }
        }
      }
    }
  });
});
