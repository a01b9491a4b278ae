import { describe, expect, it } from 'vitest';
import { BASES, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { BUILTIN_ROLES, PERMISSIONS } from '../../domain/catalogue.js';
import { grant, readAuthzVersion } from '../../store/authz.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const XML = { 'content-type': 'application/xml' };

/** Exactly what cvpysdk's `Roles.add(rolename, permission_list)` posts. */
const sdkAdd = (roleName: string, permissions: string[]) => ({
  roles: [
    {
      role: { roleName },
      categoryPermission: {
        categoriesPermissionOperationType: 'ADD',
        categoriesPermissionList: permissions.map((permissionName) => ({ permissionName })),
      },
    },
  ],
});

/** cvpysdk's `Role.modify_capability(request_type, permission_list)`. */
const sdkModify = (roleName: string, op: number, permissions: string[]) => ({
  roles: [
    {
      role: { roleName },
      categoryPermission: {
        categoriesPermissionOperationType: op,
        categoriesPermissionList: permissions.map((permissionName) => ({ permissionName })),
      },
    },
  ],
});

async function addRole(token: string, name: string, permissions: string[]) {
  const res = await t.call('POST', '/Role', token, sdkAdd(name, permissions));
  expect(res.statusCode).toBe(200);
  const item = res.json().response[0];
  expect(item.errorCode, res.body).toBe(0);
  return item.entity as { roleId: number; roleName: string };
}

async function roleNames(token: string): Promise<string[]> {
  const res = await t.call('GET', '/Security/Roles', token);
  expect(res.statusCode).toBe(200);
  return res.json().roleProperties.map((r: { role: { roleName: string } }) => r.role.roleName);
}

async function permissionsOf(token: string, id: number): Promise<string[]> {
  const res = await t.call('GET', `/Role/${id}`, token);
  return res
    .json()
    .roleProperties[0].categoryPermission.categoriesPermissionList.map(
      (x: { permissionName: string }) => x.permissionName,
    );
}

async function plainUser(token: string, name: string): Promise<string> {
  const res = await t.call('POST', '/User', token, {
    users: [{ userEntity: { userName: name }, email: 'p@p.example', password: b64('Plain-Passw0rd!') }],
  });
  expect(res.json().response[0].errorCode, res.body).toBe(0);
  return t.login(name, 'Plain-Passw0rd!');
}

const audits = (operation: string) =>
  t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', operation).orderBy('seq').execute();
const auditCount = async () =>
  Number(
    (
      await t.store.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const version = () => readAuthzVersion(t.store.db);

describe('GET Security/Roles, GET Role/{id}, GET Security/Permissions', () => {
  it('lists the built-in roles with the keys cvpysdk reads, and their permissions', async () => {
    const res = await t.call('GET', '/Security/Roles', admin);
    const body = res.json();
    expect(body.roleProperties.map((r: { role: { roleId: number } }) => r.role.roleId)).toEqual([1, 2, 3, 4, 5]);
    for (const b of BUILTIN_ROLES) {
      const r = body.roleProperties.find((x: { role: { roleId: number } }) => x.role.roleId === b.id);
      expect(r.role).toMatchObject({ roleId: b.id, roleName: b.name, flags: { disabled: false } });
      expect(r.categoryPermission.categoriesPermissionList).toEqual(
        b.permissions.map((name) => ({ permissionName: name, permissionId: PERMISSIONS.indexOf(name) + 1 })),
      );
    }
  });

  it('GET Role/{id} answers roleProperties[0] as cvpysdk Role reads it (description, flags, entityInfo)', async () => {
    const res = await t.call('GET', '/Role/3?Level=30', admin);
    expect(res.statusCode).toBe(200);
    const role = res.json().roleProperties[0];
    expect(role).toMatchObject({
      description: 'Runs backups and restores, manages agents',
      role: { roleId: 3, roleName: 'Tenant Operator', flags: { disabled: false }, entityInfo: { companyName: '' } },
    });
    expect(
      role.categoryPermission.categoriesPermissionList.map((p: { permissionId: number }) => p.permissionId),
    ).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('GET Security/Permissions is the catalogue, ids from 1', async () => {
    const res = await t.call('GET', '/Security/Permissions', admin);
    expect(res.json()).toEqual({
      permissions: PERMISSIONS.map((permissionName, i) => ({ permissionId: i + 1, permissionName })),
    });
  });

  it('answers on both mount points, case-insensitively, and in XML', async () => {
    for (const base of BASES) {
      for (const path of [
        '/Security/Roles',
        '/security/roles',
        '//SECURITY//Roles',
        '/role/1',
        '/Security/Permissions',
      ]) {
        const res = await t.inject({ method: 'GET', url: `${base}${path}`, headers: { authtoken: admin } });
        expect(res.statusCode, `${base}${path}`).toBe(200);
      }
    }
    const xml = await t.call('GET', '/Security/Roles', admin, undefined, { accept: 'application/xml' });
    expect(xml.headers['content-type']).toMatch(/application\/xml/);
    expect(xml.body).toMatch(/<roleProperties[^>]*>\s*<role [^>]*roleId="1"[^>]*roleName="Master"/);
    const one = await t.call('GET', '/Role/5', admin, undefined, { accept: 'application/xml' });
    expect(one.body).toMatch(/<categoriesPermissionList permissionName="View" permissionId="1"\/>/);
  });

  it('unknown, malformed and out-of-range ids are not found', async () => {
    for (const id of ['999', '0', 'abc', '-1', '1.5', '99999999999', '%20']) {
      const res = await t.call('GET', `/Role/${id}`, admin);
      expect(res.json().errorCode, id).toBe(1200);
    }
  });

  it('reads write no audit record and move no version', async () => {
    const before = [await auditCount(), await version()];
    await t.call('GET', '/Security/Roles', admin);
    await t.call('GET', '/Role/1', admin);
    await t.call('GET', '/Security/Permissions', admin);
    await t.call('GET', '/Role/999', admin);
    expect([await auditCount(), await version()]).toEqual(before);
  });
});

describe('POST Role', () => {
  it("creates a role from cvpysdk's exact body; the SDK then finds it by lower-cased name and reads it", async () => {
    const v0 = await version();
    const res = await t.call('POST', '/Role', admin, sdkAdd('Backup Ops', ['View', 'Data Protection', 'browse']));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.response).toEqual([
      { errorCode: 0, errorString: '', entity: { roleId: expect.any(Number), roleName: 'Backup Ops' } },
    ]);
    const id = body.response[0].entity.roleId;
    expect(id).toBeGreaterThan(100);
    const list = (await t.call('GET', '/Security/Roles', admin)).json().roleProperties;
    const found = list.find((r: { role: { roleName: string } }) => r.role.roleName.toLowerCase() === 'backup ops');
    expect(found.role.roleId).toBe(id);
    expect(await permissionsOf(admin, id)).toEqual(['View', 'Browse', 'Data Protection']);
    expect(await version()).toBe(v0 + 1);
    const [a] = await audits('role.create');
    expect(a).toMatchObject({ actor_name: 'admin', company_id: 0, target_id: String(id), target_name: 'Backup Ops' });
    expect(JSON.parse(a!.details).permissions).toEqual(['View', 'Browse', 'Data Protection']);
  });

  it('takes an XML body, permissions by id, and wrapped JSON', async () => {
    const xml = await t.call(
      'POST',
      '/Role',
      admin,
      '<App_CreateRoleRequest><roles><role roleName="Xml Role"/><categoryPermission categoriesPermissionOperationType="ADD"><categoriesPermissionList permissionName="View"/></categoryPermission></roles></App_CreateRoleRequest>',
      XML,
    );
    const id = xml.json().response[0].entity.roleId;
    expect(await permissionsOf(admin, id)).toEqual(['View']);
    const two = await t.call(
      'POST',
      '/Role',
      admin,
      '<App_CreateRoleRequest><roles><role roleName="Xml Two"/><categoryPermission><categoriesPermissionList permissionId="2"/><categoriesPermissionList permissionName="Audit View"/></categoryPermission></roles></App_CreateRoleRequest>',
      { ...XML, accept: 'application/xml' },
    );
    expect(two.body).toMatch(/<response errorCode="0" errorString=""><entity roleId="\d+" roleName="Xml Two"\/>/);
    const byId = await t.call('POST', '/Role', admin, {
      roles: [
        { role: { roleName: 'By Id' }, categoryPermission: { categoriesPermissionList: [{ permissionId: '12' }] } },
      ],
    });
    expect(await permissionsOf(admin, byId.json().response[0].entity.roleId)).toEqual(['Audit View']);
  });

  it('answers one result per role: a bad one does not stop a good one', async () => {
    const res = await t.call('POST', '/Role', admin, {
      roles: [
        sdkAdd('Good', ['View']).roles[0],
        sdkAdd('Bad', ['View', 'Launch Missiles']).roles[0],
        sdkAdd('Also Good', ['Browse']).roles[0],
      ],
    });
    const body = res.json();
    expect(body.response.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, 1204, 0]);
    expect(body.response[1].errorString).toMatch(/Launch Missiles/);
    expect(body.errorCode).toBe(1204);
    expect(await roleNames(admin)).toEqual(expect.arrayContaining(['Good', 'Also Good']));
    expect(await roleNames(admin)).not.toContain('Bad');
  });

  it('refuses every documented bad role per item, and nothing is created', async () => {
    await addRole(admin, 'Taken', ['View']);
    const v0 = await version();
    const cases: Array<[unknown, number]> = [
      [sdkAdd('taken', ['View']).roles[0], 1201],
      [sdkAdd('MASTER', ['View']).roles[0], 1201],
      [sdkAdd('Empty', []).roles[0], 1204],
      [{ role: { roleName: 'NoList' } }, 1204],
      [sdkAdd('   ', ['View']).roles[0], 1204],
      [sdkAdd('Ctl\u0001', ['View']).roles[0], 1204],
      [
        { role: { roleName: 'Cat' }, categoryPermission: { categoriesPermissionList: [{ categoryName: 'Client' }] } },
        1204,
      ],
      [{ role: { roleName: 'Id99' }, categoryPermission: { categoriesPermissionList: [{ permissionId: 99 }] } }, 1204],
      [{ role: { roleName: 'Id0' }, categoryPermission: { categoriesPermissionList: [{ permissionId: 0 }] } }, 1204],
      [{ role: { roleName: 'Blank' }, categoryPermission: { categoriesPermissionList: [{ other: 1 }] } }, 1204],
      [
        { ...sdkAdd('Op', ['View']).roles[0], categoryPermission: { categoriesPermissionOperationType: 'SMASH' } },
        1204,
      ],
      [
        {
          role: { roleName: 'Del' },
          categoryPermission: {
            categoriesPermissionOperationType: 3,
            categoriesPermissionList: [{ permissionName: 'View' }],
          },
        },
        1204,
      ],
      [{ ...sdkAdd('Off', ['View']).roles[0], role: { roleName: 'Off', flags: { disabled: true } } }, 1204],
      [
        {
          ...sdkAdd('Shared', ['View']).roles[0],
          securityAssociations: {
            associationsOperationType: 2,
            associations: [{ userOrGroup: [{ userName: 'admin' }], properties: { role: { roleName: 'View' } } }],
          },
        },
        1204,
      ],
    ];
    for (const [item, code] of cases) {
      const res = await t.call('POST', '/Role', admin, { roles: [item] });
      expect(res.statusCode, JSON.stringify(item)).toBe(200);
      expect(res.json().response[0].errorCode, JSON.stringify(item)).toBe(code);
      expect(res.json().response[0].errorString).toEqual(expect.any(String));
    }
    expect(await version()).toBe(v0);
    expect(await audits('role.create')).toHaveLength(1);
    // An empty securityAssociations, as cvpysdk may send, is fine.
    const ok = await t.call('POST', '/Role', admin, {
      roles: [{ ...sdkAdd('Fine', ['View']).roles[0], securityAssociations: {} }],
    });
    expect(ok.json().response[0].errorCode).toBe(0);
  });

  it('concurrent creations of one name: exactly one wins, the others answer 1201', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => t.call('POST', '/Role', admin, sdkAdd('Racers', ['View']))),
    );
    const codes = results.map((r) => r.json().response[0].errorCode).sort();
    expect(codes).toEqual([0, 1201, 1201, 1201, 1201, 1201]);
    expect(await audits('role.create')).toHaveLength(1);
  });

  it('refuses malformed bodies with 400 and the field, never a 500', async () => {
    const bodies: unknown[] = [
      {},
      { roles: [] },
      { roles: {} },
      { roles: 'Master' },
      { roles: [{}] },
      { roles: [{ role: { roleName: 42 } }] },
      { roles: [{ role: { roleName: ['x'] } }] },
      { roles: [{ role: { roleName: '' } }] },
      { roles: [{ role: { roleName: 'x'.repeat(129) } }] },
      { roles: [{ role: { roleName: 'x' }, categoryPermission: { categoriesPermissionList: 'View' } }] },
      {
        roles: [
          { role: { roleName: 'x' }, categoryPermission: { categoriesPermissionList: [{ permissionId: 'one' }] } },
        ],
      },
      {
        roles: [{ role: { roleName: 'x' }, categoryPermission: { categoriesPermissionList: [{ permissionName: 7 }] } }],
      },
      { roles: Array.from({ length: 101 }, (_, i) => sdkAdd(`r${i}`, ['View']).roles[0]) },
    ];
    for (const body of bodies) {
      const res = await t.call('POST', '/Role', admin, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.json().response[0].errorCode).toBe(1000);
    }
    const notJson = await t.call('POST', '/Role', admin, '{"roles":[', { 'content-type': 'application/json' });
    expect(notJson.statusCode).toBe(400);
    const doctype = await t.call('POST', '/Role', admin, '<!DOCTYPE x [<!ENTITY a "b">]><x/>', XML);
    expect(doctype.json().errorCode).toBe(1003);
    const proto = await t.call('POST', '/Role', admin, '{"roles":[{"role":{"roleName":"x","__proto__":{"a":1}}}]}', {
      'content-type': 'application/json',
    });
    expect(proto.statusCode).toBe(400);
  });

  it('a plain user gets 587204594 (audited as access.denied); a tenant admin creates in its company', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    const worker = await plainUser(a.token, 'acme\\worker');
    const denied = await t.call('POST', '/Role', worker, sdkAdd('Mine', ['View']));
    expect(denied.json().response[0].errorCode).toBe(587204594);
    expect(await audits('access.denied')).toHaveLength(1);

    const role = await addRole(a.token, 'Acme Ops', ['View', 'Browse']);
    const row = await t.store.db
      .selectFrom('roles')
      .selectAll()
      .where('id', '=', role.roleId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ company_id: a.companyId, builtin: 0 });
    const [audit] = await audits('role.create');
    expect(audit).toMatchObject({ company_id: a.companyId, actor_name: 'acme\\tadmin' });
    // Visible to its company (admin and plain user) and to the CommCell administrator, not to beta.
    expect(await roleNames(a.token)).toContain('Acme Ops');
    expect(await roleNames(worker)).toContain('Acme Ops');
    const props = (await t.call('GET', `/Role/${role.roleId}`, admin)).json().roleProperties[0];
    expect(props.role.entityInfo).toEqual({ companyId: a.companyId, companyName: 'acme' });
    expect(await roleNames(b.token)).not.toContain('Acme Ops');
    expect((await t.call('GET', `/Role/${role.roleId}`, b.token)).json().errorCode).toBe(1200);
    // The same name in another company is another role.
    await addRole(b.token, 'Acme Ops', ['View']);
    // A tenant may not hand out what its own role lacks; nothing of the request is created.
    const tooMuch = await t.call('POST', '/Role', a.token, {
      roles: [sdkAdd('Fine', ['View']).roles[0], sdkAdd('Storage', ['View', 'Storage Management']).roles[0]],
    });
    expect(tooMuch.json().response[0].errorCode).toBe(587204594);
    expect(await roleNames(a.token)).not.toContain('Fine');
  });

  it('a CommCell user who is not an administrator cannot create roles', async () => {
    const plain = await plainUser(admin, 'plain');
    const res = await t.call('POST', '/Role', plain, sdkAdd('Nope', ['View']));
    expect(res.json().response[0].errorCode).toBe(587204594);
    expect(await roleNames(plain)).toEqual(BUILTIN_ROLES.map((r) => r.name));
  });
});

