import { describe, expect, it } from 'vitest';
import {
  ADMIN_BASIC,
  ADMIN_SUBSYSTEM,
  commCellUser,
  createVs,
  fd,
  mintKey,
  setRole,
  userAuth,
} from '../../../test/filedevices.js';
import { makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { checkKeyFormat } from '../../domain/api-keys.js';
import { decodeObjectId } from '../../domain/object-id.js';

const KEYS = 'file-devices/management/api-keys';
// The seed's PATCH body, verbatim (file-devices-update-api-key.txt).
const SEED_PATCH =
  '{"description":"This is the description","isEnabled":true,"restApiAccess":"READ_ONLY","restrictedToApiKeyGroups":["313a3a3a3a3a3a303a3a3a4f49445f24232140255f56"],"restrictedToVirtualServers":["1"],"soapApiAccess":"FULL_CONTROL"}';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  t = app;
  admin = token;
});

async function seedObjects() {
  await createVs(t, 'evs1', '10.1.0.1');
  const g = await fd(t, 'POST', 'file-devices/management/api-key-groups', ADMIN_BASIC, { name: 'ops' });
  expect(g.statusCode).toBe(201);
  expect(g.json().apiKeyGroup.objectId).toBe('313a3a3a3a3a3a303a3a3a4f49445f24232140255f56');
}

