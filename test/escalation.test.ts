import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/audit/verify.js';
import { COMMCELL_REF, companyEntity, helpers, PW } from './escalation-support.js';
import { b64, makeTenant, type TestApp, withApp } from './harness.js';

// Issue 9's findings 1, 2, 3, 9 and 11, each reproduced as the attacker sent
// it; the rules behind them are src/domain/escalation.ts and
// src/store/invariants.ts (and escalation-model.test.ts checks them over
// random sequences).

let t: TestApp;
let admin: string;
let h: ReturnType<typeof helpers>;
withApp((app, token) => {
  t = app;
  admin = token;
  h = helpers(app);
});

const DENIED = 587204594;

/** A CommCell user whose only role is User Management + View on the CommCell (finding 1's helpdesk). */
async function helpdesk() {
  await h.role(admin, 'HelpDesk', ['View', 'User Management']);
  const id = await h.user(admin, 'helpdesk');
  expect((await h.security(admin, 'ADD', COMMCELL_REF, [[{ userName: 'helpdesk' }, 'HelpDesk']])).json()).toEqual({
    response: [{ errorCode: 0, warningCode: 0, warningMessage: '' }],
  });
  return { id, token: await t.login('helpdesk', PW) };
}

/** acme's user `acme\um`, holding User Management + View on acme only. */
async function tenantUserManager() {
  const acme = await makeTenant(t, admin, 'acme');
  await h.role(acme.token, 'UM', ['View', 'User Management']);
  const id = await h.user(acme.token, 'acme\\um');
  const res = await h.security(acme.token, 'ADD', companyEntity(acme.companyId), [[{ userId: id }, 'UM']]);
  expect(res.json().response[0].errorCode, res.body).toBe(0);
  return { acme, id, token: await t.login('acme\\um', PW) };
}

describe('finding 1: User Management is not enough to become Master', () => {
  it('a CommCell user manager cannot join master, and Explain still says no', async () => {
    const hd = await helpdesk();
    const master = await h.groupId(admin, 'master');
    const res = await h.members(hd.token, master, 2, [{ userName: 'helpdesk' }]);
    expect(res.json().errorCode, res.body).toBe(DENIED);
    expect(res.json().response[0].errorString).toMatch(
      /the user group master needs .*Security Management.* on the CommCell/,
    );
    const members = (await t.call('GET', `/UserGroup/${master}`, admin)).json().userGroups[0].users;
    expect(members.map((u: { userName: string }) => u.userName)).toEqual(['admin']);
    for (const perm of ['Security Management', 'Storage Management', 'Administrative Management']) {
      expect((await h.explain(admin, hd.id, COMMCELL_REF, perm)).allowed, perm).toBe(false);
    }
    // Nor through a new user placed in master on creation.
    const created = await t.call('POST', '/User', hd.token, {
      users: [
        { userEntity: { userName: 'sneak' }, password: b64(PW), associatedUserGroups: [{ userGroupName: 'master' }] },
      ],
    });
    expect(created.json().response[0].errorCode, created.body).toBe(DENIED);
  });

  it("a company's user manager cannot join its Tenant Admin group", async () => {
    const { acme, id, token } = await tenantUserManager();
    const tenantAdmins = await h.groupId(acme.token, 'acme\\Tenant Admin');
    const res = await h.members(token, tenantAdmins, 2, [{ userName: 'acme\\um' }]);
    expect(res.json().errorCode, res.body).toBe(DENIED);
    expect((await h.explain(acme.token, id, companyEntity(acme.companyId), 'Security Management')).allowed).toBe(false);
    // The tenant admin, who holds all Tenant Admin holds, may.
    expect((await h.members(acme.token, tenantAdmins, 2, [{ userName: 'acme\\um' }])).json().errorCode).toBe(0);
  });
});

