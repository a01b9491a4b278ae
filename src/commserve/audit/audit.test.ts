import { describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BASE, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { verifyAudit } from '../../audit/verify.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const TENANT_PW = 'Tenant-Passw0rd!';

interface TrailRecord {
  id: number;
  time: string;
  user: { userName: string; userId: number };
  companyId: number;
  operation: string;
  target: { type: string; id: string; name: string };
  outcome: string;
  reason: string;
  details: Record<string, unknown>;
}

const rows = () => t.store.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
const headSeq = async () =>
  Number((await t.store.db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow()).seq);

const jsonLogin = (username: string, password: string) =>
  t.inject({
    method: 'POST',
    url: `${BASE}/Login`,
    payload: { mode: 4, username, password: b64(password), deviceId: 'dev', clientType: 30 },
  });

const trail = async (token: string, query = '') => {
  const res = await t.call('GET', `/AuditTrail${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { auditTrail: TrailRecord[]; totalRecords: number };
};

async function addUser(token: string, userName: string, password: string, groups: string[] = []) {
  const res = await t.call('POST', '/User', token, {
    users: [
      {
        password: b64(password),
        email: 'u@users.example',
        fullName: userName,
        systemGeneratePassword: false,
        userEntity: { userName },
        securityAssociations: {},
        associatedUserGroups: groups.length ? groups.map((g) => ({ userGroupName: g })) : [{}],
      },
    ],
  });
  const item = res.json().response[0];
  expect(item.errorCode, res.body).toBe(0);
  return item.entity.userId as number;
}

const changePassword = (token: string, userId: number, next: string, mine: string) =>
  t.call('POST', `/User/${userId}`, token, {
    users: [
      {
        userEntity: { userName: 'x' },
        password: b64(next),
        validationParameters: { password: b64(mine), passwordOperationType: 2 },
      },
    ],
  });

/** A varied run: companies, users, logins good and bad, a lockout, password changes, a logout. */
async function busyRun() {
  const secrets: string[] = [ADMIN_PASSWORD, TENANT_PW, admin];
  const acme = await makeTenant(t, admin, 'acme');
  secrets.push(acme.token);
  const bobId = await addUser(acme.token, 'bob', 'Bob-Passw0rd!');
  secrets.push('Bob-Passw0rd!');
  const bobToken = await t.login('acme\\bob', 'Bob-Passw0rd!');
  secrets.push(bobToken);
  await jsonLogin('admin', 'Wr0ng-Guess-One');
  secrets.push('Wr0ng-Guess-One');
  expect(
    (await changePassword(acme.token, bobId, 'Bob-N3w-Passw0rd!', 'Wr0ng-Guess-Two')).json().response[0].errorCode,
  ).toBe(1203);
  secrets.push('Wr0ng-Guess-Two');
  expect((await changePassword(acme.token, bobId, 'Bob-N3w-Passw0rd!', TENANT_PW)).json().response[0].errorCode).toBe(
    0,
  );
  secrets.push('Bob-N3w-Passw0rd!');
  // The XML form carries the secrets in plain text.
  const xml = await t.call(
    'POST',
    `/User/${bobId}`,
    admin,
    `<App_UpdateUserPropertiesRequest><users password="Bob-Xml-Passw0rd!"><validationParameters password="${ADMIN_PASSWORD}" passwordOperationType="2"/></users></App_UpdateUserPropertiesRequest>`,
    { 'content-type': 'application/xml' },
  );
  expect(xml.json().response[0].errorCode).toBe(0);
  secrets.push('Bob-Xml-Passw0rd!');
  for (let i = 0; i < 5; i++) await jsonLogin('acme\\bob', `Lock-Me-Out-${i}`);
  secrets.push(...[0, 1, 2, 3, 4].map((i) => `Lock-Me-Out-${i}`));
  const renewed = (await t.call('POST', '/RenewLoginToken', acme.token, { sessionId: acme.token })).json().token;
  secrets.push(renewed);
  await t.call('POST', '/Logout', renewed, '', { 'content-type': 'application/xml' });
  return { acme, bobId, secrets };
}

describe('what is audited', () => {
  it('records logins (good and bad), lockouts, company and user creation, password changes and logout', async () => {
    const { acme, bobId } = await busyRun();
    const all = await rows();
    const ops = all.map((r) => `${r.operation}:${r.outcome}`);
    expect(ops[0]).toBe('system.bootstrap:success');
    for (const op of [
      'login:success',
      'login:failure',
      'account.lock:success',
      'company.create:success',
      'user.create:success',
      'user.password.change:success',
      'user.password.change:failure',
      'token.renew:success',
      'logout:success',
    ]) {
      expect(ops, op).toContain(op);
    }

    const adminLogin = all.find((r) => r.operation === 'login' && r.outcome === 'success' && r.actor_name === 'admin');
    expect(adminLogin).toMatchObject({ company_id: 0, target_type: 'user', target_name: 'admin' });

    const badLogin = all.find((r) => r.operation === 'login' && r.outcome === 'failure' && r.actor_name === 'admin');
    expect(badLogin?.reason).toMatch(/invalid/i);
    expect(badLogin?.actor_user_id).toBeNull();

    const lock = all.find((r) => r.operation === 'account.lock');
    expect(lock).toMatchObject({
      target_type: 'user',
      target_id: String(bobId),
      target_name: 'acme\\bob',
      company_id: acme.companyId,
    });
    // Exactly five failures before the lock, the lock recorded once.
    expect(all.filter((r) => r.operation === 'account.lock')).toHaveLength(1);
    expect(
      all.filter((r) => r.operation === 'login' && r.outcome === 'failure' && r.actor_name === 'acme\\bob'),
    ).toHaveLength(5);

    const company = all.find((r) => r.operation === 'company.create');
    expect(company).toMatchObject({
      actor_name: 'admin',
      company_id: acme.companyId,
      target_type: 'company',
      target_id: String(acme.companyId),
      target_name: 'acme',
    });

    const created = all.filter((r) => r.operation === 'user.create');
    expect(created.map((r) => [r.actor_name, r.target_name, r.company_id])).toEqual([
      ['admin', 'tadmin', acme.companyId],
      ['acme\\tadmin', 'bob', acme.companyId],
    ]);

    const changes = all.filter((r) => r.operation === 'user.password.change');
    expect(changes.map((r) => [r.actor_name, r.outcome, r.target_id])).toEqual([
      ['acme\\tadmin', 'failure', String(bobId)],
      ['acme\\tadmin', 'success', String(bobId)],
      ['admin', 'success', String(bobId)],
    ]);

    const logout = all.find((r) => r.operation === 'logout');
    expect(logout).toMatchObject({
      actor_name: 'acme\\tadmin',
      actor_user_id: acme.userId,
      company_id: acme.companyId,
    });

    // Sequence numbers are 1..n with no gaps, and the head agrees.
    expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
    expect(await headSeq()).toBe(all.length);
  });

  it('records disabling a user', async () => {
    const id = await addUser(admin, 'carl', 'Carl-Passw0rd!');
    await t.call('POST', `/User/${id}`, admin, { users: [{ enableUser: false }] });
    const last = (await rows()).at(-1);
    expect(last).toMatchObject({ operation: 'user.update', outcome: 'success', target_id: String(id) });
    expect(JSON.parse(last!.details)).toMatchObject({ enableUser: false, sessionsRevoked: true });
  });

  it('a refused create changes nothing and leaves the chain intact', async () => {
    await makeTenant(t, admin, 'acme');
    const before = await headSeq();
    const dup = await t.call('POST', '/Organization', admin, {
      organizationInfo: {
        organization: { connectName: 'Again', shortName: { domainName: 'ACME' } },
        organizationProperties: { primaryContacts: [{ fullName: 'A', email: 'a@acme.example' }] },
      },
    });
    expect(dup.json().response.errorCode).toBe(1201);
    expect(await headSeq()).toBe(before);
    expect((await verifyAudit(t.store.db)).ok).toBe(true);
  });

  it('no secret (password, base64 password, token) appears anywhere in the audit rows or the trail', async () => {
    const { secrets } = await busyRun();
    const stored = JSON.stringify(await rows());
    const served = JSON.stringify(await trail(admin, '?limit=1000'));
    for (const s of secrets) {
      const forms = [s, b64(s)];
      if (s.startsWith('QSDK ')) forms.push(s.slice(5));
      for (const f of forms) {
        expect(stored.includes(f), `audit rows contain ${f}`).toBe(false);
        expect(served.includes(f), `AuditTrail contains ${f}`).toBe(false);
      }
    }
  });

  it('no secret appears in the logs either', async () => {
    const { secrets } = await busyRun();
    const logs = t.logs.join('');
    for (const s of secrets) {
      const bare = s.startsWith('QSDK ') ? s.slice(5) : s;
      expect(logs.includes(bare), `logs contain ${bare}`).toBe(false);
      expect(logs.includes(b64(s)), `logs contain base64 of ${s}`).toBe(false);
    }
  });

  it('reads write no audit record', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const before = await headSeq();
    const reads = [
      '/',
      '/Organization',
      '/organization?Fl=providers.associatedEntitiesCount,providers.shortName,providers.connectName',
      `/Organization/${acme.companyId}`,
      `/Organization/${acme.companyId}/TwoFactorAuth`,
      '/Organization/424242',
      '/User',
      '/v4/user?additionalProperties=true',
      `/User/${acme.userId}?Level=50`,
      '/WhoAmI',
      '/AuditTrail',
      '/AuditTrail?operation=login&limit=5',
    ];
    for (let round = 0; round < 2; round++) {
      for (const token of [admin, acme.token]) {
        for (const path of reads) {
          expect((await t.call('GET', path, token)).statusCode, path).toBe(200);
        }
        expect((await t.call('POST', '/WhoAmI', token, '', { 'content-type': 'application/xml' })).statusCode).toBe(
          200,
        );
      }
      // Past the "last used" interval: the session is touched, the audit trail is not.
      t.clock.advance(61_000);
    }
    // A refused read (no such company) is a security event; nothing else is written.
    const written = (await rows()).slice(before);
    expect(written.length).toBeGreaterThan(0);
    expect(written.map((r) => `${r.operation} ${r.target_name}`)).toEqual(
      written.map(() => 'access.denied GET /commandcenter/api/Organization/:id'),
    );
  });
});

describe('GET AuditTrail', () => {
  /** Four moments a minute apart, with known records at each. */
  async function timeline() {
    const t0 = t.clock.now(); // bootstrap and admin's login
    t.clock.advance(60_000);
    const t1 = t.clock.now();
    const acme = await makeTenant(t, admin, 'acme'); // company.create, user.create, login
    await addUser(acme.token, 'bob', 'Bob-Passw0rd!'); // user.create by acme\tadmin
    t.clock.advance(60_000);
    const t2 = t.clock.now();
    await jsonLogin('admin', 'Wr0ng-Guess'); // login failure
    t.clock.advance(60_000);
    const t3 = t.clock.now();
    const beta = await makeTenant(t, admin, 'beta');
    return { t0, t1, t2, t3, acme, beta };
  }
  const secs = (d: Date) => Math.floor(d.getTime() / 1000);

  it('lists newest first with the record fields and totalRecords', async () => {
    await timeline();
    const all = await trail(admin);
    const stored = await rows();
    expect(all.totalRecords).toBe(stored.length);
    expect(all.auditTrail).toHaveLength(stored.length);
    const ids = all.auditTrail.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(ids[0]).toBe(stored.length);
    const company = all.auditTrail.find((r) => r.operation === 'company.create' && r.target.name === 'acme');
    expect(company).toMatchObject({
      time: expect.stringMatching(/^2026-11-23T08:01:00/),
      user: { userName: 'admin', userId: expect.any(Number) },
      target: { type: 'company', name: 'acme' },
      outcome: 'success',
      details: expect.any(Object),
    });
  });

  it('filters by time range, in epoch seconds and in ISO-8601', async () => {
    const { t1, t2 } = await timeline();
    const expected = (await rows())
      .filter((r) => r.at >= t1.toISOString() && r.at <= t2.toISOString())
      .map((r) => Number(r.seq))
      .reverse();
    expect(expected.length).toBeGreaterThanOrEqual(5);
    const epoch = await trail(admin, `?fromTime=${secs(t1)}&toTime=${secs(t2)}`);
    expect(epoch.auditTrail.map((r) => r.id)).toEqual(expected);
    expect(epoch.totalRecords).toBe(expected.length);
    const iso = await trail(
      admin,
      `?fromTime=${encodeURIComponent(t1.toISOString())}&toTime=${encodeURIComponent(t2.toISOString())}`,
    );
    expect(iso.auditTrail.map((r) => r.id)).toEqual(expected);
    for (const r of epoch.auditTrail) {
      expect(r.time >= t1.toISOString() && r.time <= t2.toISOString()).toBe(true);
    }
    // Open-ended either side.
    const from = await trail(admin, `?fromTime=${secs(t2)}`);
    expect(from.auditTrail.every((r) => r.time >= t2.toISOString())).toBe(true);
    expect(from.auditTrail.some((r) => r.operation === 'company.create')).toBe(true); // beta's, at t3
    const to = await trail(admin, `?toTime=${secs(t1) - 1}`);
    expect(to.auditTrail.map((r) => r.operation).sort()).toEqual(['login', 'system.bootstrap']);
    // A range with nothing in it.
    expect((await trail(admin, `?fromTime=${secs(t2) + 1}&toTime=${secs(t2) + 30}`)).auditTrail).toEqual([]);
  });

  it('filters by userName (case-insensitive), userId, companyId, operation and outcome', async () => {
    const { acme, beta } = await timeline();
    const byName = await trail(admin, `?userName=${encodeURIComponent('ACME\\TADMIN')}`);
    expect(byName.auditTrail.map((r) => r.operation).sort()).toEqual(['login', 'user.create']);
    expect(byName.auditTrail.every((r) => r.user.userName === 'acme\\tadmin')).toBe(true);

    const byId = await trail(admin, `?userId=${acme.userId}`);
    expect(byId.auditTrail.map((r) => r.id)).toEqual(byName.auditTrail.map((r) => r.id));

    const byCompany = await trail(admin, `?companyId=${beta.companyId}`);
    expect(byCompany.auditTrail.length).toBeGreaterThan(0);
    expect(byCompany.auditTrail.every((r) => r.companyId === beta.companyId)).toBe(true);
    expect(byCompany.auditTrail.map((r) => r.operation).sort()).toEqual(['company.create', 'login', 'user.create']);

    const failures = await trail(admin, '?operation=login&outcome=failure');
    expect(failures.auditTrail).toHaveLength(1);
    expect(failures.auditTrail[0]).toMatchObject({
      operation: 'login',
      outcome: 'failure',
      user: { userName: 'admin' },
    });
    expect(failures.totalRecords).toBe(1);

    const creates = await trail(admin, `?operation=user.create&companyId=${acme.companyId}`);
    expect(creates.auditTrail.map((r) => r.target.name)).toEqual(['bob', 'tadmin']);

    const nobody = await trail(admin, '?userName=nobody');
    expect(nobody).toEqual({ auditTrail: [], totalRecords: 0 });
  });

  it('pages with offset and limit; totalRecords counts every match', async () => {
    await timeline();
    const all = (await trail(admin, '?limit=1000')).auditTrail.map((r) => r.id);
    const n = all.length;
    expect(n).toBeGreaterThan(6);
    const seen: number[] = [];
    for (let offset = 0; offset < n; offset += 3) {
      const page = await trail(admin, `?offset=${offset}&limit=3`);
      expect(page.totalRecords).toBe(n);
      expect(page.auditTrail.length).toBe(Math.min(3, n - offset));
      seen.push(...page.auditTrail.map((r) => r.id));
    }
    expect(seen).toEqual(all);
    expect((await trail(admin, `?offset=${n}&limit=3`)).auditTrail).toEqual([]);
    // Default page is 100.
    expect((await trail(admin)).auditTrail).toHaveLength(n);
  });

  it('refuses bad parameters with 400', async () => {
    for (const q of [
      '?fromTime=yesterday',
      '?toTime=2026-13-45T99:00:00Z',
      '?outcome=maybe',
      '?limit=0',
      '?limit=100000',
      '?offset=-1',
      '?userId=abc',
    ]) {
      const res = await t.call('GET', `/AuditTrail${q}`, admin);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().errorCode, q).toBe(1000);
    }
  });

  it("a tenant admin sees only its company's records; other companies' ids give an empty page", async () => {
    const { acme, beta } = await timeline();
    const own = await trail(acme.token, '?limit=1000');
    expect(own.auditTrail.length).toBeGreaterThan(0);
    expect(own.auditTrail.every((r) => r.companyId === acme.companyId)).toBe(true);
    expect(own.auditTrail.map((r) => r.operation)).toContain('company.create');
    expect(JSON.stringify(own)).not.toContain('beta');
    const stored = (await rows()).filter((r) => r.company_id === acme.companyId);
    expect(own.totalRecords).toBe(stored.length);

    expect(await trail(acme.token, `?companyId=${beta.companyId}`)).toEqual({ auditTrail: [], totalRecords: 0 });
    expect(await trail(acme.token, '?companyId=0')).toEqual({ auditTrail: [], totalRecords: 0 });
    expect((await trail(acme.token, `?companyId=${acme.companyId}`)).totalRecords).toBe(stored.length);
    // Filters cannot widen the view.
    const adminRecords = await trail(acme.token, '?userName=admin');
    expect(adminRecords.auditTrail.every((r) => r.companyId === acme.companyId)).toBe(true);
    const betaAdmin = await trail(acme.token, `?userId=${beta.userId}`);
    expect(betaAdmin).toEqual({ auditTrail: [], totalRecords: 0 });
  });

  it('a plain user, in a company or in the CommCell, gets 587204594', async () => {
    const { acme } = await timeline();
    const plain = await addUser(admin, 'plain', 'Plain-Passw0rd!');
    expect(plain).toEqual(expect.any(Number));
    const tokens = [await t.login('acme\\bob', 'Bob-Passw0rd!'), await t.login('plain', 'Plain-Passw0rd!')];
    for (const token of tokens) {
      for (const q of ['', `?companyId=${acme.companyId}`, '?companyId=0']) {
        const res = await t.call('GET', `/AuditTrail${q}`, token);
        expect(res.statusCode).toBe(200);
        expect(res.json().errorCode, q).toBe(587204594);
        expect(res.json().auditTrail).toBeUndefined();
      }
    }
    // Each refusal is itself a security event in the trail: the first of a burst at once,
    // the rest of it (same actor, route and code, within a minute) as one record with a count.
    const deniedNow = async () =>
      t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', 'access.denied').orderBy('seq').execute();
    expect((await deniedNow()).map((d) => d.actor_name)).toEqual(['acme\\bob', 'plain']);
    await t.ctx.refusals.flush();
    const denied = await deniedNow();
    expect(denied.map((d) => [d.actor_name, JSON.parse(d.details).coalesced ?? 1])).toEqual([
      ['acme\\bob', 1],
      ['plain', 1],
      ['acme\\bob', 2],
      ['plain', 2],
    ]);
    expect(denied[0]).toMatchObject({
      outcome: 'failure',
      target_type: 'route',
      target_name: 'GET /commandcenter/api/AuditTrail',
    });
  });
});

describe('the audit chain', () => {
  it('verifies after a run', async () => {
    await busyRun();
    const result = await verifyAudit(t.store.db);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.checked).toBe((await rows()).length);
    expect(result.headSeq).toBe(result.checked);
  });

  it('fails after a row is edited', async () => {
    await busyRun();
    await t.store.db.updateTable('audit_log').set({ reason: 'nothing to see here' }).where('seq', '=', 3).execute();
    const result = await verifyAudit(t.store.db);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toContain(3);
  });

  it('fails after a row is edited and its own hash recomputed (the next row no longer links)', async () => {
    await busyRun();
    const { recordHash } = await import('../../audit/chain.js');
    const row = (await rows())[3]!;
    const edited = { ...row, seq: Number(row.seq), outcome: row.outcome === 'success' ? 'failure' : 'success' };
    await t.store.db
      .updateTable('audit_log')
      .set({ outcome: edited.outcome, hash: recordHash(edited) })
      .where('seq', '=', edited.seq)
      .execute();
    const result = await verifyAudit(t.store.db);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toContain(edited.seq + 1);
  });

  it('fails after a middle row is deleted', async () => {
    await busyRun();
    const n = (await rows()).length;
    const middle = Math.floor(n / 2);
    await t.store.db.deleteFrom('audit_log').where('seq', '=', middle).execute();
    const result = await verifyAudit(t.store.db);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toContain(middle + 1);
  });

  it('fails after the last row is deleted (the head no longer matches)', async () => {
    await busyRun();
    const n = (await rows()).length;
    await t.store.db.deleteFrom('audit_log').where('seq', '=', n).execute();
    const result = await verifyAudit(t.store.db);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ seq: n })]);
    expect(result.problems[0]?.problem).toMatch(/head/);
  });

  it("fails after two rows' contents are swapped", async () => {
    await busyRun();
    const all = await rows();
    const [a, b] = [all[2]!, all[3]!];
    const content = (r: typeof a) => {
      const { seq: _seq, ...rest } = r;
      return rest;
    };
    await t.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('audit_log').set(content(b)).where('seq', '=', Number(a.seq)).execute();
      await tx.updateTable('audit_log').set(content(a)).where('seq', '=', Number(b.seq)).execute();
    });
    const swapped = await rows();
    expect(swapped[2]?.operation).toBe(b.operation);
    const result = await verifyAudit(t.store.db);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toEqual(expect.arrayContaining([Number(a.seq), Number(b.seq)]));
  });

  it('stays one unbroken chain under concurrent writers', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => addUser(i % 2 ? admin : acme.token, `acme\\c${i}`, 'Conc-Passw0rd!')),
      ...Array.from({ length: 4 }, () => jsonLogin('admin', 'Wr0ng-Guess')),
      ...Array.from({ length: 4 }, () => t.login()),
    ]);
    const all = await rows();
    expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
    const result = await verifyAudit(t.store.db);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('keeps verifying as records are added after a check', async () => {
    await busyRun();
    expect((await verifyAudit(t.store.db)).ok).toBe(true);
    await makeTenant(t, admin, 'later');
    expect((await verifyAudit(t.store.db)).ok).toBe(true);
  });
});