describe('API keys', () => {
  it('creates a key shown once, in the documented pattern with a valid checksum, and never again', async () => {
    const res = await fd(t, 'POST', KEYS, ADMIN_BASIC, { description: 'ci', restApiAccess: 'FULL_CONTROL' });
    expect(res.statusCode).toBe(201);
    const { apiKey, key } = res.json();
    expect(key).toMatch(/^[A-Za-z0-9]{10}\.[A-Za-z0-9_-]{43}$/);
    expect(checkKeyFormat(key)).toBe(apiKey.prefix);
    expect(decodeObjectId(apiKey.objectId)).toEqual([apiKey.prefix, '0']);
    expect(apiKey).toMatchObject({
      description: 'ci',
      isEnabled: true,
      restApiAccess: 'FULL_CONTROL',
      soapApiAccess: 'NO_ACCESS',
      keyType: 'UNRESTRICTED',
      restrictedToApiKeyGroups: [],
      restrictedToVirtualServers: [],
      owner: 'admin',
    });
    const secret = key.split('.')[1];
    for (const path of [KEYS, `${KEYS}/${apiKey.objectId}`, `${KEYS}/${apiKey.prefix}`]) {
      const got = await fd(t, 'GET', path, ADMIN_BASIC);
      expect(got.statusCode).toBe(200);
      expect(got.body).not.toContain(secret);
    }
    const trail = await t.call('GET', '/AuditTrail?operation=apikey.create', admin);
    expect(trail.body).toContain(apiKey.prefix);
    expect(trail.body).not.toContain(secret);
    // The stored row holds the hash only.
    const row = await t.store.db.selectFrom('fd_api_keys').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it("the seed's PATCH body works verbatim with each of the three auth schemes, and every field shows in GET", async () => {
    await seedObjects();
    const writer = await mintKey(t, {
      restApiAccess: 'FULL_CONTROL',
      soapApiAccess: 'FULL_CONTROL',
      description: 'writer',
    });
    for (const auth of [ADMIN_BASIC, ADMIN_SUBSYSTEM, { key: writer.key }]) {
      const target = await mintKey(t, { description: 'before', restApiAccess: 'FULL_CONTROL' });
      const res = await t.inject({
        method: 'PATCH',
        url: `/v9/storage/${KEYS}/${target.objectId}`,
        headers: {
          'content-type': 'application/json',
          ...(auth && 'key' in auth ? { 'x-api-key': auth.key } : {}),
          ...(auth === ADMIN_SUBSYSTEM
            ? { 'x-subsystem-user': 'admin', 'x-subsystem-password': 'Admin-Passw0rd!' }
            : {}),
          ...(auth === ADMIN_BASIC
            ? { authorization: `Basic ${Buffer.from('admin:Admin-Passw0rd!').toString('base64')}` }
            : {}),
        },
        payload: SEED_PATCH,
      });
      expect(res.statusCode, res.body).toBe(204);
      expect(res.body).toBe('');
      const got = (await fd(t, 'GET', `${KEYS}/${target.objectId}`, ADMIN_BASIC)).json().apiKey;
      expect(got).toMatchObject({
        description: 'This is the description',
        isEnabled: true,
        restApiAccess: 'READ_ONLY',
        soapApiAccess: 'FULL_CONTROL',
        restrictedToApiKeyGroups: ['313a3a3a3a3a3a303a3a3a4f49445f24232140255f56'],
        restrictedToVirtualServers: ['313a3a3a4f49445f24232140255f56'],
      });
    }
  });

  it('names restrictions by object id, plain id or name; [] clears them; isEnabled false refuses the key', async () => {
    await seedObjects();
    const k = await mintKey(t, { restApiAccess: 'READ_ONLY' });
    const path = `${KEYS}/${k.objectId}`;
    await fd(t, 'PATCH', path, ADMIN_BASIC, {
      restrictedToVirtualServers: ['evs1'],
      restrictedToApiKeyGroups: ['ops'],
    });
    let got = (await fd(t, 'GET', path, ADMIN_BASIC)).json().apiKey;
    expect(got.restrictedToVirtualServers).toHaveLength(1);
    expect(got.restrictedToApiKeyGroups).toHaveLength(1);
    await fd(t, 'PATCH', path, ADMIN_BASIC, { restrictedToVirtualServers: [], restrictedToApiKeyGroups: [] });
    got = (await fd(t, 'GET', path, ADMIN_BASIC)).json().apiKey;
    expect(got.restrictedToVirtualServers).toEqual([]);
    expect(got.restrictedToApiKeyGroups).toEqual([]);
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(200);
    expect((await fd(t, 'PATCH', path, ADMIN_BASIC, { isEnabled: false })).statusCode).toBe(204);
    const refused = await fd(t, 'GET', 'virtual-servers', { key: k.key });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({
      errorCode: 'INVALID_CREDENTIALS',
      errorMsg: 'The credentials are not valid',
      errorDetail: { message: 'the API key is disabled' },
    });
  });

  it('answers every documented error in the envelope', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', KEYS, { restApiAccess: 'ROOT' }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { bogus: 1 }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { keyType: 'CALLID_RESTRICTED' }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { keyType: 'CALLID_RESTRICTED', allowedCallIds: ['rmRf'] }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { allowedCallIds: ['listApiKeys'] }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { allowedSourceAddresses: ['10.0.0.1/8'] }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { expiresAt: '2000-01-01T00:00:00Z' }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { description: 'a\u0000b' }, 400, 'INVALID_INPUT'],
      ['POST', KEYS, { restrictedToApiKeyGroups: ['nope'] }, 404, 'NOT_FOUND'],
      ['POST', KEYS, { restrictedToVirtualServers: ['7'] }, 404, 'NOT_FOUND'],
      ['GET', `${KEYS}/AAAAAAAAAA`, undefined, 404, 'NOT_FOUND'],
      ['PATCH', `${KEYS}/${'00'.repeat(20)}`, {}, 404, 'NOT_FOUND'],
      ['DELETE', `${KEYS}/nothing`, undefined, 404, 'NOT_FOUND'],
      ['GET', 'file-devices/nothing-here', undefined, 404, 'ROUTE_NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await fd(t, method, path, ADMIN_BASIC, body);
      expect(res.statusCode, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json().errorCode).toBe(code);
      expect(typeof res.json().errorDetail.message).toBe('string');
    }
    const xml = await t.inject({
      method: 'POST',
      url: `/v9/storage/${KEYS}`,
      headers: {
        'content-type': 'application/xml',
        authorization: `Basic ${Buffer.from('admin:Admin-Passw0rd!').toString('base64')}`,
      },
      payload: '<a/>',
    });
    expect(xml.statusCode).toBe(400);
    expect(xml.json().errorCode).toBe('UNSUPPORTED_MEDIA_TYPE');
    const bad = await t.inject({
      method: 'POST',
      url: `/v9/storage/${KEYS}`,
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('admin:Admin-Passw0rd!').toString('base64')}`,
      },
      payload: '{"__proto__":{"x":1}}',
    });
    expect(bad.statusCode).toBe(400);
  });

  it('a key never exceeds its creator: USER mints nothing, owner demotion weakens, owner disabling refuses', async () => {
    await commCellUser(t, admin, 'viewer', 'View');
    const sup = await commCellUser(t, admin, 'storage', 'Master');
    expect((await fd(t, 'GET', 'file-devices/management/access-level', userAuth('viewer'))).json().accessLevel).toBe(
      'USER',
    );
    const denied = await fd(t, 'POST', KEYS, userAuth('viewer'), { restApiAccess: 'READ_ONLY' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errorCode).toBe('ACCESS_DENIED');
    // A supervisor's writable key.
    const k = await mintKey(t, { restApiAccess: 'FULL_CONTROL' }, userAuth('storage', 'subsystem'));
    expect((await fd(t, 'GET', 'file-devices/management/access-level', { key: k.key })).json().restApiAccess).toBe(
      'FULL_CONTROL',
    );
    // Demoted to View over HTTP (POST Security): the key's very next request reads only, no clock moved.
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(200); // cached now
    await setRole(t, admin, 'storage', 'Master', 'DELETE');
    await setRole(t, admin, 'storage', 'View', 'ADD');
    const level = (await fd(t, 'GET', 'file-devices/management/access-level', { key: k.key })).json();
    expect(level).toMatchObject({ accessLevel: 'USER', restApiAccess: 'READ_ONLY' });
    expect((await fd(t, 'POST', 'virtual-servers/1/disable', { key: k.key })).statusCode).toBe(403);
    expect((await fd(t, 'GET', `${KEYS}/${k.objectId}`, ADMIN_BASIC)).json().apiKey.effectiveRestApiAccess).toBe(
      'READ_ONLY',
    );
    // Disabled owner: the key is refused at once on this node (its cached view is dropped with the sessions).
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(200);
    await t.call('POST', `/User/${sup}`, admin, { users: [{ enableUser: false }] });
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(401);
    // No level at all: 403.
    await commCellUser(t, admin, 'nobody', null);
    expect((await fd(t, 'GET', 'virtual-servers', userAuth('nobody'))).statusCode).toBe(403);
  });

  it("an owner stripped of every level over HTTP: the key's very next write is 403, audited once per burst without the key", async () => {
    await commCellUser(t, admin, 'ops1', 'Master');
    const k = await mintKey(t, { restApiAccess: 'FULL_CONTROL' }, userAuth('ops1'));
    await createVs(t, 'evs-demote', '10.1.7.1', { key: k.key });
    await setRole(t, admin, 'ops1', 'Master', 'DELETE');
    // No clock moved: the level is read from the permission view at each request, not cached with the key.
    for (let i = 0; i < 3; i++) {
      const res = await fd(t, 'POST', 'virtual-servers/evs-demote/disable', { key: k.key });
      expect(res.statusCode).toBe(403);
      expect(res.json().errorDetail.message).toBe("the API key's owner has no file-devices access");
    }
    await t.ctx.refusals.flush();
    const rows = await t.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', '=', 'access.denied')
      .execute();
    expect(rows.length).toBe(2); // the first, then one coalesced record of the other two
    expect(rows[0]?.actor_name).toBe(`ops1 (api key ${k.apiKey.prefix})`);
    expect(JSON.stringify(rows)).not.toContain(k.key.split('.')[1]);
    // Given the level back, the same cached key writes again at once.
    await setRole(t, admin, 'ops1', 'Master', 'ADD');
    expect((await fd(t, 'POST', 'virtual-servers/evs-demote/disable', { key: k.key })).statusCode).toBe(204);
  });

  it("a tenant's administrator has no file-devices access at all", async () => {
    await makeTenant(t, admin, 'acme');
    const tenant = { user: 'acme\\tadmin', password: 'Tenant-Passw0rd!', scheme: 'basic' as const };
    for (const [method, path] of [
      ['GET', 'virtual-servers'],
      ['POST', KEYS],
      ['GET', 'file-devices/management/users'],
    ] as const) {
      const res = await fd(t, method, path, tenant, method === 'POST' ? {} : undefined);
      expect(res.statusCode, `${method} ${path}`).toBe(403);
    }
    const users = (await fd(t, 'GET', 'file-devices/management/users', ADMIN_BASIC)).json().users;
    expect(users.map((u: { name: string; accessLevel: string }) => [u.name, u.accessLevel])).toEqual([
      ['admin', 'SUPERVISOR'],
    ]);
  });

  it('a restricted key cannot mint or widen a key beyond itself', async () => {
    await seedObjects();
    await createVs(t, 'evs2', '10.1.0.2');
    const narrow = await mintKey(t, {
      restApiAccess: 'FULL_CONTROL',
      restrictedToVirtualServers: ['1'],
      allowedSourceAddresses: ['10.9.0.0/16'],
      expiresAt: '2027-01-01T00:00:00Z',
    });
    const as = (body: unknown) => fd(t, 'POST', KEYS, { key: narrow.key }, body, '10.9.1.1');
    expect((await as({ restApiAccess: 'FULL_CONTROL' })).statusCode).toBe(403);
    expect(
      (
        await as({
          restrictedToVirtualServers: ['1'],
          allowedSourceAddresses: ['10.9.0.0/24'],
          expiresAt: '2027-01-02T00:00:00Z',
        })
      ).statusCode,
    ).toBe(403);
    expect((await as({ restrictedToVirtualServers: ['2'], allowedSourceAddresses: ['10.9.0.0/24'] })).statusCode).toBe(
      404,
    );
    const ok = await as({
      restApiAccess: 'READ_ONLY',
      restrictedToVirtualServers: ['1'],
      allowedSourceAddresses: ['10.9.0.0/24'],
      expiresAt: '2026-12-01T00:00:00Z',
    });
    expect(ok.statusCode, ok.body).toBe(201);
    // Nor can it widen a key, or touch an unrestricted one.
    const child = ok.json().apiKey.objectId;
    expect(
      (await fd(t, 'PATCH', `${KEYS}/${child}`, { key: narrow.key }, { restrictedToVirtualServers: [] }, '10.9.1.1'))
        .statusCode,
    ).toBe(403);
    const admins = await mintKey(t, { restApiAccess: 'FULL_CONTROL' });
    expect(
      (await fd(t, 'DELETE', `${KEYS}/${admins.objectId}`, { key: narrow.key }, undefined, '10.9.1.1')).statusCode,
    ).toBe(403);
    // From outside its addresses the key is refused; past its expiry too.
    expect((await fd(t, 'GET', 'virtual-servers', { key: narrow.key }, undefined, '10.8.0.1')).statusCode).toBe(401);
    t.clock.advance(60 * 86_400_000);
    expect((await fd(t, 'GET', 'virtual-servers', { key: narrow.key }, undefined, '10.9.1.1')).statusCode).toBe(401);
  });

  it('deleting a key refuses it at once on this node, and refused keys are audited without the key', async () => {
    const k = await mintKey(t, { restApiAccess: 'READ_ONLY' });
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(200);
    expect((await fd(t, 'DELETE', `${KEYS}/${k.objectId}`, ADMIN_BASIC)).statusCode).toBe(204);
    for (let i = 0; i < 5; i++) expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(401);
    await t.ctx.refusals.flush();
    const rows = await t.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', '=', 'access.denied')
      .execute();
    expect(rows.length).toBe(2); // the first refusal, then one coalesced record of the other four
    expect(JSON.stringify(rows)).not.toContain(k.key.split('.')[1]);
    expect(rows[0]?.actor_name).toBe(`api key ${k.apiKey.prefix}`);
    // Noise with a bad checksum never reaches the store, and is refused the same way.
    const noise = `${k.apiKey.prefix}.${'A'.repeat(43)}`;
    expect((await fd(t, 'GET', 'virtual-servers', { key: noise })).json().errorDetail.message).toBe(
      'the API key is not well-formed',
    );
  });

  it('CALLID_RESTRICTED keys make only their calls', async () => {
    const k = await mintKey(t, {
      restApiAccess: 'FULL_CONTROL',
      keyType: 'CALLID_RESTRICTED',
      allowedCallIds: ['listVirtualServers', 'createVirtualServer'],
    });
    expect((await fd(t, 'GET', 'virtual-servers', { key: k.key })).statusCode).toBe(200);
    expect((await createVs(t, 'evs9', '10.3.0.1', { key: k.key })).virtualServerId).toBe(1);
    expect((await fd(t, 'GET', 'virtual-servers/1', { key: k.key })).statusCode).toBe(403);
    expect((await fd(t, 'GET', KEYS, { key: k.key })).statusCode).toBe(403);
    expect((await fd(t, 'GET', 'file-devices/management/access-level', { key: k.key })).statusCode).toBe(200);
  });
});
