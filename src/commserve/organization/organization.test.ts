import { describe, expect, it } from 'vitest';
import { BASE, BASES, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const FL = '?Fl=providers.associatedEntitiesCount,providers.shortName,providers.connectName';

/** Exactly what the newer cvpysdk `Organizations.add(name, email, contact_name, company_alias)` sends. */
function sdkCreateBody(name: string, email: string, contact: string, alias: string, sendEmail = true) {
  return {
    organizationInfo: {
      tenantInfo: { address: { address: '', city: '', postalCode: '', state: '', country: '' } },
      organization: {
        connectName: name,
        emailDomainNames: [email.split('@')[1]],
        shortName: { domainName: alias },
      },
      organizationProperties: {
        enableAutoDiscovery: false,
        primaryDomain: '',
        primaryContacts: [{ fullName: contact, email }],
      },
      planDetails: [],
    },
    ...(sendEmail ? { sendEmail: true } : {}),
  };
}

const create = (body: unknown, token = admin, headers?: Record<string, string>) =>
  t.call('POST', '/organization', token, body, headers);

async function createOk(name: string, alias: string, email = `boss@${alias}.example`) {
  const res = await create(sdkCreateBody(name, email, `${name} Boss`, alias));
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(body.response.errorCode, res.body).toBe(0);
  return body.response.entity.providerId as number;
}

/** A CommCell user in no group at all: may see only itself. */
async function plainCommCellUser() {
  const res = await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: 'plain' }, email: 'plain@x.example', password: b64('Plain-Passw0rd!') }],
  });
  expect(res.json().response[0].errorCode).toBe(0);
  return t.login('plain', 'Plain-Passw0rd!');
}

const companyRows = () =>
  t.store.db.selectFrom('companies').select(['id', 'domain_name']).where('id', '<>', 0).execute();

