import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';

// PUT Organization as cvpysdk's Organization sends it (allow_owners_to_enable_passkey,
// email_domain_names, and a property Bulwark does not keep), recorded against a live
// server on the demo's acme (company 1): the whole `organization` it last read back,
// the changed keys in `organizationProperties`.

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
}, 'all');

const WIRE = JSON.parse(readFileSync(new URL('./cvpysdk-update-wire.json', import.meta.url), 'utf8')) as Array<{
  label: string;
  payload: any;
}>;

let acme: { companyId: number; token: string };
let globex: { companyId: number; token: string };

/** The recorded body made to fit a company as GET shows it now, with the recorded change applied. */
async function wire(label: string, companyId = acme.companyId, token = admin) {
  const w = WIRE.find((x) => x.label === label)?.payload;
  const shown = (await t.call('GET', `/Organization/${companyId}`, admin)).json().organizationInfo;
  const body = structuredClone(w);
  const recorded = w.organizationInfo.organization;
  body.organizationInfo.organization = {
    ...shown.organization,
    ...(label === 'email-domains' ? { emailDomainNames: [...shown.organization.emailDomainNames, 'added.test'] } : {}),
  };
  expect(Object.keys(body.organizationInfo.organization).sort()).toEqual(Object.keys(recorded).sort());
  return { body, put: (b = body, tk = token) => t.call('PUT', `/Organization?organizationId=${companyId}`, tk, b) };
}

const row = (id: number) =>
  t.store.db.selectFrom('companies').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

async function userWithRole(domain: string, companyId: number, name: string, permissions: string[]) {
  const login = `${domain}\\${name}`;
  await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: login }, email: `${name}@${domain}.example`, password: b64('User-Passw0rd!') }],
  });
  const role = await t.call('POST', '/Role', admin, {
    roles: [
      {
        role: { roleName: `${name}-role` },
        categoryPermission: { categoriesPermissionList: permissions.map((permissionName) => ({ permissionName })) },
      },
    ],
  });
  expect(role.json().response[0].errorCode, role.body).toBe(0);
  const grant = await t.call('POST', '/Security', admin, {
    entityAssociated: { entity: [{ entityType: 61, entityId: companyId }] },
    securityAssociations: {
      associationsOperationType: 'ADD',
      associations: [{ userOrGroup: [{ userName: login }], properties: { role: { roleName: `${name}-role` } } }],
    },
  });
  expect(grant.json().response[0].errorCode, grant.body).toBe(0);
  return t.login(login, 'User-Passw0rd!');
}

beforeAll(async () => {
  acme = await makeTenant(t, admin, 'acme');
  globex = await makeTenant(t, admin, 'globex');
});

describe('PUT Organization as cvpysdk sends it', () => {
  it('allow_owners_to_enable_passkey sets the flag, shown by GET, audited in the same transaction', async () => {
    const { put } = await wire('allow-owners');
    const res = await put();
    expect(res.json(), res.body).toEqual({ error: { errorCode: 0, errorMessage: '' } });
    const shown = (await t.call('GET', `/Organization/${acme.companyId}`, admin)).json().organizationInfo;
    expect(shown.organizationProperties.allowUsersToEnablePasskey).toBe(true);
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select(['details', 'company_id'])
      .where('operation', '=', 'company.update')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit.company_id).toBe(acme.companyId);
    expect(JSON.parse(audit.details).changed).toEqual([{ field: 'allowUsersToEnablePasskey', from: false, to: true }]);
  });

  it('email_domain_names changes the domains; the same body again changes nothing and writes no record', async () => {
    const { put } = await wire('email-domains');
    expect((await put()).json().error.errorCode).toBe(0);
    expect(JSON.parse((await row(acme.companyId)).email_domains)).toEqual(['acme.example', 'added.test']);
    const before = await t.store.db.selectFrom('audit_log').select('seq').orderBy('seq', 'desc').executeTakeFirst();
    const again = await t.call('GET', `/Organization/${acme.companyId}`, admin);
    // GET's whole answer sent back is no change at all.
    const whole = { organizationInfo: again.json().organizationInfo };
    expect((await t.call('PUT', `/Organization/${acme.companyId}`, admin, whole)).json().error.errorCode).toBe(0);
    const after = await t.store.db.selectFrom('audit_log').select('seq').orderBy('seq', 'desc').executeTakeFirst();
    expect(after?.seq).toBe(before?.seq);
  });

  it('a property Bulwark does not keep (show_dlp) is 1204 naming it, in the shape cvpysdk reads', async () => {
    const { put } = await wire('show-dlp');
    const res = await put();
    expect(res.json().error).toEqual({
      errorCode: 1204,
      errorMessage:
        'organizationInfo.organizationProperties.showDLP is not supported here (only allowUsersToEnablePasskey)',
    });
  });
});