describe('finding 2: an empty OVERWRITE is every removal it implies', () => {
  it('a user manager cannot strip master; nobody can leave the CommCell without Master', async () => {
    const hd = await helpdesk();
    const master = await h.groupId(admin, 'master');
    const strip = { groups: [{ securityAssociations: { associationsOperationType: 1, associations: [] } }] };
    const byHelpdesk = await t.call('POST', `/UserGroup/${master}`, hd.token, strip);
    expect(byHelpdesk.json().errorCode, byHelpdesk.body).toBe(DENIED);
    // The administrator holds Master, but it is the last one: 1204, and nothing changes.
    const byAdmin = await t.call('POST', `/UserGroup/${master}`, admin, strip);
    expect(byAdmin.json().errorCode, byAdmin.body).toBe(1204);
    expect(byAdmin.json().errorMessage).toMatch(/at least one enabled user holding Master/);
    const onCell = await h.security(admin, 'OVERWRITE', COMMCELL_REF, []);
    expect(onCell.json().response[0].errorCode, onCell.body).toBe(1204);
    const left = (await t.call('GET', '/Security/1/0', admin)).json().securityAssociations[0].securityAssociations
      .associations;
    expect(left.map((a: { properties: { role: { roleName: string } } }) => a.properties.role.roleName)).toContain(
      'Master',
    );
    expect((await h.explain(admin, 1, COMMCELL_REF, 'Security Management')).allowed).toBe(true);
  });

  it('removing an association needs the right to add it; an allowed OVERWRITE lists what it removed', async () => {
    const client = await h.entity(admin, 'client', 'db01');
    const ref = { type: 3, id: client };
    await h.role(admin, 'SecOnly', ['View', 'Security Management']);
    await h.user(admin, 'sec');
    await h.user(admin, 'victim');
    expect((await h.security(admin, 'ADD', ref, [[{ userName: 'sec' }, 'SecOnly']])).json().response[0].errorCode).toBe(
      0,
    );
    expect(
      (await h.security(admin, 'ADD', ref, [[{ userName: 'victim' }, 'Master']])).json().response[0].errorCode,
    ).toBe(0);
    const sec = await t.login('sec', PW);
    // Neither the explicit DELETE nor the OVERWRITE that implies it.
    const del = await h.security(sec, 'DELETE', ref, [[{ userName: 'victim' }, 'Master']]);
    expect(del.json().response[0].errorCode, del.body).toBe(DENIED);
    const over = await h.security(sec, 'OVERWRITE', ref, [[{ userName: 'sec' }, 'SecOnly']]);
    expect(over.json().response[0].errorCode, over.body).toBe(DENIED);
    expect((await h.explain(admin, 3, ref, 'Storage Management')).allowed).toBe(true);
    // Once the strong grant is gone (removed by the administrator), sec's OVERWRITE of a View is allowed and audited.
    await h.security(admin, 'DELETE', ref, [[{ userName: 'victim' }, 'Master']]);
    await h.security(admin, 'ADD', ref, [[{ userName: 'victim' }, 'View']]);
    const ok = await h.security(sec, 'OVERWRITE', ref, [[{ userName: 'sec' }, 'SecOnly']]);
    expect(ok.json().response[0].errorCode, ok.body).toBe(0);
    const [record] = await h.audits('security.overwrite');
    expect(JSON.parse(record?.details ?? '{}')).toMatchObject({
      removedCount: 1,
      removed: [{ entity: { type: 3, id: client }, user: 'victim', role: 'View' }],
    });
  });
});

describe('finding 3: no account takeover by a weaker user', () => {
  it("a tenant's user manager cannot set its tenant admin's password", async () => {
    const { acme, token } = await tenantUserManager();
    const res = await t.call('POST', `/User/${acme.userId}`, token, {
      users: [{ password: b64('Taken-Over-1!'), validationParameters: { password: b64(PW) } }],
    });
    expect(res.json().errorCode, res.body).toBe(DENIED);
    await expect(t.login('acme\\tadmin', 'Taken-Over-1!')).rejects.toThrow();
    expect(await t.login('acme\\tadmin', 'Tenant-Passw0rd!')).toMatch(/^QSDK /);
  });

  it('a CommCell user manager cannot disable admin; the last enabled Master cannot be disabled by anyone', async () => {
    const hd = await helpdesk();
    const off = { users: [{ enableUser: false }] };
    const res = await t.call('POST', '/User/1', hd.token, off);
    expect(res.json().errorCode, res.body).toBe(DENIED);
    // A second Master may disable admin; then it is the last one, and admin (no longer enabled) cannot act.
    await h.user(admin, 'admin2', ['master']);
    const admin2 = await t.login('admin2', PW);
    const admin2Id = (await t.call('GET', '/WhoAmI', admin2)).json().user.userId;
    expect((await t.call('POST', '/User/1', admin2, off)).json().errorCode).toBe(0);
    await expect(t.login()).rejects.toThrow();
    // Removing admin2 from master would leave no enabled Master.
    const master = await h.groupId(admin2, 'master');
    const leave = await h.members(admin2, master, 3, [{ userId: admin2Id }]);
    expect(leave.json().errorCode, leave.body).toBe(1204);
    // Enabling admin again makes the removal possible.
    expect((await t.call('POST', '/User/1', admin2, { users: [{ enableUser: true }] })).json().errorCode).toBe(0);
    expect((await h.members(admin2, master, 3, [{ userId: admin2Id }])).json().errorCode).toBe(0);
    expect((await verifyAudit(t.store.db)).ok).toBe(true);
  });
});

