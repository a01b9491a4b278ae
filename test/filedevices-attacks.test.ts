import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiKeyObjectId, groupObjectId, virtualServerObjectId } from '../src/domain/object-id.js';
import { CALL_IDS } from '../src/filedevices/calls.js';
import { ADMIN_BASIC, commCellUser, createVs, type FdAuth, fd, mintKey, setRole, userAuth } from './filedevices.js';
import { ADMIN_PASSWORD, b64, startApp, type TestApp } from './harness.js';

// An attacker's review of the file-devices dialect: each rule of
// src/filedevices/caller.ts (R1-R10) against callers that should not get
// past it, by a reference model over generated requests, and hostile input
// that must never answer 5xx.

// Property runs make hundreds of requests: on a loaded machine, past the 30 s default.
vi.setConfig({ testTimeout: 120_000 });

const KEYS = 'file-devices/management/api-keys';
const GROUPS = 'file-devices/management/api-key-groups';
const ACCESS = ['NO_ACCESS', 'READ_ONLY', 'FULL_CONTROL'] as const;
type Access = (typeof ACCESS)[number];
const rank = (a: Access) => ACCESS.indexOf(a);
const DAY = 86_400_000;

/** A key's powers as the model sees them (ids of servers and groups; null = unrestricted). */
interface Powers {
  rest: Access;
  soap: Access;
  callIds: string[] | null;
  vs: number[] | null;
  groups: number[] | null;
  sources: string[] | null;
  expires: number | null;
}

/** The model's CIDR containment, for the few ranges the generator uses. */
const RANGES: Record<string, [number, number]> = {
  '10.0.0.0/8': [0x0a000000, 0x0affffff],
  '10.1.0.0/16': [0x0a010000, 0x0a01ffff],
  '10.1.2.0/24': [0x0a010200, 0x0a0102ff],
  '192.168.0.0/16': [0xc0a80000, 0xc0a8ffff],
  '0.0.0.0/0': [0, 0xffffffff],
};
const cidrIn = (inner: string, outer: string) => {
  const [a, b] = RANGES[inner] as [number, number];
  const [c, d] = RANGES[outer] as [number, number];
  return a >= c && b <= d;
};
const subset = (inner: number[] | string[] | null, outer: number[] | string[] | null) =>
  outer === null || (inner !== null && (inner as unknown[]).every((x) => (outer as unknown[]).includes(x)));

/** R5: whether `k` is within `ceiling`, written apart from the server's withinCeiling. */
function modelWithin(k: Powers, ceiling: Powers): boolean {
  return (
    rank(k.rest) <= rank(ceiling.rest) &&
    rank(k.soap) <= rank(ceiling.soap) &&
    subset(k.callIds, ceiling.callIds) &&
    subset(k.vs, ceiling.vs) &&
    subset(k.groups, ceiling.groups) &&
    (ceiling.sources === null ||
      k.sources?.every((s) => (ceiling.sources as string[]).some((o) => cidrIn(s, o))) === true) &&
    (ceiling.expires === null || (k.expires !== null && k.expires <= ceiling.expires))
  );
}

let t: TestApp;
const vsIds: Record<string, number> = {};
const attackers: Record<string, { auth: FdAuth; powers: Powers; ip: string; writes: Set<string> | 'all' | 'none' }> =
  {};
const ALL_WRITES = 'all' as const;

