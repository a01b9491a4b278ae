import { describe, expect, it } from 'vitest';
import { ADMIN_BASIC, commCellUser, fd, mintKey, setRole, userAuth } from '../../../test/filedevices.js';
import { makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { encodeObjectId } from '../../domain/object-id.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  t = app;
  admin = token;
});

const USERS = 'file-devices/management/users';

describe('management users', () => {
  it('GET users/{id} by object id, user id or name; the list and the one agree; no level or a tenant user is 404', async () => {
    const viewerId = await commCellUser(t, admin, 'viewer', 'View');
    const plainId = await commCellUser(t, admin, 'plain', null);
    await makeTenant(t, admin, 'acme');
    const list = (await fd(t, 'GET', USERS, ADMIN_BASIC)).json().users;
    expect(list.map((u: { name: string; accessLevel: string }) => [u.name, u.accessLevel])).toEqual([
      ['admin', 'SUPERVISOR'],
      ['viewer', 'USER'],
    ]);
    const viewer = list[1];
    for (const ref of [encodeObjectId([viewerId]), String(viewerId), 'viewer', 'VIEWER']) {
      const res = await fd(t, 'GET', `${USERS}/${encodeURIComponent(ref)}`, userAuth('viewer'));
      expect(res.statusCode, ref).toBe(200);
      expect(res.json()).toEqual({ user: viewer });
    }
    const none = (await fd(t, 'GET', `${USERS}/999999`, ADMIN_BASIC)).json();
    for (const ref of [String(plainId), 'plain', 'acme%5Ctadmin', 'tadmin', '999999', encodeObjectId(['x'])]) {
      const res = await fd(t, 'GET', `${USERS}/${ref}`, ADMIN_BASIC);
      expect(res.statusCode, ref).toBe(404);
      expect(res.json(), ref).toEqual(none);
    }
    // A level given or taken shows from the next request.
    await setRole(t, admin, 'plain', 'Master', 'ADD');
    expect((await fd(t, 'GET', `${USERS}/plain`, ADMIN_BASIC)).json().user.accessLevel).toBe('SUPERVISOR');
    await setRole(t, admin, 'viewer', 'View', 'DELETE');
    expect((await fd(t, 'GET', `${USERS}/viewer`, ADMIN_BASIC)).statusCode).toBe(404);
  });

  it('soapApiAccess is stored and capped like restApiAccess (no SOAP API is served)', async () => {
    const ro = await mintKey(t, { restApiAccess: 'FULL_CONTROL', soapApiAccess: 'READ_ONLY' });
    const stronger = await fd(
      t,
      'POST',
      'file-devices/management/api-keys',
      { key: ro.key },
      { soapApiAccess: 'FULL_CONTROL' },
    );
    expect(stronger.statusCode).toBe(403);
    const same = await fd(
      t,
      'POST',
      'file-devices/management/api-keys',
      { key: ro.key },
      { soapApiAccess: 'READ_ONLY' },
    );
    expect(same.statusCode).toBe(201);
    expect(same.json().apiKey.soapApiAccess).toBe('READ_ONLY');
  });
});