describe('GET Organization', () => {
  it('answers {"providers":[]} when there are no companies, never {}, on both list URLs and both mounts', async () => {
    for (const base of BASES) {
      for (const path of ['/Organization', '/organization', `/organization${FL}`, `//Organization${FL}`]) {
        const res = await t.inject({
          method: 'GET',
          url: `${base}${path}`,
          headers: { authtoken: admin, accept: 'application/json' },
        });
        expect(res.statusCode, `${base}${path}`).toBe(200);
        expect(res.json(), `${base}${path}`).toEqual({ providers: [] });
      }
    }
  });

  it('needs an Authtoken', async () => {
    const res = await t.inject({ method: 'GET', url: `${BASE}/Organization` });
    expect(res.statusCode).toBe(401);
  });

  it('lists each company with the keys cvpysdk indexes (connectName, shortName.id, providerGUID)', async () => {
    const a = await createOk('Acme Corp', 'acme');
    const b = await createOk('Beta Ltd', 'beta');
    const list = (await t.call('GET', '/Organization', admin)).json();
    expect(list.providers).toHaveLength(2);
    expect(list.providers[0]).toMatchObject({
      connectName: 'Acme Corp',
      shortName: { id: a, domainName: 'acme' },
      providerGUID: expect.stringMatching(/^[0-9A-Fa-f-]{36}$/),
    });
    expect(list.providers[1]).toMatchObject({ connectName: 'Beta Ltd', shortName: { id: b, domainName: 'beta' } });
    // cvpysdk: if organizationCloudServiceDetails exists it must be a non-empty list.
    for (const p of list.providers) {
      if ('organizationCloudServiceDetails' in p) expect(p.organizationCloudServiceDetails.length).toBeGreaterThan(0);
    }
  });

  it('answers the ?Fl=... variant (the second call of Organizations.refresh) with connectName and associatedEntitiesCount', async () => {
    const a = await createOk('Acme Corp', 'acme');
    const res = await t.call('GET', `/organization${FL}`, admin);
    expect(res.statusCode).toBe(200);
    const [p] = res.json().providers;
    expect(p.connectName).toBe('Acme Corp');
    expect(p.shortName).toMatchObject({ id: a, domainName: 'acme' });
    expect(typeof p.associatedEntitiesCount).toBe('number');
  });

  it('answers XML when Accept asks for it', async () => {
    await createOk('Acme Corp', 'acme');
    const res = await t.call('GET', '/Organization', admin, undefined, { accept: 'application/xml' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/xml/);
    expect(res.body).toMatch(/<App_GetOrganizationsResp>\s*<providers [^>]*connectName="Acme Corp"/);
    expect(res.body).toMatch(/<shortName [^>]*domainName="acme"/);
  });
});

describe('POST Organization', () => {
  it('creates a company from the exact cvpysdk body, ignoring tenantInfo, planDetails and sendEmail', async () => {
    const res = await create(sdkCreateBody('Acme Corp', 'boss@acme.example', 'Ann Boss', 'acme'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const body = res.json();
    // cvpysdk reads response.errorCode with `response` an OBJECT here, not a list.
    expect(Array.isArray(body.response)).toBe(false);
    expect(body.response.errorCode).toBe(0);
    expect(body.response.entity).toMatchObject({
      providerId: expect.any(Number),
      providerDomainName: 'acme',
      providerGUID: expect.stringMatching(/^[0-9A-Fa-f-]{36}$/),
    });
    const id = body.response.entity.providerId;
    expect(id).toBeGreaterThan(0);
    // The SDK then re-lists and finds it by name (lower-cased).
    const list = (await t.call('GET', '/organization', admin)).json();
    expect(list.providers.map((p: { connectName: string }) => p.connectName.toLowerCase())).toEqual(['acme corp']);
    expect(list.providers[0].shortName.id).toBe(id);
  });

  it('accepts the older SDK body (defaultPlans, no tenantInfo) and a body without sendEmail', async () => {
    const res = await create({
      organizationInfo: {
        organization: {
          connectName: 'Old Style',
          emailDomainNames: ['old.example'],
          shortName: { domainName: 'old' },
        },
        organizationProperties: {
          primaryContacts: [{ fullName: 'Otto', email: 'otto@old.example' }],
          defaultPlans: [],
        },
      },
    });
    expect(res.json().response.errorCode).toBe(0);
    const res2 = await create(sdkCreateBody('No Mail', 'n@nomail.example', 'N', 'nomail', false));
    expect(res2.json().response.errorCode).toBe(0);
  });

  it('answers the create in XML when Accept asks for it', async () => {
    const res = await create(sdkCreateBody('Acme Corp', 'boss@acme.example', 'Ann', 'acme'), admin, {
      accept: 'application/xml',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/xml/);
    expect(res.body).toMatch(/<response [^>]*errorCode="0"/);
    expect(res.body).toMatch(/<entity [^>]*providerDomainName="acme"/);
  });

  it('accepts the XML form, where a single primary contact is a lone element', async () => {
    const xml =
      '<App_CreateOrganizationRequest><organizationInfo>' +
      '<organization connectName="Xml Corp"><emailDomainNames>xml.example</emailDomainNames><shortName domainName="xmlcorp"/></organization>' +
      '<organizationProperties><primaryContacts fullName="Xena" email="xena@xml.example"/></organizationProperties>' +
      '</organizationInfo></App_CreateOrganizationRequest>';
    const res = await create(xml, admin, { 'content-type': 'application/xml' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().response.errorCode).toBe(0);
    const id = res.json().response.entity.providerId;
    const org = (await t.call('GET', `/Organization/${id}`, admin)).json().organizationInfo;
    expect(org.organization.emailDomainNames).toEqual(['xml.example']);
    expect(org.organizationProperties.primaryContacts).toEqual([expect.objectContaining({ fullName: 'Xena' })]);
  });

  it('refuses a second company whose domain name differs only in case: errorCode 1201 in response.errorCode', async () => {
    await createOk('Acme Corp', 'acme');
    for (const alias of ['acme', 'ACME', 'Acme']) {
      const res = await create(sdkCreateBody(`Other ${alias}`, `x@${alias}.example`, 'X', alias));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.response.errorCode, alias).toBe(1201);
      expect(body.response.errorMessage).toEqual(expect.any(String));
      // Org 107 in the SDK falls back to the top-level errorMessage.
      expect(body.errorCode).toBe(1201);
    }
    expect(await companyRows()).toHaveLength(1);
    // Nothing of the refused companies was left behind (their contacts included).
    const users = await t.store.db.selectFrom('users').select('email').execute();
    expect(users.map((u) => u.email)).not.toContain('x@acme.example');
  });

  it('lets exactly one of several concurrent creates of one domain name through; the rest get 1201, never 500', async () => {
    const results = await Promise.all(
      ['race', 'RACE', 'Race', 'race'].map((alias, i) =>
        create(sdkCreateBody(`Race ${i}`, `r${i}@race.example`, `R${i}`, alias)),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    const codes = results.map((r) => r.json().response.errorCode).sort();
    expect(codes).toEqual([0, 1201, 1201, 1201]);
    expect(await companyRows()).toHaveLength(1);
  });

  it("refuses the CommCell's own domain name", async () => {
    const res = await create(sdkCreateBody('Sneaky', 'x@commcell.example', 'X', 'commcell'));
    expect(res.json().response.errorCode).toBe(1201);
    expect(await companyRows()).toHaveLength(0);
  });

  it('refuses invalid domain names with 400', async () => {
    const bad = ['', ' ', 'has space', 'a\\b', 'a/b', '-lead', '.lead', 'x'.repeat(65), 'ünï', 'a:b', 'a@b'];
    for (const alias of bad) {
      const res = await create(sdkCreateBody('Bad', 'x@bad.example', 'X', alias));
      expect(res.statusCode, JSON.stringify(alias)).toBe(400);
      expect(res.json().response.errorCode, JSON.stringify(alias)).toBe(1000);
    }
    expect(await companyRows()).toHaveLength(0);
  });

  it('refuses a bad primary contact email with 400', async () => {
    for (const email of ['no-at-sign', 'a@b', 'a b@c.example', '@c.example', 'a@@c.example', '']) {
      const body = sdkCreateBody('Bad', 'x@bad.example', 'X', 'bad');
      body.organizationInfo.organizationProperties.primaryContacts[0]!.email = email;
      const res = await create(body);
      expect(res.statusCode, email).toBe(400);
      expect(res.json().response.errorCode, email).toBe(1000);
    }
    expect(await companyRows()).toHaveLength(0);
  });

  it('refuses a missing or empty connectName, a missing shortName, and a body that is not an organization', async () => {
    const noName = sdkCreateBody('X', 'x@bad.example', 'X', 'bad') as any;
    delete noName.organizationInfo.organization.connectName;
    const emptyName = sdkCreateBody('', 'x@bad.example', 'X', 'bad');
    const blankName = sdkCreateBody('   ', 'x@bad.example', 'X', 'bad');
    const noShort = sdkCreateBody('X', 'x@bad.example', 'X', 'bad') as any;
    delete noShort.organizationInfo.organization.shortName;
    for (const [label, body] of Object.entries({
      noName,
      emptyName,
      blankName,
      noShort,
      empty: {},
      list: [1],
      wrong: { organizationInfo: 'acme' },
    })) {
      const res = await create(body);
      expect(res.statusCode, label).toBe(400);
      expect(res.json().errorCode, label).toBeGreaterThanOrEqual(1000);
    }
    expect(await companyRows()).toHaveLength(0);
  });

  it('refuses a tenant admin and a plain user with 587204594, and creates nothing', async () => {
    const tenant = await makeTenant(t, admin, 'acme');
    const plain = await plainCommCellUser();
    for (const token of [tenant.token, plain]) {
      const res = await create(sdkCreateBody('Evil', 'e@evil.example', 'E', 'evil'), token);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.response.errorCode).toBe(587204594);
      expect(body.response.errorMessage).toBe('You do not have sufficient privileges for this operation');
    }
    expect((await companyRows()).map((c) => c.domain_name)).toEqual(['acme']);
  });

  it('makes the primary contact a user of the company in its Tenant Admin group, without a password', async () => {
    const id = await createOk('Acme Corp', 'acme', 'ann.boss@acme.example');
    const users = (await t.call('GET', '/User', admin)).json().users as Array<{
      userEntity: { userName: string; userId: number };
    }>;
    const contact = users.find((u) => u.userEntity.userName.toLowerCase() === 'acme\\ann.boss');
    expect(contact, JSON.stringify(users)).toBeDefined();
    const props = (await t.call('GET', `/User/${contact!.userEntity.userId}?Level=50`, admin)).json().users[0];
    expect(props.email).toBe('ann.boss@acme.example');
    expect(props.fullName).toBe('Acme Corp Boss');
    expect(props.associatedUserGroups.map((g: { userGroupName: string }) => g.userGroupName)).toEqual(['Tenant Admin']);
    const group = await t.store.db
      .selectFrom('user_groups')
      .select(['company_id', 'system_kind'])
      .where('name', '=', 'Tenant Admin')
      .executeTakeFirstOrThrow();
    expect(group).toEqual({ company_id: id, system_kind: 'tenant-admin' });
    // It has no password yet, so no password logs it in.
    const login = await t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      payload: { mode: 4, username: 'acme\\ann.boss', password: b64(''), deviceId: 'd', clientType: 30 },
    });
    expect(login.json().token).toBeUndefined();
    // And the organization names it as its primary contact.
    const org = (await t.call('GET', `/Organization/${id}`, admin)).json().organizationInfo;
    expect(org.organizationProperties.primaryContacts).toEqual([
      expect.objectContaining({
        fullName: 'Acme Corp Boss',
        user: expect.objectContaining({ userId: contact!.userEntity.userId, userName: expect.any(String) }),
      }),
    ]);
    expect(org.organizationProperties.userCount).toBe(1);
  });

  it('gives two contacts with the same mailbox name two distinct users', async () => {
    const body = sdkCreateBody('Twins', 'bob@twins.example', 'Bob One', 'twins');
    body.organizationInfo.organizationProperties.primaryContacts.push({
      fullName: 'Bob Two',
      email: 'bob@other.example',
    });
    const res = await create(body);
    expect(res.json().response.errorCode).toBe(0);
    const id = res.json().response.entity.providerId;
    const rows = await t.store.db.selectFrom('users').select('user_name').where('company_id', '=', id).execute();
    expect(rows.map((r) => r.user_name.toLowerCase()).sort()).toEqual(['bob', 'bob@other.example']);
  });
});

describe('GET Organization/{id}', () => {
  it('carries every key cvpysdk reads', async () => {
    const id = await createOk('Acme Corp', 'acme');
    const res = await t.call('GET', `/Organization/${id}`, admin);
    expect(res.statusCode).toBe(200);
    const info = res.json().organizationInfo;
    const o = info.organization;
    expect(o.connectName).toBe('Acme Corp');
    expect(o.description).toBe('');
    expect(o.emailDomainNames).toEqual(['acme.example']);
    expect(o.shortName).toEqual({ id, domainName: 'acme' });
    expect(o.providerGUID).toEqual(expect.any(String));
    expect(o.deactivateOptions).toEqual({ disableBackup: false, disableRestore: false, disableLogin: false });
    const p = info.organizationProperties;
    expect(p.advancedPrivacySettings.authType).toEqual(expect.any(Number));
    expect(p.advancedPrivacySettings.authType).not.toBe(2); // no passkey yet
    expect(p.advancedPrivacySettings.passkeySettings).toEqual({ enableAuthorizeForRestore: false });
    expect(p.allowUsersToEnablePasskey).toBe(false);
    expect(p.enableAuthCodeGen).toBe(false);
    expect(p.operatorRole).toEqual({ roleName: expect.any(String) });
    // 2026-11-23T08:00:00Z, the test clock's start, in epoch seconds.
    expect(p.orgCreationDateTime).toBe(Date.parse('2026-11-23T08:00:00.000Z') / 1000);
    expect(p.totalMachineCount).toBe(0);
    expect(p.userCount).toBe(1);
    expect(p.serverCount).toBe(0);
    expect(typeof p.clientGroupForceClientSideDownload).toBe('boolean');
    expect(p.globalFiltersInfo).toEqual({ globalFiltersInfoList: [] });
    expect(p.enableAutoDiscovery).toBe(false);
    expect(Array.isArray(info.planDetails)).toBe(true);
  });

  it('counts the users of the company', async () => {
    const tenant = await makeTenant(t, admin, 'acme');
    const info = (await t.call('GET', `/Organization/${tenant.companyId}`, tenant.token)).json().organizationInfo;
    expect(info.organizationProperties.userCount).toBe(2); // the contact and tadmin
  });

  it('answers XML when Accept asks for it', async () => {
    const id = await createOk('Acme Corp', 'acme');
    const res = await t.call('GET', `/Organization/${id}`, admin, undefined, { accept: 'application/xml' });
    expect(res.headers['content-type']).toMatch(/application\/xml/);
    expect(res.body).toMatch(/^<\?xml/);
    expect(res.body).toMatch(/<App_GetOrganizationResp>\s*<organizationInfo>/);
    expect(res.body).toMatch(/<organization [^>]*connectName="Acme Corp"/);
    expect(res.body).toMatch(/<deactivateOptions [^>]*disableLogin="false"/);
    expect(res.body).toMatch(/<operatorRole roleName="[^"]+"/);
    // An error is XML too.
    const missing = await t.call('GET', '/Organization/424242', admin, undefined, { accept: 'application/xml' });
    expect(missing.body).toMatch(/errorCode="1200"/);
  });

  it('is served under both mount points and case-insensitively', async () => {
    const id = await createOk('Acme Corp', 'acme');
    for (const base of BASES) {
      for (const path of [`/Organization/${id}`, `/organization/${id}`, `//ORGANIZATION/${id}`]) {
        const res = await t.inject({
          method: 'GET',
          url: `${base}${path}`,
          headers: { authtoken: admin },
        });
        expect(res.json().organizationInfo.organization.shortName.id, `${base}${path}`).toBe(id);
      }
    }
  });

  it('answers NOT_FOUND (1200) for unknown, non-numeric and huge ids', async () => {
    await createOk('Acme Corp', 'acme');
    for (const id of ['424242', 'abc', '-1', '1.0', '0x1', '1e3', '99999999999999999999', '2147483648', '%20']) {
      for (const suffix of ['', '/TwoFactorAuth']) {
        const res = await t.call('GET', `/Organization/${id}${suffix}`, admin);
        expect(res.statusCode, `${id}${suffix}`).toBe(200);
        expect(res.json().errorCode, `${id}${suffix}`).toBe(1200);
      }
    }
  });
});

describe('GET Organization/0 (the CommCell, as cvpysdk reads it for is_passkey_enabled)', () => {
  it('answers the CommCell administrator with organizationProperties', async () => {
    const res = await t.call('GET', '/Organization/0', admin);
    const props = res.json().organizationInfo?.organizationProperties;
    expect(props, res.body).toBeDefined();
    expect(props.advancedPrivacySettings.authType).not.toBe(2);
  });
});

describe('GET Organization/{id}/TwoFactorAuth', () => {
  it('answers mode 0 for a company', async () => {
    const id = await createOk('Acme Corp', 'acme');
    const res = await t.call('GET', `/Organization/${id}/TwoFactorAuth`, admin);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ twoFactorAuthenticationInfo: { mode: 0 } });
    const xml = await t.call('GET', `/organization/${id}/twofactorauth`, admin, undefined, {
      accept: 'application/xml',
    });
    expect(xml.body).toMatch(/<twoFactorAuthenticationInfo mode="0"/);
  });
});

describe('tenant isolation', () => {
  it("a tenant admin lists and reads only its own company; another tenant's id is NOT_FOUND, never forbidden", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');

    const list = (await t.call('GET', '/Organization', a.token)).json();
    expect(list.providers.map((p: { shortName: { id: number } }) => p.shortName.id)).toEqual([a.companyId]);
    const fl = (await t.call('GET', `/organization${FL}`, a.token)).json();
    expect(fl.providers.map((p: { connectName: string }) => p.connectName)).toEqual(['acme Inc']);

    expect((await t.call('GET', `/Organization/${a.companyId}`, a.token)).json().organizationInfo).toBeDefined();
    expect((await t.call('GET', `/Organization/${a.companyId}/TwoFactorAuth`, a.token)).json()).toEqual({
      twoFactorAuthenticationInfo: { mode: 0 },
    });

    const nowhere = await t.call('GET', '/Organization/424242', a.token);
    for (const path of [
      `/Organization/${b.companyId}`,
      `/Organization/${b.companyId}/TwoFactorAuth`,
      '/Organization/0',
    ]) {
      const res = await t.call('GET', path, a.token);
      expect(res.statusCode, path).toBe(200);
      const body = res.json();
      expect(body.errorCode, path).toBe(1200);
      expect(body.errorCode).not.toBe(587204594);
      expect(res.body, path).not.toContain('beta');
      // Indistinguishable from an id that does not exist.
      expect(res.body, path).toBe(nowhere.body);
    }
  });

  it("a tenant's users see their own company only; a plain CommCell user sees none", async () => {
    const a = await makeTenant(t, admin, 'acme');
    await makeTenant(t, admin, 'beta');
    await t.call('POST', '/User', a.token, {
      users: [{ userEntity: { userName: 'worker' }, email: 'w@acme.example', password: b64('Worker-Passw0rd!') }],
    });
    const worker = await t.login('acme\\worker', 'Worker-Passw0rd!');
    const list = (await t.call('GET', '/Organization', worker)).json();
    expect(list.providers.map((p: { shortName: { domainName: string } }) => p.shortName.domainName)).toEqual(['acme']);
    const plain = await plainCommCellUser();
    expect((await t.call('GET', '/Organization', plain)).json()).toEqual({ providers: [] });
    expect((await t.call('GET', `/organization${FL}`, plain)).json()).toEqual({ providers: [] });
    expect((await t.call('GET', `/Organization/${a.companyId}`, plain)).json().errorCode).toBe(1200);
  });

  it('the CommCell administrator sees every company', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    const ids = (await t.call('GET', '/Organization', admin))
      .json()
      .providers.map((p: { shortName: { id: number } }) => p.shortName.id);
    expect(ids).toEqual([a.companyId, b.companyId]);
    for (const id of ids) {
      expect(
        (await t.call('GET', `/Organization/${id}`, admin)).json().organizationInfo.organization.shortName.id,
      ).toBe(id);
    }
  });
});