beforeAll(async () => {
  t = await startApp();
  const admin = await t.login();
  for (const [i, name] of ['evs1', 'evs2', 'evs3'].entries()) {
    vsIds[name] = (await createVs(t, name, `10.0.0.${i + 1}`)).virtualServerId;
  }
  for (const g of ['g1', 'g2']) expect((await fd(t, 'POST', GROUPS, ADMIN_BASIC, { name: g })).statusCode).toBe(201);
  await commCellUser(t, admin, 'viewer', 'View');
  const far = new Date(t.clock.now().getTime() + 10 * DAY).toISOString();
  const full: Powers = {
    rest: 'FULL_CONTROL',
    soap: 'FULL_CONTROL',
    callIds: null,
    vs: null,
    groups: null,
    sources: null,
    expires: null,
  };
  const mint = async (
    name: string,
    body: Record<string, unknown>,
    powers: Powers,
    ip: string,
    writes: Set<string> | 'all' | 'none',
  ) => {
    const k = await mintKey(t, body);
    attackers[name] = { auth: { key: k.key }, powers, ip, writes };
    return k;
  };
  attackers.user = {
    auth: userAuth('viewer'),
    powers: { ...full, rest: 'READ_ONLY', soap: 'READ_ONLY' },
    ip: '10.1.2.3',
    writes: 'none',
  };
  await mint(
    'readOnly',
    { restApiAccess: 'READ_ONLY', soapApiAccess: 'READ_ONLY' },
    { ...full, rest: 'READ_ONLY', soap: 'READ_ONLY' },
    '10.1.2.3',
    'none',
  );
  const calls = ['createApiKey', 'updateApiKey', 'getApiKey', 'listApiKeys', 'deleteApiKey', 'listVirtualServers'];
  await mint(
    'callId',
    { restApiAccess: 'FULL_CONTROL', soapApiAccess: 'NO_ACCESS', keyType: 'CALLID_RESTRICTED', allowedCallIds: calls },
    { ...full, soap: 'NO_ACCESS', callIds: [...calls].sort() },
    '10.1.2.3',
    new Set(calls),
  );
  await mint(
    'vsRestricted',
    {
      restApiAccess: 'FULL_CONTROL',
      restrictedToVirtualServers: ['evs1'],
      allowedSourceAddresses: ['10.1.0.0/16'],
      expiresAt: far,
    },
    { ...full, soap: 'NO_ACCESS', vs: [vsIds.evs1 as number], sources: ['10.1.0.0/16'], expires: Date.parse(far) },
    '10.1.2.3',
    ALL_WRITES,
  );
  const g = await mint(
    'groupRestricted',
    { restApiAccess: 'FULL_CONTROL', soapApiAccess: 'READ_ONLY', restrictedToApiKeyGroups: ['g1'] },
    { ...full, soap: 'READ_ONLY', groups: [1] },
    '10.1.2.3',
    ALL_WRITES,
  );
  expect((await fd(t, 'POST', `${GROUPS}/g1/members`, ADMIN_BASIC, { apiKeys: [g.objectId] })).statusCode).toBe(204);
}, 120_000);
afterAll(async () => {
  await t.close();
});

// What a generated body asks for, and the same as model powers.
const vsName = fc.constantFrom('evs1', 'evs2', 'evs3');
const bodyArb = fc.record(
  {
    restApiAccess: fc.constantFrom(...ACCESS),
    soapApiAccess: fc.constantFrom(...ACCESS),
    callIds: fc.option(
      fc.subarray(['createApiKey', 'updateApiKey', 'getApiKey', 'listVirtualServers', 'getFileDevice'], {
        minLength: 1,
      }),
      { nil: null },
    ),
    vs: fc.option(fc.uniqueArray(vsName, { maxLength: 3 }), { nil: null }),
    groups: fc.option(fc.uniqueArray(fc.constantFrom('g1', 'g2'), { maxLength: 2 }), { nil: null }),
    sources: fc.option(
      fc.subarray(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '192.168.0.0/16', '0.0.0.0/0'], {
        minLength: 1,
        maxLength: 2,
      }),
      { nil: null },
    ),
    expiresInDays: fc.option(fc.constantFrom(1, 9, 11, 365), { nil: null }),
  },
  { requiredKeys: ['restApiAccess'] },
);
type GenBody = typeof bodyArb extends fc.Arbitrary<infer T> ? T : never;

