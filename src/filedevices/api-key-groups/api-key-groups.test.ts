import { describe, expect, it } from 'vitest';
import { ADMIN_BASIC, fd, mintKey } from '../../../test/filedevices.js';
import { type TestApp, withApp } from '../../../test/harness.js';

const GROUPS = 'file-devices/management/api-key-groups';
const KEYS = 'file-devices/management/api-keys';
let t: TestApp;
withApp((app) => {
  t = app;
});

describe('API key groups', () => {
  it('a PATCH naming no field changes nothing and answers 204 (was a 500: an empty SET; found by test/fuzz-bodies.test.ts)', async () => {
    expect((await fd(t, 'POST', GROUPS, ADMIN_BASIC, { name: 'ops', description: 'operators' })).statusCode).toBe(201);
    const audited = async () =>
      (await t.store.db.selectFrom('audit_log').select('seq').where('operation', '=', 'apikeygroup.update').execute())
        .length;
    for (const body of [{}, { unknownField: 1 }]) {
      const res = await fd(t, 'PATCH', `${GROUPS}/ops`, ADMIN_BASIC, body);
      expect(res.statusCode, res.body).toBeLessThan(500);
    }
    expect((await fd(t, 'PATCH', `${GROUPS}/ops`, ADMIN_BASIC, {})).statusCode).toBe(204);
    expect((await fd(t, 'GET', `${GROUPS}/ops`, ADMIN_BASIC)).json().apiKeyGroup).toMatchObject({
      name: 'ops',
      description: 'operators',
    });
    expect(await audited()).toBe(0);
  });

  it('create, list, read, update, members, delete', async () => {
    const res = await fd(t, 'POST', GROUPS, ADMIN_BASIC, { name: 'ops', description: 'operators' });
    expect(res.statusCode).toBe(201);
    expect(res.json().apiKeyGroup).toEqual({
      objectId: '313a3a3a3a3a3a303a3a3a4f49445f24232140255f56',
      index: 1,
      name: 'ops',
      description: 'operators',
      members: [],
    });
    const k = await mintKey(t, {});
    expect((await fd(t, 'POST', `${GROUPS}/ops/members`, ADMIN_BASIC, { apiKeys: [k.objectId] })).statusCode).toBe(204);
    const list = (await fd(t, 'GET', GROUPS, ADMIN_BASIC)).json().apiKeyGroups;
    expect(list).toHaveLength(1);
    expect(list[0].members).toEqual([k.objectId]);
    expect((await fd(t, 'GET', `${GROUPS}/1/members`, ADMIN_BASIC)).json()).toEqual({
      members: [{ objectId: k.objectId, prefix: k.apiKey.prefix }],
    });
    expect((await fd(t, 'GET', `${KEYS}/${k.objectId}`, ADMIN_BASIC)).json().apiKey.apiKeyGroups).toEqual([
      list[0].objectId,
    ]);
    expect((await fd(t, 'PATCH', `${GROUPS}/${list[0].objectId}`, ADMIN_BASIC, { name: 'ops2' })).statusCode).toBe(204);
    expect((await fd(t, 'GET', `${GROUPS}/ops2`, ADMIN_BASIC)).json().apiKeyGroup.name).toBe('ops2');
    expect((await fd(t, 'DELETE', `${GROUPS}/1/members/${k.apiKey.prefix}`, ADMIN_BASIC)).statusCode).toBe(204);
    expect((await fd(t, 'DELETE', `${GROUPS}/1/members/${k.apiKey.prefix}`, ADMIN_BASIC)).statusCode).toBe(404);
    expect((await fd(t, 'DELETE', `${GROUPS}/1`, ADMIN_BASIC)).statusCode).toBe(204);
    expect((await fd(t, 'GET', `${GROUPS}/1`, ADMIN_BASIC)).statusCode).toBe(404);
  });

  it('errors: duplicate name 409, bad name 400, unknown group or key 404', async () => {
    await fd(t, 'POST', GROUPS, ADMIN_BASIC, { name: 'ops' });
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', GROUPS, { name: 'OPS' }, 409],
      ['POST', GROUPS, { name: '' }, 400],
      ['POST', GROUPS, { name: 'a\u0000' }, 400],
      ['GET', `${GROUPS}/9`, undefined, 404],
      ['POST', `${GROUPS}/1/members`, { apiKeys: ['nokey'] }, 404],
      ['POST', `${GROUPS}/1/members`, { apiKeys: [] }, 400],
    ];
    for (const [m, p, b, status] of cases)
      expect((await fd(t, m, p, ADMIN_BASIC, b)).statusCode, `${m} ${p}`).toBe(status);
  });

  it('a key restricted to groups acts only within them', async () => {
    for (const name of ['ops', 'dev']) await fd(t, 'POST', GROUPS, ADMIN_BASIC, { name });
    // A group-restricted key manages the keys in its groups that are no stronger than itself (restricted to them too).
    const inOps = await mintKey(t, { description: 'in ops', restrictedToApiKeyGroups: ['ops'] });
    const inDev = await mintKey(t, { description: 'in dev' });
    await fd(t, 'POST', `${GROUPS}/ops/members`, ADMIN_BASIC, { apiKeys: [inOps.objectId] });
    await fd(t, 'POST', `${GROUPS}/dev/members`, ADMIN_BASIC, { apiKeys: [inDev.objectId] });
    const manager = await mintKey(t, { restApiAccess: 'FULL_CONTROL', restrictedToApiKeyGroups: ['ops'] });
    const m = { key: manager.key };
    expect((await fd(t, 'GET', GROUPS, m)).json().apiKeyGroups.map((g: any) => g.name)).toEqual(['ops']);
    expect((await fd(t, 'GET', `${GROUPS}/dev`, m)).statusCode).toBe(404);
    expect((await fd(t, 'GET', KEYS, m)).json().apiKeys.map((k: any) => k.description)).toEqual(['in ops']);
    expect((await fd(t, 'GET', `${KEYS}/${inDev.objectId}`, m)).statusCode).toBe(404);
    expect((await fd(t, 'PATCH', `${KEYS}/${inDev.objectId}`, m, { isEnabled: false })).statusCode).toBe(404);
    // Within its group it may manage a key no stronger than itself.
    expect(
      (await fd(t, 'PATCH', `${KEYS}/${inOps.objectId}`, m, { isEnabled: false, restrictedToApiKeyGroups: ['ops'] }))
        .statusCode,
    ).toBe(204);
    expect((await fd(t, 'PATCH', `${KEYS}/${inOps.objectId}`, m, { restrictedToApiKeyGroups: [] })).statusCode).toBe(
      403,
    );
    const loose = await mintKey(t, { description: 'unrestricted, in ops' });
    await fd(t, 'POST', `${GROUPS}/ops/members`, ADMIN_BASIC, { apiKeys: [loose.objectId] });
    expect((await fd(t, 'DELETE', `${KEYS}/${loose.objectId}`, m)).statusCode).toBe(403);
    expect((await fd(t, 'POST', GROUPS, m, { name: 'mine' })).statusCode).toBe(403);
    expect((await fd(t, 'POST', KEYS, m, {})).statusCode).toBe(403);
  });
});
