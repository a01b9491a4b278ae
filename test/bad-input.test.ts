import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteInfo } from '../src/app.js';
import { ENTITY_TYPES } from '../src/domain/catalogue.js';
import { addEntities } from './estate.js';
import { BASE, BASES, routesOf, startApp, type TestApp } from './harness.js';

// Issue 9, finding 7: input that answered 500. Nothing a client sends produces a 500.
let t: TestApp;
let admin: string;
let routes: RouteInfo[];
beforeAll(async () => {
  t = await startApp();
  admin = await t.login();
  routes = await routesOf(t);
  await addEntities(
    t.store,
    Array.from({ length: 5 }, (_, i) => [
      { id: 100 + i, type: ENTITY_TYPES.client, companyId: 0, name: `c${i}` },
      { id: 200 + i, type: ENTITY_TYPES.plan, companyId: 0, name: `p${i}` },
      { id: 300 + i, type: ENTITY_TYPES.clientGroup, companyId: 0, name: `g${i}` },
    ]).flat(),
  );
});
afterAll(async () => {
  await t.close();
});

const json = (url: string, payload: string, token?: string) =>
  t.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authtoken: token } : {}) },
    payload,
  });

describe('deeply nested JSON', () => {
  it("POST Login with '[' × 5000 (and deeper, and with the trailing comma the fallback parser takes) is a 400 in Login's envelope", async () => {
    for (const body of ['['.repeat(5000), `${'['.repeat(5000)},`, '['.repeat(500_000), '{"a":'.repeat(100_000)]) {
      for (const base of BASES) {
        const res = await json(`${base}/Login`, body);
        expect(res.statusCode, `${body.length} bytes`).toBe(400);
        expect(res.json()).toEqual({
          errList: [{ errorCode: 1002, errLogMessage: 'JSON nested more than 64 levels deep is not accepted' }],
          isAccountLocked: false,
        });
      }
    }
  });

  it('every other route taking a body answers 400 MALFORMED_JSON, and 64 levels are still read', async () => {
    const res = await json(`${BASE}/User`, `{"users":${'['.repeat(300_000)}`, admin);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      errorCode: 1002,
      errorMessage: 'JSON nested more than 64 levels deep is not accepted',
    });
    // 63 arrays inside the object: 64 levels, within the limit (the schema then refuses the shape).
    const deep = await json(`${BASE}/User`, `{"users":${'['.repeat(63)}${']'.repeat(63)}}`, admin);
    expect(deep.statusCode).toBe(400);
    expect(deep.json().errorCode).toBe(1000);
    // Brackets inside strings are text, not depth.
    const inString = await json(
      `${BASE}/Login`,
      JSON.stringify({ mode: 4, username: '{['.repeat(60), password: 'eA==' }),
    );
    expect(inString.statusCode).toBe(200);
    expect(inString.json().errList[0].errorCode).toBe(1101);
  });

  it('deeply nested XML is a 400 too', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      headers: { 'content-type': 'application/xml', accept: 'application/xml' },
      payload: '<a>'.repeat(50_000),
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('paging, one rule for every list that pages', () => {
  const PAGING = ['/AuditTrail', '/Entities', '/Client', '/ClientGroup', '/Plan'];
  const BAD_OFFSETS = ['1e20', '-1', '1.5', '0x10', '2147483648', '99999999999999999999', 'abc', '+1'];
  const BAD_LIMITS = ['1e20', '-1', '0', '1001', '1.5', '100000', 'all'];

  it('refuses a bad offset or limit with 400 BAD_REQUEST naming the parameter, under both mount points', async () => {
    for (const base of BASES) {
      for (const path of PAGING) {
        const get = (q: string) =>
          t.inject({
            method: 'GET',
            url: `${base}${path}?${q}`,
            headers: { authtoken: admin, accept: 'application/json' },
          });
        for (const v of BAD_OFFSETS) {
          const res = await get(`offset=${encodeURIComponent(v)}`);
          expect(res.statusCode, `${path}?offset=${v}`).toBe(400);
          expect(res.json(), `${path}?offset=${v}`).toEqual({
            errorCode: 1000,
            errorMessage: 'offset must be a whole number from 0 to 2147483647',
          });
        }
        for (const v of BAD_LIMITS) {
          const res = await get(`limit=${encodeURIComponent(v)}`);
          expect(res.statusCode, `${path}?limit=${v}`).toBe(400);
          expect(res.json(), `${path}?limit=${v}`).toEqual({
            errorCode: 1000,
            errorMessage: 'limit must be a whole number from 1 to 1000',
          });
        }
      }
    }
  });

  it('the issue’s own requests: Client?offset=1e20, Entities?offset=1e20, AuditTrail?limit=1e20, Plan?limit=1e20', async () => {
    for (const url of ['/Client?offset=1e20', '/Entities?offset=1e20', '/AuditTrail?limit=1e20', '/Plan?limit=1e20']) {
      const res = await t.call('GET', url, admin);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errorCode, url).toBe(1000);
    }
  });

  it('good pages still page, up to the largest offset and limit', async () => {
    const names = async (path: string, q: string, key: string) => {
      const res = await t.call('GET', `${path}?${q}`, admin);
      expect(res.statusCode, `${path}?${q} ${res.body}`).toBe(200);
      return res.json()[key] as unknown[];
    };
    expect(await names('/Client', 'offset=1&limit=2', 'clientProperties')).toHaveLength(2);
    expect(await names('/Client', '', 'clientProperties')).toHaveLength(5);
    expect(await names('/Plan', 'offset=4', 'plans')).toHaveLength(1);
    expect(await names('/ClientGroup', 'limit=1000&offset=2147483647', 'groups')).toEqual([]);
    expect(await names('/Entities', 'type=client&limit=3', 'entities')).toHaveLength(3);
    expect(await names('/Entities', 'offset=2147483647&limit=1000', 'entities')).toEqual([]);
    expect(await names('/AuditTrail', 'offset=0&limit=1', 'auditTrail')).toHaveLength(1);
    expect(await names('/AuditTrail', 'offset=2147483647', 'auditTrail')).toEqual([]);
    // Empty values are absent ones.
    expect(await names('/Client', 'offset=&limit=', 'clientProperties')).toHaveLength(5);
  });

  it('no GET route answers 500 to hostile paging, filters or ids', async () => {
    const gets = routes.filter((r) => r.method === 'GET' && r.url.startsWith(BASE));
    expect(gets.length).toBeGreaterThan(15);
    for (const r of gets) {
      for (const id of ['1', '1e20', '-1', '99999999999999999999', 'abc']) {
        for (const q of [
          '',
          '?offset=1e20&limit=1e20',
          '?offset=-1',
          '?companyId=1e20&userId=1e20',
          '?type=1e20',
          '?userId=1e20&entityType=3&entityId=1e20&permission=View',
          '?parentProvider/providerId=1e20',
        ]) {
          const url = `${r.url.replace(/:(\w+)/g, id)}${q}`;
          const res = await t.inject({ method: 'GET', url, headers: { authtoken: admin, accept: 'application/json' } });
          expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(500);
        }
      }
    }
  });
});