function wire(b: GenBody): Record<string, unknown> {
  const out: Record<string, unknown> = { restApiAccess: b.restApiAccess };
  if (b.soapApiAccess !== undefined) out.soapApiAccess = b.soapApiAccess;
  if (b.callIds !== undefined) {
    if (b.callIds === null) out.keyType = 'UNRESTRICTED';
    else Object.assign(out, { keyType: 'CALLID_RESTRICTED', allowedCallIds: b.callIds });
  }
  if (b.vs !== undefined) out.restrictedToVirtualServers = b.vs ?? [];
  if (b.groups !== undefined) out.restrictedToApiKeyGroups = b.groups ?? [];
  if (b.sources !== undefined) out.allowedSourceAddresses = b.sources;
  if (b.expiresInDays !== undefined)
    out.expiresAt =
      b.expiresInDays === null ? null : new Date(t.clock.now().getTime() + b.expiresInDays * DAY).toISOString();
  return out;
}

/** The body applied over `base` (a new key: READ_ONLY, no SOAP, unrestricted), as model powers. */
function applied(base: Powers, b: GenBody): Powers {
  const ids = (names: string[] | null | undefined, old: number[] | null, of: (n: string) => number) =>
    names === undefined ? old : names === null || names.length === 0 ? null : [...new Set(names.map(of))].sort();
  return {
    rest: b.restApiAccess,
    soap: b.soapApiAccess ?? base.soap,
    callIds: b.callIds === undefined ? base.callIds : b.callIds === null ? null : [...b.callIds].sort(),
    vs: ids(b.vs, base.vs, (n) => vsIds[n] as number),
    groups: ids(b.groups, base.groups, (n) => Number(n.slice(1))),
    sources: b.sources === undefined ? base.sources : b.sources,
    expires:
      b.expiresInDays === undefined
        ? base.expires
        : b.expiresInDays === null
          ? null
          : t.clock.now().getTime() + b.expiresInDays * DAY,
  };
}

/** R7/R8: a reference to a server or group the caller cannot see answers 404 before any ceiling. */
const namesHidden = (c: Powers, b: GenBody) =>
  (c.vs !== null && (b.vs ?? []).some((n) => !(c.vs as number[]).includes(vsIds[n] as number))) ||
  (c.groups !== null && (b.groups ?? []).some((n) => !(c.groups as number[]).includes(Number(n.slice(1)))));

const NEW_KEY: Powers = {
  rest: 'READ_ONLY',
  soap: 'NO_ACCESS',
  callIds: null,
  vs: null,
  groups: null,
  sources: null,
  expires: null,
};
const mayWrite = (a: (typeof attackers)[string], call: string) =>
  a.writes === 'all' || (a.writes !== 'none' && a.writes.has(call));