describe('what a whole body may change, and who may', () => {
  it("a tenant admin changes its own company's settings, not another company's (1200, nothing changed)", async () => {
    const own = await wire('allow-owners', globex.companyId, globex.token);
    expect((await own.put()).json().error.errorCode).toBe(0);
    const other = await wire('email-domains', globex.companyId);
    const before = await row(globex.companyId);
    expect((await other.put(other.body, acme.token)).json().errorCode).toBe(1200);
    const byPath = await t.call('PUT', `/Organization/${globex.companyId}`, acme.token, other.body);
    expect(byPath.json().errorCode).toBe(1200);
    expect(await row(globex.companyId)).toEqual(before);
  });

  it('each change needs its own right: Passkey Management for the passkey flag, Administrative Management for the rest', async () => {
    const passkeyOnly = await userWithRole('acme', acme.companyId, 'pk', ['View', 'Passkey Management']);
    const adminOnly = await userWithRole('acme', acme.companyId, 'am', ['View', 'Administrative Management']);
    const viewer = await userWithRole('acme', acme.companyId, 'viewer', ['View']);
    const flag = await wire('oscar-allow');
    const domains = await wire('email-domains');
    const before = await row(acme.companyId);
    for (const [token, body] of [
      [viewer, flag.body],
      [viewer, domains.body],
      [adminOnly, flag.body],
      [passkeyOnly, domains.body],
    ] as const) {
      expect((await flag.put(body, token)).json().errorCode).toBe(587204594);
    }
    // Both changes in one body need both rights.
    const both = structuredClone(domains.body);
    both.organizationInfo.organizationProperties = { allowUsersToEnablePasskey: false };
    expect((await flag.put(both, passkeyOnly)).json().errorCode).toBe(587204594);
    expect(await row(acme.companyId)).toEqual(before);
    expect((await flag.put(flag.body, passkeyOnly)).json().error.errorCode).toBe(0);
    expect((await flag.put(domains.body, adminOnly)).json().error.errorCode).toBe(0);
    // A PUT that changes nothing is still an edit: the viewer cannot make one.
    const same = await wire('allow-owners');
    same.body.organizationInfo.organizationProperties = {};
    expect((await same.put(same.body, viewer)).json().errorCode).toBe(587204594);
  });

  it('deactivation, name, domain, GUID, another id, renames, plans and odd values are 1204, nothing changed', async () => {
    const { body, put } = await wire('allow-owners');
    const before = await row(acme.companyId);
    const cases: Array<[(b: any) => void, RegExp]> = [
      [
        (b) => {
          b.organizationInfo.organization.deactivateOptions.disableLogin = true;
        },
        /deactivateOptions/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.connectName = 'Evil';
        },
        /connectName cannot be changed/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.shortName = { id: acme.companyId, domainName: 'x' };
        },
        /shortName/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.shortName.id = globex.companyId;
        },
        /another company/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.providerGUID = 'x';
        },
        /providerGUID/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.ownerCompany = 0;
        },
        /ownerCompany/,
      ],
      [
        (b) => {
          b.newCompanyName = 'Evil';
        },
        /newCompanyName/,
      ],
      [
        (b) => {
          b.newAliasName = 'evil';
        },
        /newAliasName/,
      ],
      [
        (b) => {
          b.organizationInfo.planDetails = [{ plan: { planId: 1 } }];
        },
        /planDetails/,
      ],
      [
        (b) => {
          b.organizationInfo.organizationProperties.allowUsersToEnablePasskey = 'maybe';
        },
        /true or false/,
      ],
      [
        (b) => {
          b.organizationInfo.organizationProperties.userCount = 0;
        },
        /userCount/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.emailDomainNames = ['not a domain'];
        },
        /not a domain name/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.emailDomainNames = Array(101).fill('a.test');
        },
        /at most 100/,
      ],
      [
        (b) => {
          b.organizationInfo.organization.description = 'x\u0000';
        },
        /description/,
      ],
    ];
    for (const [change, reason] of cases) {
      const b = structuredClone(body);
      b.organizationInfo.organizationProperties.allowUsersToEnablePasskey = false;
      change(b);
      for (const token of [admin, acme.token]) {
        const res = await put(b, token);
        expect(res.json().errorCode, `${reason} ${res.body}`).toBe(1204);
        expect(res.json().errorMessage).toMatch(reason);
      }
    }
    expect((await put({})).statusCode).toBe(400);
    expect((await t.call('PUT', '/Organization', admin, body)).json().errorCode).toBe(1200);
    expect((await t.call('PUT', '/Organization?organizationId=999', admin, body)).json().errorCode).toBe(1200);
    expect(await row(acme.companyId)).toEqual(before);
  });

  it('arbitrary bodies never 5xx and change nothing but the three settings', async () => {
    const { body } = await wire('allow-owners');
    const before = await row(globex.companyId);
    const keep = ({ description: _d, email_domains: _e, allow_users_to_enable_passkey: _a, ...rest }: any) => rest;
    const value = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null), fc.object());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('organization', 'organizationProperties', 'top'),
        fc.constantFrom(
          'description',
          'emailDomainNames',
          'deactivateOptions',
          'shortName',
          'allowUsersToEnablePasskey',
          'connectName',
          'newCompanyName',
          'authType',
        ),
        value,
        async (where, key, v) => {
          const b = structuredClone(body);
          if (where === 'top') b[key] = v;
          else b.organizationInfo[where][key] = v;
          const res = await t.call('PUT', `/Organization/${globex.companyId}`, admin, b);
          expect(res.statusCode, res.body).toBeLessThan(500);
        },
      ),
      { numRuns: 80 },
    );
    expect(keep(await row(globex.companyId))).toEqual(keep(before));
  });
});