describe('finding 9: every refusal is audited, a burst as one record', () => {
  it('probes of another tenant and refused batch items leave records; a flood coalesces', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const beta = await makeTenant(t, admin, 'beta');
    const probe = await t.call('GET', `/User/${beta.userId}`, acme.token);
    expect(probe.json().errorCode).toBe(1200);
    const [first] = await h.audits('access.denied');
    expect(first).toMatchObject({
      actor_name: 'acme\\tadmin',
      target_name: 'GET /commandcenter/api/User/:id',
      target_id: String(beta.userId),
      outcome: 'failure',
    });
    for (let i = 0; i < 49; i++) await t.call('GET', `/User/${beta.userId + 1000 + i}`, acme.token);
    expect(await h.audits('access.denied')).toHaveLength(1);
    await t.ctx.refusals.flush();
    const records = await h.audits('access.denied');
    expect(records).toHaveLength(2);
    expect(JSON.parse(records[1]?.details ?? '{}')).toMatchObject({ code: 1200, coalesced: 49 });
    // A refused item of a batch (POST User in another company) is a refusal too.
    const item = await t.call('POST', '/User', acme.token, {
      users: [{ userEntity: { userName: 'beta\\mole' }, password: b64(PW) }],
    });
    expect(item.json().response[0].errorCode).toBe(1200);
    const last = (await h.audits('access.denied')).at(-1);
    expect(last).toMatchObject({ target_name: 'POST /commandcenter/api/User', target_id: 'item 0' });
    // The CommCell administrator's "not found" is only that.
    const before = (await h.audits('access.denied')).length;
    await t.call('GET', '/User/424242', admin);
    expect(await h.audits('access.denied')).toHaveLength(before);
  });
});

describe("finding 11: CommCell groups of companies' users, as cvpysdk builds them", () => {
  it('users.add then user_groups.add with the company user: created, listed, and confined to its company', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const carol = await h.user(admin, 'acme\\carol');
    // Exactly cvpysdk's UserGroups.add body: no company, so a CommCell group.
    const res = await t.call('POST', '/UserGroup?includeSystemCreated=%25s', admin, {
      groups: [
        {
          userGroupEntity: { userGroupName: 'acme-operators' },
          securityAssociations: {},
          users: [{ userName: 'acme\\carol' }],
          localUserGroups: [],
          associatedExternalUserGroups: [],
        },
      ],
    });
    expect(res.json().response[0].errorCode, res.body).toBe(0);
    const groupId = res.json().response[0].entity.userGroupId as number;
    const read = (await t.call('GET', `/UserGroup/${groupId}`, admin)).json().userGroups[0];
    expect(read.users).toEqual([{ userName: 'acme\\carol', userId: carol }]);
    // The group may hold Master on the CommCell: carol still reaches only acme.
    const grant = await h.security(admin, 'ADD', COMMCELL_REF, [[{ userGroupId: groupId }, 'Master']]);
    expect(grant.json().response[0].errorCode, grant.body).toBe(0);
    const cellPlan = await h.entity(admin, 'plan', 'cell-plan');
    const outside = await h.explain(admin, carol, { type: 158, id: cellPlan }, 'View');
    expect(outside.allowed).toBe(false);
    expect(outside.reason).toMatch(/hold nothing outside their own company/);
    expect((await h.explain(admin, carol, COMMCELL_REF, 'Storage Management')).allowed).toBe(false);
    // What the group is granted inside acme does reach carol; its CommCell Master does not.
    const acmeRef = companyEntity(acme.companyId);
    expect((await h.explain(admin, carol, acmeRef, 'View')).allowed).toBe(false);
    expect(
      (await h.security(admin, 'ADD', acmeRef, [[{ userGroupId: groupId }, 'Restore Operator']])).json().response[0]
        .errorCode,
    ).toBe(0);
    expect((await h.explain(admin, carol, acmeRef, 'Browse')).allowed).toBe(true);
    expect((await h.explain(admin, carol, acmeRef, 'Security Management')).allowed).toBe(false);
    // And a tenant cannot put its users into a CommCell group it cannot see.
    const tenantTry = await h.members(acme.token, groupId, 2, [{ userName: 'acme\\tadmin' }]);
    expect(tenantTry.json().errorCode).toBe(1200);
  });
});

describe('hostile values on the security-changing routes', () => {
  it('an operation type that is an object, or a NUL in an email or full name, is a clear refusal, never a 500', async () => {
    const odd = await t.call('POST', '/User/1', admin, {
      users: [{ securityAssociations: { associationsOperationType: { toString: 1 }, associations: [] } }],
    });
    expect(odd.statusCode, odd.body).toBe(400);
    for (const field of ['email', 'fullName']) {
      const created = await t.call('POST', '/User', admin, {
        users: [{ userEntity: { userName: `nul-${field}` }, password: b64(PW), [field]: 'a\u0000b' }],
      });
      expect(created.json().response[0].errorCode, created.body).toBe(1204);
      expect(created.json().response[0].errorString).toContain(`users[0].${field}`);
      const updated = await t.call('POST', '/User/1', admin, { users: [{ [field]: 'a\u0000b' }] });
      expect(updated.json().errorCode, updated.body).toBe(1204);
    }
  });
});