describe('R4, R5: minting a key, by every kind of weaker caller, against the model', () => {
  it.each(['user', 'readOnly', 'callId', 'vsRestricted', 'groupRestricted'])('%s', async (name) => {
    const a = attackers[name] as (typeof attackers)[string];
    await fc.assert(
      fc.asyncProperty(bodyArb, async (b) => {
        const res = await fd(t, 'POST', KEYS, a.auth, wire(b), a.ip);
        const want = applied(NEW_KEY, b);
        const expected =
          !mayWrite(a, 'createApiKey') || a.powers.groups !== null
            ? 403
            : namesHidden(a.powers, b)
              ? 404
              : modelWithin(want, a.powers)
                ? 201
                : 403;
        expect(res.statusCode, `${name} ${JSON.stringify(wire(b))} ${res.body}`).toBe(expected);
        if (res.statusCode === 201) {
          const k = res.json().apiKey;
          expect(k.restApiAccess).toBe(want.rest);
          expect(k.restrictedToVirtualServers).toEqual((want.vs ?? []).map(virtualServerObjectId));
          expect((await fd(t, 'DELETE', `${KEYS}/${k.objectId}`, ADMIN_BASIC)).statusCode).toBe(204);
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe('R5, R6: PATCHing a key to something stronger, never past the caller', () => {
  it.each(['callId', 'vsRestricted', 'groupRestricted'])('%s', async (name) => {
    const a = attackers[name] as (typeof attackers)[string];
    await fc.assert(
      fc.asyncProperty(bodyArb, async (b) => {
        // A victim exactly as strong as the attacker (so within it), made by the administrator.
        const p = a.powers;
        const victim = await mintKey(t, {
          restApiAccess: p.rest,
          soapApiAccess: p.soap,
          ...(p.callIds ? { keyType: 'CALLID_RESTRICTED', allowedCallIds: p.callIds } : {}),
          ...(p.vs ? { restrictedToVirtualServers: p.vs.map(String) } : {}),
          ...(p.groups ? { restrictedToApiKeyGroups: p.groups.map(String) } : {}),
          ...(p.sources ? { allowedSourceAddresses: p.sources } : {}),
          ...(p.expires ? { expiresAt: new Date(p.expires).toISOString() } : {}),
        });
        if (p.groups) await fd(t, 'POST', `${GROUPS}/g1/members`, ADMIN_BASIC, { apiKeys: [victim.objectId] });
        const before = (await fd(t, 'GET', `${KEYS}/${victim.objectId}`, ADMIN_BASIC)).json();
        const res = await fd(t, 'PATCH', `${KEYS}/${victim.objectId}`, a.auth, wire(b), a.ip);
        const expected = namesHidden(p, b) ? 404 : modelWithin(applied(p, b), p) ? 204 : 403;
        expect(res.statusCode, `${name} ${JSON.stringify(wire(b))} ${res.body}`).toBe(expected);
        const after = (await fd(t, 'GET', `${KEYS}/${victim.objectId}`, ADMIN_BASIC)).json();
        if (expected !== 204) expect(after).toEqual(before);
        else expect(after.apiKey.restApiAccess).toBe(b.restApiAccess);
        await fd(t, 'DELETE', `${KEYS}/${victim.objectId}`, ADMIN_BASIC);
      }),
      { numRuns: 12 },
    );
  });

  it('no caller widens its own key, clears its restrictions with [], or hands it to another owner', async () => {
    const mine = async (name: string) => {
      const a = attackers[name] as (typeof attackers)[string];
      const level = (await fd(t, 'GET', 'file-devices/management/access-level', a.auth, undefined, a.ip)).json();
      return { a, prefix: level.apiKeyPrefix as string };
    };
    for (const [name, body] of [
      ['vsRestricted', { restrictedToVirtualServers: [] }],
      ['vsRestricted', { restrictedToVirtualServers: ['evs1', 'evs2'] }],
      ['vsRestricted', { allowedSourceAddresses: null }],
      ['vsRestricted', { expiresAt: null }],
      ['groupRestricted', { restrictedToApiKeyGroups: [] }],
      ['groupRestricted', { soapApiAccess: 'FULL_CONTROL' }],
      ['callId', { keyType: 'UNRESTRICTED' }],
      ['callId', { allowedCallIds: [...CALL_IDS] }],
    ] as const) {
      const { a, prefix } = await mine(name);
      const res = await fd(t, 'PATCH', `${KEYS}/${apiKeyObjectId(prefix)}`, a.auth, body, a.ip);
      expect([403, 404], `${name} ${JSON.stringify(body)}`).toContain(res.statusCode);
    }
    const { a, prefix } = await mine('vsRestricted');
    for (const body of [{ owner: 'admin' }, { ownerUserId: 1 }, { prefix: 'AAAAAAAAAA' }, { key: 'x' }]) {
      expect((await fd(t, 'PATCH', `${KEYS}/${prefix}`, a.auth, body, a.ip)).statusCode).toBe(400);
    }
  });
});

describe('R7, R8, R9: what a restricted caller cannot see answers exactly as what does not exist', () => {
  /** The status and body with the asked-for reference masked, so hidden and absent compare. */
  const answer = async (a: (typeof attackers)[string], method: string, path: string, ref: string, body?: unknown) => {
    const res = await fd(t, method, path.replace('{ref}', encodeURIComponent(ref)), a.auth, body, a.ip);
    return `${res.statusCode} ${res.body.split(JSON.stringify(ref).slice(1, -1)).join('<ref>')}`;
  };

  it('a key restricted to a virtual server: every route on another server, by id, object id or name', async () => {
    const a = attackers.vsRestricted as (typeof attackers)[string];
    const hidden = vsIds.evs2 as number;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', 'virtual-servers/{ref}'],
      ['PATCH', 'virtual-servers/{ref}', { nodeId: 1 }],
      ['DELETE', 'virtual-servers/{ref}'],
      ['POST', 'virtual-servers/{ref}/enable'],
      ['POST', 'virtual-servers/{ref}/disable'],
      ['POST', 'virtual-servers/{ref}/ip-addresses', { ipAddress: '10.7.7.7', netmask: '24', port: 'ag1' }],
      ['DELETE', 'virtual-servers/{ref}/ip-addresses/10.0.0.2'],
      ['POST', KEYS, { restApiAccess: 'READ_ONLY', restrictedToVirtualServers: ['{ref}'] }],
    ];
    for (const [method, path, body] of routes) {
      for (const [shown, absent] of [
        [String(hidden), '999'],
        [virtualServerObjectId(hidden), virtualServerObjectId(999)],
        ['evs2', 'nope'],
      ] as const) {
        const fill = (ref: string) => (body ? JSON.parse(JSON.stringify(body).replace('{ref}', ref)) : undefined);
        const h = await answer(a, method, path, shown, fill(shown));
        const n = await answer(a, method, path, absent, fill(absent));
        expect(h, `${method} ${path} ${shown}`).toBe(n);
        expect(h.startsWith('404 '), h).toBe(true);
      }
    }
    const list = (await fd(t, 'GET', 'virtual-servers', a.auth, undefined, a.ip)).json().virtualServers;
    expect(list.map((v: { name: string }) => v.name)).toEqual(['evs1']);
    expect((await fd(t, 'GET', `virtual-servers?virtualServerId=${hidden}`, a.auth, undefined, a.ip)).json()).toEqual({
      virtualServers: [],
    });
  });

  it('a key restricted to a group: other groups and their keys, and keys naming them, answer as absent', async () => {
    const a = attackers.groupRestricted as (typeof attackers)[string];
    const outsider = await mintKey(t, { restApiAccess: 'READ_ONLY', restrictedToApiKeyGroups: ['g1'] });
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `${GROUPS}/{ref}`],
      ['PATCH', `${GROUPS}/{ref}`, { description: 'x' }],
      ['DELETE', `${GROUPS}/{ref}`],
      ['GET', `${GROUPS}/{ref}/members`],
      ['POST', `${GROUPS}/{ref}/members`, { apiKeys: [outsider.objectId] }],
    ];
    for (const [method, path, body] of routes) {
      for (const [shown, absent] of [
        ['2', '999'],
        [groupObjectId(2), groupObjectId(999)],
        ['g2', 'nope'],
      ] as const) {
        expect(await answer(a, method, path, shown, body), `${method} ${path}`).toBe(
          await answer(a, method, path, absent, body),
        );
      }
    }
    // A key outside its groups (a member of none): GET, PATCH, DELETE, and adding it to g1, as for no key.
    for (const [method, path, body] of [
      ['GET', `${KEYS}/{ref}`],
      ['PATCH', `${KEYS}/{ref}`, { description: 'x' }],
      ['DELETE', `${KEYS}/{ref}`],
      ['POST', `${GROUPS}/g1/members`, { apiKeys: ['{ref}'] }],
      ['DELETE', `${GROUPS}/g1/members/{ref}`],
    ] as Array<[string, string, unknown?]>) {
      const fill = (ref: string) => (body ? JSON.parse(JSON.stringify(body).replace('{ref}', ref)) : undefined);
      for (const [shown, absent] of [
        [outsider.objectId, apiKeyObjectId('ZZZZZZZZZZ')],
        [outsider.apiKey.prefix, 'ZZZZZZZZZZ'],
      ]) {
        const h = await answer(a, method, path, shown as string, fill(shown as string));
        expect(h, `${method} ${path}`).toBe(await answer(a, method, path, absent as string, fill(absent as string)));
        expect(h.startsWith('404 '), h).toBe(true);
      }
    }
  });

  it('lists show a restricted caller no key naming what it cannot see, nor a key’s other groups', async () => {
    const namesEvs2 = await mintKey(t, { restApiAccess: 'READ_ONLY', restrictedToVirtualServers: ['evs2'] });
    const inBoth = await mintKey(t, { restApiAccess: 'READ_ONLY', restrictedToApiKeyGroups: ['g1'] });
    await fd(t, 'POST', `${GROUPS}/g1/members`, ADMIN_BASIC, { apiKeys: [inBoth.objectId] });
    await fd(t, 'POST', `${GROUPS}/g2/members`, ADMIN_BASIC, { apiKeys: [inBoth.objectId] });
    const namesG2 = await mintKey(t, { restApiAccess: 'READ_ONLY', restrictedToApiKeyGroups: ['g1', 'g2'] });
    await fd(t, 'POST', `${GROUPS}/g1/members`, ADMIN_BASIC, { apiKeys: [namesG2.objectId] });
    for (const name of ['vsRestricted', 'groupRestricted'] as const) {
      const a = attackers[name] as (typeof attackers)[string];
      const keys = (await fd(t, 'GET', KEYS, a.auth, undefined, a.ip)).json().apiKeys as Array<
        Record<string, string[]>
      >;
      const text = JSON.stringify(keys);
      for (const hidden of a.powers.vs ? [2, 3] : [])
        expect(text).not.toContain(virtualServerObjectId(vsIds[`evs${hidden}`] as number));
      if (a.powers.groups) {
        expect(text).not.toContain(groupObjectId(2));
        expect(keys.map((k) => k.prefix)).toContain(inBoth.apiKey.prefix);
      }
      expect(keys.map((k) => k.prefix)).not.toContain(namesEvs2.apiKey.prefix);
    }
  });

  it('ids are never reused: a restriction naming a deleted server names no newer one', async () => {
    const vs = await createVs(t, 'evs-gone', '10.0.9.1');
    const k = await mintKey(t, {
      restApiAccess: 'FULL_CONTROL',
      restrictedToVirtualServers: [String(vs.virtualServerId)],
    });
    await fd(t, 'POST', `virtual-servers/${vs.virtualServerId}/disable`, ADMIN_BASIC);
    expect((await fd(t, 'DELETE', `virtual-servers/${vs.virtualServerId}`, ADMIN_BASIC)).statusCode).toBe(204);
    const next = await createVs(t, 'evs-new', '10.0.9.2');
    expect(next.virtualServerId).toBeGreaterThan(vs.virtualServerId);
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).json().virtualServers).toEqual([]);
  });
});

describe('R1: hostile credentials and input never answer 5xx', () => {
  const expectEnvelope = (res: { statusCode: number; body: string }, label: string) => {
    expect(res.statusCode, label).toBeLessThan(500);
    if (res.statusCode >= 400)
      expect(Object.keys(JSON.parse(res.body)).sort(), label).toEqual(['errorCode', 'errorDetail', 'errorMsg']);
  };

  it('credential headers: the table', async () => {
    const good = attackers.readOnly?.auth as { key: string };
    const basic = (raw: string) => ({ authorization: `Basic ${Buffer.from(raw, 'latin1').toString('base64')}` });
    const cases: Array<[string, Record<string, string | string[]>, number]> = [
      [
        'key and good Basic: the key alone (a bad key is 401)',
        { 'x-api-key': 'nope', ...basic(`admin:${ADMIN_PASSWORD}`) },
        401,
      ],
      ['good key and bad Basic: the key alone', { 'x-api-key': good.key, ...basic('admin:wrong') }, 200],
      ['two X-Api-Key headers', { 'x-api-key': [good.key, good.key] }, 401],
      ['two Authorization headers', { authorization: [`Basic ${b64(`admin:${ADMIN_PASSWORD}`)}`, 'Basic eDp5'] }, 401],
      ['two subsystem users', { 'x-subsystem-user': ['admin', 'admin'], 'x-subsystem-password': ADMIN_PASSWORD }, 401],
      ['Basic, a wrong password with colons', basic('viewer:Storage:Passw0rd!'), 401],
      ['Basic, a password with colons', basic('colon:Pa:ss-w0rd:Long!'), 200],
      ['Basic, empty user', basic(':pw'), 401],
      ['Basic, no colon', basic('admin'), 401],
      ['Basic, NUL in the user', basic('adm\u0000in:pw'), 401],
      ['Basic, not UTF-8', { authorization: `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0xc3]).toString('base64')}` }, 401],
      ['Basic, huge', basic(`${'a'.repeat(3000)}:pw`), 401],
      ['Basic, not base64', { authorization: 'Basic ***' }, 401],
      ['key, unicode', { 'x-api-key': encodeURIComponent('ключ.ключ') }, 401],
      ['key, huge', { 'x-api-key': 'A'.repeat(8000) }, 401],
      ['key, empty', { 'x-api-key': '' }, 401],
      ['subsystem user without password', { 'x-subsystem-user': 'admin' }, 401],
      ['subsystem password without user', { 'x-subsystem-password': ADMIN_PASSWORD }, 401],
    ];
    const admin = await t.login();
    await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'colon' }, email: 'c@example.com', password: b64('Pa:ss-w0rd:Long!') }],
    });
    await setRole(t, admin, 'colon', 'View', 'ADD');
    let n = 0;
    for (const [label, headers, status] of cases) {
      const res = await t.inject({
        method: 'GET',
        url: '/v9/storage/file-devices',
        headers: headers as Record<string, string>,
        remoteAddress: `10.66.0.${++n}`,
      });
      expect(res.statusCode, `${label}: ${res.body}`).toBe(status);
      expectEnvelope(res, label);
    }
  });

  const segment = fc.oneof(
    fc.constantFrom(
      '1',
      '0',
      '-1',
      '1e3',
      '0x1',
      '2147483648',
      '99999999999999999999',
      '%00',
      '%ff%fe',
      '..',
      '%2e%2e',
      '__proto__',
      'constructor',
      'evs1',
      ' evs1 ',
      'EVS1',
    ),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('hex')),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom(
      virtualServerObjectId(1),
      `${virtualServerObjectId(1)}0`,
      apiKeyObjectId('AAAAAAAAAA'),
      groupObjectId(1),
    ),
    fc
      .uint8Array({ maxLength: 30 })
      .map((b) => Buffer.concat([Buffer.from(b), Buffer.from(':::OID_$#!@%_V')]).toString('hex')),
  );
  const jsonValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, true, 0, -1, 1.5, 1e308, '1', 'true', 'FULL_CONTROL', '', '\u0000', 'evs1', '10.0.0.1'),
      fc.string({ maxLength: 30 }),
      fc.array(tie('value'), { maxLength: 4 }),
      tie('object'),
    ),
    object: fc.dictionary(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'name',
        'restApiAccess',
        'restrictedToVirtualServers',
        'apiKeys',
        'ipAddress',
        'netmask',
        'port',
        'nodeId',
        'expiresAt',
        'allowedSourceAddresses',
        'keyType',
        'allowedCallIds',
        'description',
        'isEnabled',
      ),
      tie('value'),
      { maxKeys: 6 },
    ),
  })).value;
  const route = fc.constantFrom(
    ['GET', 'virtual-servers/$'],
    ['PATCH', 'virtual-servers/$'],
    ['DELETE', 'virtual-servers/$'],
    ['POST', 'virtual-servers/$/enable'],
    ['POST', 'virtual-servers/$/ip-addresses'],
    ['DELETE', 'virtual-servers/$/ip-addresses/$'],
    ['POST', 'virtual-servers'],
    ['GET', 'virtual-servers?virtualServerId=$&name=$'],
    ['GET', `${KEYS}/$`],
    ['PATCH', `${KEYS}/$`],
    ['DELETE', `${KEYS}/$`],
    ['POST', KEYS],
    ['GET', `${GROUPS}/$`],
    ['PATCH', `${GROUPS}/$`],
    ['POST', `${GROUPS}/$/members`],
    ['DELETE', `${GROUPS}/$/members/$`],
    ['GET', 'file-devices/management/users/$'],
  );

  it('generated paths, ids and bodies, from the administrator and from a restricted key', async () => {
    await fc.assert(
      fc.asyncProperty(
        route,
        fc.array(segment, { minLength: 2, maxLength: 2 }),
        jsonValue,
        fc.boolean(),
        async ([method, path], segs, body, asKey) => {
          let i = 0;
          const url = path.replace(/\$/g, () => segs[i++ % 2] as string);
          const auth = asKey ? (attackers.vsRestricted?.auth as FdAuth) : ADMIN_BASIC;
          const res = await t.inject({
            method: method as 'GET',
            url: `/v9/storage/${url}`,
            headers: {
              'content-type': 'application/json',
              ...(asKey
                ? { 'x-api-key': (auth as { key: string }).key }
                : { authorization: `Basic ${b64(`admin:${ADMIN_PASSWORD}`)}` }),
            },
            payload: method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(body),
            remoteAddress: '10.1.2.3',
          });
          expectEnvelope(res, `${method} ${url} ${JSON.stringify(body).slice(0, 200)}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('raw bodies: prototype keys, huge arrays, deep nesting, numbers as strings, wrong types', async () => {
    const bodies = [
      '{"__proto__":{"restApiAccess":"FULL_CONTROL"},"restApiAccess":"READ_ONLY"}',
      '{"constructor":{"prototype":{"admin":true}}}',
      `{"restrictedToVirtualServers":[${'"1",'.repeat(5000)}"1"]}`,
      `{"apiKeys":[${'"AAAAAAAAAA",'.repeat(5000)}"A"]}`,
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      '{"restApiAccess":"FULL_CONTROL","restApiAccess":"READ_ONLY"}',
      '{"nodeId":"1","name":"x","ipAddress":"10.9.9.9","netmask":"24","port":"ag1"}',
      '{"isEnabled":"true"}',
      '{"expiresAt":"9999-99-99T99:99Z"}',
      '{"expiresAt":"2030-01-01T00:00:00.000000000+25:00"}',
      '{"allowedSourceAddresses":["10.0.0.0/33","::/129","1.2.3.4/-1"]}',
      '{"description":"\\ud800"}',
      '"just a string"',
      'null',
      '{',
      `{"description":"${'x'.repeat(2_000_000)}"}`,
    ];
    for (const [method, path] of [
      ['POST', KEYS],
      ['PATCH', `${KEYS}/AAAAAAAAAA`],
      ['POST', 'virtual-servers'],
      ['PATCH', 'virtual-servers/1'],
      ['POST', `${GROUPS}/1/members`],
    ] as const) {
      for (const payload of bodies) {
        const res = await t.inject({
          method,
          url: `/v9/storage/${path}`,
          headers: { 'content-type': 'application/json', authorization: `Basic ${b64(`admin:${ADMIN_PASSWORD}`)}` },
          payload,
        });
        expectEnvelope(res, `${method} ${path} ${payload.slice(0, 60)}`);
        if (payload.includes('proto') || payload.includes('constructor')) expect(res.statusCode, payload).toBe(400);
      }
    }
    // Nothing leaked into the prototype of every object.
    expect(({} as Record<string, unknown>).restApiAccess).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