describe('POST Role/{id}', () => {
  it("renames, describes and changes permissions with cvpysdk's bodies, audited and versioned", async () => {
    const role = await addRole(admin, 'Ops', ['View']);
    const path = `/Role/${role.roleId}`;
    const v0 = await version();
    // role_name setter
    const renamed = await t.call('POST', path, admin, { roles: [{ role: { roleName: 'Operators' } }] });
    expect(renamed.json().response[0]).toMatchObject({
      errorCode: 0,
      entity: { roleId: role.roleId, roleName: 'Operators' },
    });
    // role_description setter
    await t.call('POST', path, admin, { roles: [{ role: { roleName: 'operators' }, description: 'They operate' }] });
    // status setter, enabling (the only state a role has)
    const enable = await t.call('POST', path, admin, {
      roles: [{ role: { roleName: 'Operators', flags: { disabled: false } } }],
    });
    expect(enable.json().response[0].errorCode).toBe(0);
    // modify_capability ADD (2), DELETE (3), OVERWRITE (1), also by name
    await t.call('POST', path, admin, sdkModify('Operators', 2, ['Browse', 'Audit View']));
    expect(await permissionsOf(admin, role.roleId)).toEqual(['View', 'Browse', 'Audit View']);
    await t.call('POST', path, admin, sdkModify('Operators', 3, ['View']));
    expect(await permissionsOf(admin, role.roleId)).toEqual(['Browse', 'Audit View']);
    await t.call('POST', path, admin, sdkModify('Operators', 1, ['Data Protection']));
    expect(await permissionsOf(admin, role.roleId)).toEqual(['Data Protection']);
    await t.call('POST', path, admin, {
      roles: [
        {
          role: { roleName: 'Operators' },
          categoryPermission: {
            categoriesPermissionOperationType: 'UPDATE',
            categoriesPermissionList: [{ permissionName: 'View' }],
          },
        },
      ],
    });
    const props = (await t.call('GET', path, admin)).json().roleProperties[0];
    expect(props).toMatchObject({ description: 'They operate', role: { roleName: 'Operators' } });
    expect(await permissionsOf(admin, role.roleId)).toEqual(['View', 'Data Protection']);
    expect(await version()).toBe(v0 + 7);
    const updates = await audits('role.update');
    expect(updates).toHaveLength(7);
    expect(JSON.parse(updates[0]!.details)).toMatchObject({ renamedFrom: 'Ops' });
    expect(JSON.parse(updates[3]!.details)).toMatchObject({
      permissionsAdded: ['Browse', 'Audit View'],
      permissionsRemoved: [],
    });
  });

  it('takes an XML update', async () => {
    const role = await addRole(admin, 'Ops', ['View']);
    const res = await t.call(
      'POST',
      `/Role/${role.roleId}`,
      admin,
      '<App_UpdateRoleRequest><roles description="xml"><role roleName="Ops"/><categoryPermission categoriesPermissionOperationType="OVERWRITE"><categoriesPermissionList permissionName="Browse"/></categoryPermission></roles></App_UpdateRoleRequest>',
      XML,
    );
    expect(res.json().response[0].errorCode, res.body).toBe(0);
    expect(await permissionsOf(admin, role.roleId)).toEqual(['Browse']);
  });

  it('built-in roles cannot be changed (1204), not even by the CommCell administrator', async () => {
    const v0 = await version();
    for (const b of BUILTIN_ROLES) {
      const res = await t.call('POST', `/Role/${b.id}`, admin, sdkModify(b.name, 2, ['View']));
      expect(res.json().response[0].errorCode, b.name).toBe(1204);
      expect(
        (await t.call('POST', `/Role/${b.id}`, admin, { roles: [{ role: { roleName: 'Renamed' } }] })).json().errorCode,
      ).toBe(1204);
    }
    expect(await roleNames(admin)).toEqual(BUILTIN_ROLES.map((r) => r.name));
    expect(await version()).toBe(v0);
  });

  it('refuses the documented errors', async () => {
    const ops = await addRole(admin, 'Ops', ['View']);
    await addRole(admin, 'Other', ['View']);
    const path = `/Role/${ops.roleId}`;
    const v0 = await version();
    const cases: Array<[unknown, number]> = [
      [{ roles: [{ role: { roleName: 'other' } }] }, 1201],
      [{ roles: [{ role: { roleName: 'View' } }] }, 1201],
      [sdkModify('Ops', 3, ['View']), 1204],
      [sdkModify('Ops', 1, []), 1204],
      [sdkModify('Ops', 2, ['Fly']), 1204],
      [sdkModify('Ops', 7, ['View']), 1204],
      [{ roles: [{ role: { roleName: 'Ops', flags: { disabled: true } } }] }, 1204],
      [{ roles: [{ role: { roleName: ' ' } }] }, 1204],
    ];
    for (const [body, code] of cases) {
      const res = await t.call('POST', path, admin, body);
      expect(res.json().response[0].errorCode, JSON.stringify(body)).toBe(code);
    }
    for (const body of [{}, { roles: [] }, { roles: [{}, {}] }, { roles: [{ role: { roleName: 1 } }] }]) {
      expect((await t.call('POST', path, admin, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(await version()).toBe(v0);
    expect(await permissionsOf(admin, ops.roleId)).toEqual(['View']);
    for (const id of ['999', 'abc', '0']) {
      expect(
        (await t.call('POST', `/Role/${id}`, admin, sdkModify('x', 2, ['View']))).json().response[0].errorCode,
      ).toBe(1200);
    }
  });

  it("other tenants' roles are not found, a company's plain user may not change, CommCell roles are hidden from tenants", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    const acmeRole = await addRole(a.token, 'Acme Ops', ['View']);
    const cellRole = await addRole(admin, 'Cell Ops', ['View']);
    const worker = await plainUser(a.token, 'acme\\worker');
    for (const [token, id, code] of [
      [b.token, acmeRole.roleId, 1200],
      [a.token, cellRole.roleId, 1200],
      [worker, acmeRole.roleId, 587204594],
    ] as const) {
      const res = await t.call('POST', `/Role/${id}`, token, sdkModify('x', 2, ['Browse']));
      expect(res.json().response[0].errorCode).toBe(code);
      const del = await t.call('DELETE', `/Role/${id}`, token);
      expect(del.json().response[0].errorCode).toBe(code);
    }
    expect(await roleNames(a.token)).not.toContain('Cell Ops');
    expect(await permissionsOf(admin, acmeRole.roleId)).toEqual(['View']);
    // The tenant admin changes its own; the CommCell administrator may too.
    expect(
      (await t.call('POST', `/Role/${acmeRole.roleId}`, a.token, sdkModify('x', 2, ['Browse']))).json().errorCode,
    ).toBe(0);
    expect(
      (await t.call('POST', `/Role/${acmeRole.roleId}`, admin, sdkModify('x', 2, ['Audit View']))).json().errorCode,
    ).toBe(0);
    // ...but the tenant admin cannot add what it does not hold itself.
    const storage = await t.call(
      'POST',
      `/Role/${acmeRole.roleId}`,
      a.token,
      sdkModify('x', 2, ['Storage Management']),
    );
    expect(storage.json().response[0].errorCode).toBe(587204594);
    expect(await permissionsOf(admin, acmeRole.roleId)).toEqual(['View', 'Browse', 'Audit View']);
  });
});

describe('DELETE Role/{id}', () => {
  it('deletes a custom role and what it granted, audited and versioned', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const role = await addRole(a.token, 'Acme Ops', ['View']);
    await t.store.db.transaction().execute(async (tx) => {
      await grant(
        tx,
        {
          entityType: 61,
          entityId: a.companyId,
          principalKind: 'user',
          principalId: a.userId,
          roleId: role.roleId,
          companyId: a.companyId,
        },
        new Date().toISOString(),
      );
    });
    const v0 = await version();
    const res = await t.call('DELETE', `/Role/${role.roleId}`, a.token);
    expect(res.json()).toEqual({ response: [{ errorCode: 0, errorString: '' }], errorCode: 0, errorMessage: '' });
    expect(await roleNames(admin)).not.toContain('Acme Ops');
    const left = await t.store.db
      .selectFrom('security_associations')
      .selectAll()
      .where('role_id', '=', role.roleId)
      .execute();
    expect(left).toEqual([]);
    expect(
      await t.store.db.selectFrom('role_permissions').selectAll().where('role_id', '=', role.roleId).execute(),
    ).toEqual([]);
    expect(await version()).toBe(v0 + 1);
    const [audit] = await audits('role.delete');
    expect(audit).toMatchObject({ target_id: String(role.roleId), target_name: 'Acme Ops', company_id: a.companyId });
    expect(JSON.parse(audit!.details)).toEqual({ associationsRemoved: 1 });
    // Gone: a second delete is not found. The name is free again.
    expect((await t.call('DELETE', `/Role/${role.roleId}`, a.token)).json().response[0].errorCode).toBe(1200);
    await addRole(a.token, 'Acme Ops', ['View']);
  });

  it('built-in roles cannot be deleted; unknown ids are not found; XML replies on request', async () => {
    for (const b of BUILTIN_ROLES) {
      expect((await t.call('DELETE', `/Role/${b.id}`, admin)).json().response[0].errorCode).toBe(1204);
    }
    for (const id of ['999', 'x', '1e3']) {
      expect((await t.call('DELETE', `/Role/${id}`, admin)).json().response[0].errorCode).toBe(1200);
    }
    const xml = await t.call('DELETE', '/Role/1', admin, undefined, { accept: 'application/xml' });
    expect(xml.body).toMatch(/<App_RoleResp errorCode="1204"[^>]*><response errorCode="1204"/);
    expect(await roleNames(admin)).toEqual(BUILTIN_ROLES.map((r) => r.name));
    expect(await audits('role.delete')).toEqual([]);
  });
});
