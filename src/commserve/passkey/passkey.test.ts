import { describe, expect, it } from 'vitest';
import { addEntities } from '../../../test/estate.js';
import { BASE, BASES, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { hashSecret } from '../../crypto/passwords.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import { restoreWindow } from './gate.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const ok = (root: string) =>
  `${XML_DECL}<${root}><processinginstructioninfo><attributes name="exitval" value="0"/></processinginstructioninfo><error errorCode="0"/></${root}>`;
const failed = (root: string, code: number, message: string) =>
  `${XML_DECL}<${root}><processinginstructioninfo><attributes name="exitval" value="${code}"/></processinginstructioninfo><error errorMessage="${message}" errorCode="${code}"/></${root}>`;
const WRONG = 'Passkey is incorrect. Please provide valid passkey to continue with the operation.';
const NO_RIGHT = 'You do not have sufficient privileges for this operation';

/** An XML request as the seeds send it (Accept: application/xml). */
function xml(path: string, token: string, body: string) {
  return t.inject({
    method: 'POST',
    url: `${BASE}${path}`,
    headers: { authtoken: token, 'content-type': 'application/xml', accept: 'application/xml' },
    payload: body,
  });
}

/** The errorCode of a passkey reply (JSON). */
async function code(path: string, token: string, body: unknown): Promise<number> {
  const res = await t.call('POST', path, token, body);
  const j = res.json();
  // An unreadable or invalid body (1000, 1004) is HTTP 400 in the generic shape, as on every route.
  if (res.statusCode === 400) return j.errorCode;
  expect(res.statusCode, res.body).toBe(200);
  expect(j.processinginstructioninfo.attributes).toEqual({ name: 'exitval', value: j.error.errorCode });
  return j.error.errorCode;
}

const create = (pk: string) => ({ newPasskey: b64(pk), confirmPasskey: b64(pk), passkeyOpType: 'CREATE' });
const authorize = (pk: string, enable: boolean | number = true, toTime?: number) => ({
  passkey: b64(pk),
  passkeySettings: {
    enableAuthorizeForRestore: enable,
    passkeyExpirationInterval: toTime === undefined ? {} : { toTime },
  },
});

/** Stores a passkey directly, as one set before the policy would have been (the seeds' "Abc!12"). */
async function storePasskey(companyId: number, pk: string) {
  await t.store.db
    .updateTable('companies')
    .set({ passkey_hash: await hashSecret(pk) })
    .where('id', '=', companyId)
    .execute();
}

async function org(id: number, token = admin) {
  return (await t.call('GET', `/Organization/${id}`, token)).json().organizationInfo.organizationProperties;
}

/** A user of the company holding `role` on it; returns its token. */
async function userWithRole(domain: string, companyId: number, name: string, role: string) {
  const made = await t.call('POST', '/User', admin, {
    users: [
      {
        userEntity: { userName: `${domain}\\${name}` },
        email: `${name}@${domain}.example`,
        password: b64('User-Passw0rd!'),
      },
    ],
  });
  expect(made.json().response[0].errorCode, made.body).toBe(0);
  const sec = await t.call('POST', '/Security', admin, {
    entityAssociated: { entity: [{ providerId: companyId }] },
    securityAssociations: {
      associationsOperationType: 'ADD',
      associations: [{ userOrGroup: [{ userName: `${domain}\\${name}` }], properties: { role: { roleName: role } } }],
    },
  });
  expect(sec.json().response[0].errorCode, sec.body).toBe(0);
  return t.login(`${domain}\\${name}`, 'User-Passw0rd!');
}

describe('the seeds, verbatim (XML, plain text)', () => {
  it('creates with currentPasskey alone, modifies and removes a passkey', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    const created = await xml(
      path,
      acme.token,
      '<?xml version="1.0" encoding="UTF-8"?><App_SetPasskeyRequest currentPasskey="RESTAPI!12" passkeyOpType="1"/>',
    );
    expect(created.body).toBe(ok('App_SetPasskeyResponse'));
    expect((await org(acme.companyId)).advancedPrivacySettings.authType).toBe(2);
    // The seeds then change and remove "Abc!12", shorter than today's policy: stored as one set before it.
    await storePasskey(acme.companyId, 'Abc!12');
    const modified = await xml(
      path,
      acme.token,
      '<?xml version="1.0" encoding="UTF-8"?><App_SetPasskeyRequest currentPasskey="Abc!12" newPasskey="RestAPI!12" confirmPasskey="RestAPI!12" passkeyOpType="2"/>',
    );
    expect(modified.body).toBe(ok('App_SetPasskeyResponse'));
    // Now "Abc!12" is wrong…
    const stale = await xml(
      path,
      acme.token,
      '<?xml version="1.0" encoding="UTF-8"?><App_SetPasskeyRequest currentPasskey="Abc!12" passkeyOpType="3"/>',
    );
    expect(stale.body).toBe(failed('App_SetPasskeyResponse', 587206528, WRONG));
    // …and the seed's remove works once it is the passkey again.
    await storePasskey(acme.companyId, 'Abc!12');
    const removed = await xml(
      path,
      acme.token,
      '<?xml version="1.0" encoding="UTF-8"?><App_SetPasskeyRequest currentPasskey="Abc!12" passkeyOpType="3"/>',
    );
    expect(removed.body).toBe(ok('App_SetPasskeyResponse'));
    expect((await org(acme.companyId)).advancedPrivacySettings.authType).not.toBe(2);
  });

  it('enables authorize for restore (a wrong passkey answers 587206528 with the seed message) and disables it without a passkey', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    expect(await code(path, acme.token, create('Right-Passkey!1'))).toBe(0);
    // The seed's sample lacks the closing '>' of its end tag; it is otherwise verbatim.
    const enable = await xml(
      path,
      acme.token,
      `<?xml version="1.0" encoding="UTF-8"?>
<App_AuthorizeForRestoreRequest passkey="Passkey!123">
  <passkeySettings enableAuthorizeForRestore="1">
    <passkeyExpirationInterval toTime="1800"/>
  </passkeySettings>
</App_AuthorizeForRestoreRequest>`,
    );
    expect(enable.body).toBe(failed('App_AuthorizeForRestoreResponse', 587206528, WRONG));
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(false);
    const right = await xml(
      path,
      acme.token,
      `<App_AuthorizeForRestoreRequest passkey="Right-Passkey!1"><passkeySettings enableAuthorizeForRestore="1"><passkeyExpirationInterval toTime="1800"/></passkeySettings></App_AuthorizeForRestoreRequest>`,
    );
    expect(right.body).toBe(ok('App_AuthorizeForRestoreResponse'));
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(true);
    const disable = await xml(
      path,
      acme.token,
      `<?xml version="1.0" encoding="UTF-8"?>
<App_AuthorizeForRestoreRequest>
  <passkeySettings enableAuthorizeForRestore="0">
    <passkeyExpirationInterval/>
  </passkeySettings>
</App_AuthorizeForRestoreRequest>`,
    );
    expect(disable.body).toBe(ok('App_AuthorizeForRestoreResponse'));
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(false);
  });

  it('answers a user without Passkey Management with the seed reply (587204594), on both mount points', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const op = await userWithRole('acme', acme.companyId, 'op', 'Tenant Operator');
    for (const base of BASES) {
      const res = await t.inject({
        method: 'POST',
        url: `${base}/Company/${acme.companyId}/Passkey`,
        headers: { authtoken: op, 'content-type': 'application/xml', accept: 'application/xml' },
        payload: '<App_SetPasskeyRequest currentPasskey="RESTAPI!12" passkeyOpType="1"/>',
      });
      expect(res.body).toBe(failed('App_SetPasskeyResponse', 587204594, NO_RIGHT));
    }
  });
});

describe('JSON forms (base64)', () => {
  it('the documented wrapped form, and bare JSON with _-prefixed keys', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    const wrapped = await t.call('POST', path, acme.token, {
      App_SetPasskeyRequest: {
        currentPasskey: b64('RESTAPI!12'),
        newPasskey: '',
        confirmPasskey: '',
        passkeyOpType: '1',
      },
    });
    expect(wrapped.json()).toEqual({
      processinginstructioninfo: { attributes: { name: 'exitval', value: 0 } },
      error: { errorCode: 0 },
    });
    // The documented authorize body: bare, keys with underscores, toTime as text.
    const documented = {
      passkeySettings: {
        passkeyExpirationInterval: { _toTime: '1800' },
        _enableAuthorizeForRestore: '1',
      },
      _passkey: b64('RESTAPI!12'),
    };
    expect(await code(path, acme.token, documented)).toBe(0);
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(true);
    // Wrapped authorize, and a plain-text passkey in JSON is bad base64 or simply wrong.
    expect(await code(path, acme.token, { App_AuthorizeForRestoreRequest: { ...authorize('RESTAPI!12', 0) } })).toBe(0);
    expect(
      await code(path, acme.token, { passkey: 'RESTAPI!12', passkeySettings: { enableAuthorizeForRestore: 1 } }),
    ).toBe(1004);
  });

  it("cvpysdk's shapes: Organization.passkey enable, change passkey, authorise (AuthRestore), disable", async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const id = acme.companyId;
    // What cvpysdk sends, byte for byte (pinned from a run against a live server).
    expect(
      await code(`/Company/${id}/Passkey`, acme.token, {
        newPasskey: b64('First-Pk!1'),
        confirmPasskey: b64('First-Pk!1'),
        passkeyOpType: 'CREATE',
      }),
    ).toBe(0);
    expect(
      await code(`/Company/${id}/Passkey`, acme.token, {
        currentPasskey: b64('First-Pk!1'),
        newPasskey: b64('Second-Pk!2'),
        confirmPasskey: b64('Second-Pk!2'),
        passkeyOpType: 'EDIT',
      }),
    ).toBe(0);
    expect(
      await code(`/Company/${id}/AuthRestore`, acme.token, {
        passkey: b64('Second-Pk!2'),
        passkeySettings: { enableAuthorizeForRestore: true, passkeyExpirationInterval: { toTime: 1800 } },
      }),
    ).toBe(0);
    expect((await org(id)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(true);
    // Commcell.passkey('…', 'unauthorize') sends the passkey with false.
    expect(
      await code(`/Company/${id}/AuthRestore`, acme.token, {
        passkey: b64('Second-Pk!2'),
        passkeySettings: { enableAuthorizeForRestore: false, passkeyExpirationInterval: { toTime: 1800 } },
      }),
    ).toBe(0);
    expect((await org(id)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(false);
    expect(
      await code(`/Company/${id}/Passkey`, acme.token, {
        currentPasskey: b64('Second-Pk!2'),
        confirmPasskey: b64('Second-Pk!2'),
        passkeyOpType: 'DISABLE',
      }),
    ).toBe(0);
    expect((await org(id)).advancedPrivacySettings.authType).toBe(1);
  });

  it('the CommCell-wide passkey is company 0 (Commcell.passkey), read back by GET Organization/0', async () => {
    expect(await code('/Company/0/Passkey', admin, create('CommCell-Pk!1'))).toBe(0);
    expect((await org(0)).advancedPrivacySettings.authType).toBe(2);
    expect(await code('/Company/0/AuthRestore', admin, authorize('CommCell-Pk!1'))).toBe(0);
    expect((await org(0)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(true);
    // A tenant's administrator cannot see it, let alone change it.
    const acme = await makeTenant(t, admin, 'acme');
    expect(await code('/Company/0/Passkey', acme.token, create('Tenant-Pk!1'))).toBe(1200);
  });
});

describe('every documented error', () => {
  it('answers each with its catalogued code', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    const tok = acme.token;
    // Nothing set yet: edit, remove, authorize (and unauthorize) find none.
    expect(
      await code(path, tok, {
        currentPasskey: b64('a-passkey!'),
        newPasskey: b64('b-passkey!'),
        confirmPasskey: b64('b-passkey!'),
        passkeyOpType: 2,
      }),
    ).toBe(1403);
    expect(await code(path, tok, { currentPasskey: b64('a-passkey!'), passkeyOpType: 3 })).toBe(1403);
    expect(await code(path, tok, authorize('a-passkey!'))).toBe(1403);
    expect(await code(path, tok, authorize('', false))).toBe(1403);
    // New and confirm differ; the policy (8 to 256, not all blank).
    expect(
      await code(path, tok, { newPasskey: b64('Passkey-One'), confirmPasskey: b64('Passkey-Two'), passkeyOpType: 1 }),
    ).toBe(1401);
    expect(await code(path, tok, create('short'))).toBe(1404);
    expect(await code(path, tok, create('         '))).toBe(1404);
    expect(await code(path, tok, create('x'.repeat(257)))).toBe(1404);
    // Unknown op type, no message at all, bad base64.
    expect(await code(path, tok, { newPasskey: b64('Passkey-One'), passkeyOpType: 'RENAME' })).toBe(1000);
    expect(await code(path, tok, { something: 1 })).toBe(1000);
    expect(await code(path, tok, { newPasskey: 'not base64!', confirmPasskey: 'x', passkeyOpType: 1 })).toBe(1004);
    // Create when one exists.
    expect(await code(path, tok, create('Passkey-One'))).toBe(0);
    expect(await code(path, tok, create('Passkey-Two'))).toBe(1402);
    // Edit: new != confirm, below the policy, wrong current.
    expect(
      await code(path, tok, {
        currentPasskey: b64('Passkey-One'),
        newPasskey: b64('Passkey-Two'),
        confirmPasskey: b64('Passkey-2'),
        passkeyOpType: 'EDIT',
      }),
    ).toBe(1401);
    expect(
      await code(path, tok, {
        currentPasskey: b64('Passkey-One'),
        newPasskey: b64('tiny'),
        confirmPasskey: b64('tiny'),
        passkeyOpType: 'edit',
      }),
    ).toBe(1404);
    expect(
      await code(path, tok, {
        currentPasskey: b64('Passkey-Bad'),
        newPasskey: b64('Passkey-Two'),
        confirmPasskey: b64('Passkey-Two'),
        passkeyOpType: 'EDIT',
      }),
    ).toBe(587206528);
    // Authorize: a window beyond the maximum (7 days), or of nothing.
    expect(await code(path, tok, authorize('Passkey-One', true, 7 * 86_400 + 1))).toBe(1204);
    expect(await code(path, tok, authorize('Passkey-One', true, 0))).toBe(1204);
    expect(await code(path, tok, authorize('Passkey-One', true, 7 * 86_400))).toBe(0);
    // Disable with a wrong passkey given is refused (one given must be right); without one it closes.
    expect(await code(path, tok, authorize('Passkey-Bad', false))).toBe(587206528);
    expect(await code(path, tok, { passkeySettings: { enableAuthorizeForRestore: 'false' } })).toBe(0);
    // An enable flag that is neither.
    expect(
      await code(path, tok, { passkey: b64('Passkey-One'), passkeySettings: { enableAuthorizeForRestore: 'maybe' } }),
    ).toBe(1000);
    // An unknown company, and a route that takes only authorize.
    expect(await code('/Company/999999/Passkey', admin, create('Passkey-One'))).toBe(1200);
    const wrong = await xml(
      `/Company/${acme.companyId}/AuthRestore`,
      tok,
      '<App_SetPasskeyRequest currentPasskey="Passkey-One" passkeyOpType="3"/>',
    );
    expect(wrong.statusCode).toBe(400);
  });

  it('without a token: 401 with errorCode 1100, as every route', async () => {
    const res = await t.inject({ method: 'POST', url: `${BASE}/Company/1/Passkey`, payload: {} });
    expect(res.statusCode).toBe(401);
    expect(res.json().errorCode).toBe(1100);
  });
});

describe('who may', () => {
  it('Passkey Management on the company: a Tenant Operator or Restore Operator cannot set or authorize (587204594); the refusal is audited', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    expect(await code(path, acme.token, create('Passkey-One'))).toBe(0);
    for (const [name, role] of [
      ['op', 'Tenant Operator'],
      ['ro', 'Restore Operator'],
    ] as const) {
      const token = await userWithRole('acme', acme.companyId, name, role);
      expect(await code(path, token, create('Passkey-Two'))).toBe(587204594);
      expect(await code(path, token, authorize('Passkey-One'))).toBe(587204594);
      expect(await code(`/Company/${acme.companyId}/AuthRestore`, token, authorize('Passkey-One'))).toBe(587204594);
      expect(await code(path, token, { currentPasskey: b64('Passkey-One'), passkeyOpType: 3 })).toBe(587204594);
    }
    const denied = await t.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', '=', 'access.denied')
      .execute();
    expect(denied.length).toBeGreaterThan(0);
    expect(JSON.stringify(denied)).not.toContain('Passkey-One');
  });

  it("another tenant's company and clients are not found (1200)", async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const beta = await makeTenant(t, admin, 'beta');
    await addEntities(t.store, [{ id: 501, type: ENTITY_TYPES.client, companyId: beta.companyId, name: 'beta-c' }]);
    expect(await code(`/Company/${beta.companyId}/Passkey`, acme.token, create('Passkey-One'))).toBe(1200);
    expect(await code(`/Company/${beta.companyId}/AuthRestore`, acme.token, authorize('Passkey-One'))).toBe(1200);
    expect(await code('/Client/501/Passkey', acme.token, create('Passkey-One'))).toBe(1200);
    expect((await org(beta.companyId)).advancedPrivacySettings.authType).toBe(1);
  });
});

describe('secrets and abuse', () => {
  it('stores only an argon2id hash, never returns or audits the passkey, audits every operation', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    const replies: string[] = [];
    const send = async (body: unknown) => {
      const res = await t.call('POST', path, acme.token, body);
      replies.push(res.body);
      return res.json().error.errorCode;
    };
    expect(await send(create('Secret-Pk-One'))).toBe(0);
    expect(await send(authorize('Secret-Pk-Bad'))).toBe(587206528);
    expect(await send(authorize('Secret-Pk-One'))).toBe(0);
    expect(
      await send({
        currentPasskey: b64('Secret-Pk-One'),
        newPasskey: b64('Secret-Pk-Two'),
        confirmPasskey: b64('Secret-Pk-Two'),
        passkeyOpType: 2,
      }),
    ).toBe(0);
    expect(await send({ currentPasskey: b64('Secret-Pk-Two'), passkeyOpType: 3 })).toBe(0);
    expect(await send(create('Secret-Pk-Three'))).toBe(0);
    const row = await t.store.db
      .selectFrom('companies')
      .select('passkey_hash')
      .where('id', '=', acme.companyId)
      .executeTakeFirstOrThrow();
    expect(row.passkey_hash).toMatch(/^\$argon2id\$/);
    const audit = await t.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', 'like', 'passkey.%')
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => `${a.operation} ${a.outcome}`)).toEqual([
      'passkey.create success',
      'passkey.authorize failure',
      'passkey.authorize success',
      'passkey.edit success',
      'passkey.remove success',
      'passkey.create success',
    ]);
    expect(audit.every((a) => a.company_id === acme.companyId && a.target_type === 'company')).toBe(true);
    const everything = [JSON.stringify(audit), ...replies, ...t.logs].join('\n');
    for (const secret of ['Secret-Pk', b64('Secret-Pk-One'), b64('Secret-Pk-Two'), b64('Secret-Pk-Bad')]) {
      expect(everything).not.toContain(secret);
    }
    const read = JSON.stringify(await org(acme.companyId, acme.token));
    expect(read).not.toContain('argon2');
  });

  it('5 wrong passkeys lock passkey operations on that company for that user: 5 minutes, then 10; in the database', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    expect(await code(path, acme.token, create('Right-Pk!1'))).toBe(0);
    for (let i = 0; i < 4; i++) expect(await code(path, acme.token, authorize('Wrong-Pk!1'))).toBe(587206528);
    // A right passkey before the fifth forgets the count.
    expect(await code(path, acme.token, authorize('Right-Pk!1'))).toBe(0);
    for (let i = 0; i < 5; i++) expect(await code(path, acme.token, authorize('Wrong-Pk!1'))).toBe(587206528);
    const locked = await t.call('POST', path, acme.token, authorize('Right-Pk!1'));
    expect(locked.json().error.errorCode).toBe(1405);
    expect(locked.json().error.errorMessage).toMatch(/in 300 seconds/);
    // Every passkey operation there, by that user: edit and remove too.
    expect(await code(path, acme.token, { currentPasskey: b64('Right-Pk!1'), passkeyOpType: 3 })).toBe(1405);
    // The lock is in the database, shared by every node.
    const key = `passkey:company:${acme.companyId}:user:${acme.userId}`;
    const row = await t.store.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    expect(row.locked_until).toBe(new Date(t.clock.now().getTime() + 300_000).toISOString());
    // Another user with the right may still use it; the locked user elsewhere too.
    expect(await code(path, admin, authorize('Right-Pk!1'))).toBe(0);
    expect(await code('/Company/0/Passkey', admin, create('CommCell-Pk!1'))).toBe(0);
    // After 5 minutes it opens; 5 more wrong lock for 10.
    t.clock.advance(300_000);
    for (let i = 0; i < 5; i++) expect(await code(path, acme.token, authorize('Wrong-Pk!1'))).toBe(587206528);
    expect((await t.call('POST', path, acme.token, authorize('Right-Pk!1'))).json().error.errorMessage).toMatch(
      /in 600 seconds/,
    );
    t.clock.advance(600_000);
    expect(await code(path, acme.token, authorize('Right-Pk!1'))).toBe(0);
    const lockAudit = await t.store.db
      .selectFrom('audit_log')
      .select('reason')
      .where('operation', '=', 'passkey.authorize')
      .where('outcome', '=', 'failure')
      .execute();
    expect(lockAudit.some((a) => /locked for 300 seconds/.test(a.reason))).toBe(true);
    expect(lockAudit.some((a) => a.reason.includes(CS_LOCKED))).toBe(true);
  });
});
const CS_LOCKED = 'locked after repeated wrong passkeys';

describe('the window', () => {
  it('expires on the clock: open for toTime seconds (default 1800), closed after; GET Organization follows', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const path = `/Company/${acme.companyId}/Passkey`;
    expect(await code(path, acme.token, create('Right-Pk!1'))).toBe(0);
    expect(await code(path, acme.token, authorize('Right-Pk!1'))).toBe(0);
    t.clock.advance(1799_000);
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(true);
    t.clock.advance(1_000);
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(false);
    expect(await code(path, acme.token, authorize('Right-Pk!1', true, 60))).toBe(0);
    t.clock.advance(59_000);
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(true);
    t.clock.advance(1_000);
    expect((await org(acme.companyId)).advancedPrivacySettings.passkeySettings.enableAuthorizeForRestore).toBe(false);
  });
});

describe('client-level passkeys and restoreWindow (the gate)', () => {
  async function estate() {
    const acme = await makeTenant(t, admin, 'acme');
    const c = acme.companyId;
    await addEntities(t.store, [
      { id: 601, type: ENTITY_TYPES.client, companyId: c, name: 'db01' },
      { id: 602, type: ENTITY_TYPES.agent, companyId: c, parentId: 601, name: 'File System' },
      { id: 603, type: ENTITY_TYPES.instance, companyId: c, parentId: 602, name: 'DefaultInstanceName' },
      { id: 604, type: ENTITY_TYPES.backupSet, companyId: c, parentId: 603, name: 'defaultBackupSet' },
      { id: 605, type: ENTITY_TYPES.subclient, companyId: c, parentId: 604, name: 'default' },
      { id: 611, type: ENTITY_TYPES.client, companyId: c, name: 'db02' },
      { id: 615, type: ENTITY_TYPES.subclient, companyId: c, parentId: 611, name: 'loose' },
      { id: 701, type: ENTITY_TYPES.client, companyId: 0, name: 'cc01' },
      { id: 705, type: ENTITY_TYPES.subclient, companyId: 0, parentId: 701, name: 'ccsub' },
    ]);
    return acme;
  }
  const gate = async (id: number) =>
    restoreWindow(t.store.db, await t.ctx.authz.current(), { type: ENTITY_TYPES.subclient, id }, t.clock.now());

  it('the lowest level with a passkey guards: client, else company, else CommCell; its window decides', async () => {
    const acme = await estate();
    expect(await gate(605)).toEqual({ guardedBy: null, open: true });
    expect(await code('/Company/0/Passkey', admin, create('CommCell-Pk!1'))).toBe(0);
    expect(await gate(605)).toEqual({ guardedBy: { level: 'commcell', id: 0 }, open: false });
    expect(await gate(705)).toEqual({ guardedBy: { level: 'commcell', id: 0 }, open: false });
    expect(await code('/Company/0/AuthRestore', admin, authorize('CommCell-Pk!1'))).toBe(0);
    expect(await gate(605)).toEqual({ guardedBy: { level: 'commcell', id: 0 }, open: true });
    // The company's passkey now guards its subclients, with its own (closed) window.
    expect(await code(`/Company/${acme.companyId}/Passkey`, acme.token, create('Company-Pk!1'))).toBe(0);
    expect(await gate(605)).toEqual({ guardedBy: { level: 'company', id: acme.companyId }, open: false });
    expect(await gate(705)).toEqual({ guardedBy: { level: 'commcell', id: 0 }, open: true });
    // A client's passkey guards beneath it, over the company's open window.
    expect(await code(`/Company/${acme.companyId}/AuthRestore`, acme.token, authorize('Company-Pk!1'))).toBe(0);
    expect(await code('/Client/601/Passkey', acme.token, create('Client-Pk!1'))).toBe(0);
    expect(await gate(605)).toEqual({ guardedBy: { level: 'client', id: 601 }, open: false });
    expect(await gate(615)).toEqual({ guardedBy: { level: 'company', id: acme.companyId }, open: true });
    expect(await code('/Client/601/Passkey', acme.token, authorize('Client-Pk!1', 1, 120))).toBe(0);
    expect(await gate(605)).toEqual({ guardedBy: { level: 'client', id: 601 }, open: true });
    // Also asked about the client itself, or an agent.
    expect(
      await restoreWindow(
        t.store.db,
        await t.ctx.authz.current(),
        { type: ENTITY_TYPES.client, id: 601 },
        t.clock.now(),
      ),
    ).toEqual({ guardedBy: { level: 'client', id: 601 }, open: true });
    // Expiry, disabling, removal: on the next call.
    t.clock.advance(120_000);
    expect(await gate(605)).toEqual({ guardedBy: { level: 'client', id: 601 }, open: false });
    expect(await code('/Client/601/Passkey', acme.token, authorize('Client-Pk!1'))).toBe(0);
    expect((await gate(605)).open).toBe(true);
    expect(await code('/Client/601/Passkey', acme.token, { passkeySettings: { enableAuthorizeForRestore: 0 } })).toBe(
      0,
    );
    expect((await gate(605)).open).toBe(false);
    expect(
      await code('/Client/601/Passkey', acme.token, { currentPasskey: b64('Client-Pk!1'), passkeyOpType: 'DISABLE' }),
    ).toBe(0);
    // Back to the company's passkey, whose 1800 s window is still open.
    expect(await gate(605)).toEqual({ guardedBy: { level: 'company', id: acme.companyId }, open: true });
  });

  it('a window opened through one node is seen by another on its next request (no per-process cache)', async () => {
    const acme = await estate();
    expect(await code(`/Company/${acme.companyId}/Passkey`, acme.token, create('Company-Pk!1'))).toBe(0);
    const other = t.db.reopen();
    const view = await t.ctx.authz.current();
    const at = () => restoreWindow(other.db, view, { type: ENTITY_TYPES.subclient, id: 605 }, t.clock.now());
    expect((await at()).open).toBe(false);
    expect(await code(`/Company/${acme.companyId}/AuthRestore`, acme.token, authorize('Company-Pk!1'))).toBe(0);
    expect((await at()).open).toBe(true);
    expect(
      await code(`/Company/${acme.companyId}/Passkey`, acme.token, {
        currentPasskey: b64('Company-Pk!1'),
        passkeyOpType: 3,
      }),
    ).toBe(0);
    expect(await at()).toEqual({ guardedBy: null, open: true });
  });

  it('an unknown entity is not found', async () => {
    await expect(gate(999)).rejects.toMatchObject({ kind: 'NOT_FOUND' });
  });

  it('client passkeys: Passkey Management on the client; the lock is per client; deleting the client drops it', async () => {
    const acme = await estate();
    const op = await userWithRole('acme', acme.companyId, 'op', 'Tenant Operator');
    expect(await code('/Client/601/Passkey', op, create('Client-Pk!1'))).toBe(587204594);
    expect(await code('/Client/601/Passkey', acme.token, create('Client-Pk!1'))).toBe(0);
    expect(await code('/Client/601/Passkey', acme.token, create('Client-Pk!2'))).toBe(1402);
    expect(await code('/Client/999999/Passkey', acme.token, create('Client-Pk!1'))).toBe(1200);
    for (let i = 0; i < 5; i++)
      expect(await code('/Client/601/Passkey', acme.token, authorize('Wrong-Pk!1'))).toBe(587206528);
    expect(await code('/Client/601/Passkey', acme.token, authorize('Client-Pk!1'))).toBe(1405);
    // Not on the company.
    expect(await code(`/Company/${acme.companyId}/Passkey`, acme.token, create('Company-Pk!1'))).toBe(0);
    const del = await t.call('DELETE', '/Entities/client/601', admin);
    expect(del.json().errorCode, del.body).toBe(0);
    const left = await t.store.db.selectFrom('client_passkeys').selectAll().execute();
    expect(left).toEqual([]);
  });
});

describe('Commcell/properties allowUsersToEnablePasskey (cvpysdk Commcell.allow_users_to_enable_passkey)', () => {
  it('sets and reads it; GET Organization/0 reflects it; tenants may not', async () => {
    const put = (token: string, flag: unknown) =>
      t.call('PUT', '/Commcell/properties', token, {
        commCellInfo: { generalInfo: { allowUsersToEnablePasskey: flag } },
      });
    expect((await put(admin, true)).json()).toEqual({ response: [{ errorCode: 0 }] });
    expect(
      (await t.call('GET', '/Commcell/properties', admin)).json().commCellInfo.generalInfo.allowUsersToEnablePasskey,
    ).toBe(true);
    expect((await org(0)).allowUsersToEnablePasskey).toBe(true);
    expect((await put(admin, false)).json()).toEqual({ response: [{ errorCode: 0 }] });
    expect((await org(0)).allowUsersToEnablePasskey).toBe(false);
    const acme = await makeTenant(t, admin, 'acme');
    expect((await put(acme.token, true)).json().response[0].errorCode).toBe(587204594);
    const other = await t.call('PUT', '/Commcell/properties', admin, {
      commCellInfo: { generalInfo: { enablePrivacy: true } },
    });
    expect(other.json().response[0].errorCode).toBe(1204);
  });
});

describe('what cvpysdk sends, pinned (recorded from Organization.passkey, Commcell.passkey and allow_users_to_enable_passkey against a live server)', () => {
  // [method, path under the API, body as cvpysdk sent it, errorCode it got]; {c} is the company id.
  const SESSION: Array<[string, string, unknown, number]> = [
    [
      'POST',
      'Company/{c}/Passkey',
      { newPasskey: 'UGFzc2tleS1PbmUh', confirmPasskey: 'UGFzc2tleS1PbmUh', passkeyOpType: 'CREATE' },
      0,
    ],
    [
      'POST',
      'Company/{c}/Passkey',
      { newPasskey: 'UGFzc2tleS1PbmUh', confirmPasskey: 'UGFzc2tleS1PbmUh', passkeyOpType: 'CREATE' },
      1402,
    ],
    [
      'POST',
      'Company/{c}/AuthRestore',
      {
        passkey: 'V3JvbmctUGFzc2tleSE=',
        passkeySettings: { enableAuthorizeForRestore: true, passkeyExpirationInterval: { toTime: 1800 } },
      },
      587206528,
    ],
    [
      'POST',
      'Company/{c}/AuthRestore',
      {
        passkey: 'UGFzc2tleS1PbmUh',
        passkeySettings: { enableAuthorizeForRestore: true, passkeyExpirationInterval: { toTime: 1800 } },
      },
      0,
    ],
    [
      'POST',
      'Company/{c}/Passkey',
      {
        currentPasskey: 'UGFzc2tleS1PbmUh',
        newPasskey: 'UGFzc2tleS1Ud28h',
        confirmPasskey: 'UGFzc2tleS1Ud28h',
        passkeyOpType: 'EDIT',
      },
      0,
    ],
    [
      'POST',
      'Company/{c}/Passkey',
      { currentPasskey: 'UGFzc2tleS1Ud28h', newPasskey: 'c2hvcnQ=', confirmPasskey: 'c2hvcnQ=', passkeyOpType: 'EDIT' },
      1404,
    ],
    [
      'POST',
      'Company/{c}/Passkey',
      { currentPasskey: 'UGFzc2tleS1PbmUh', confirmPasskey: 'UGFzc2tleS1PbmUh', passkeyOpType: 'DISABLE' },
      587206528,
    ],
    [
      'POST',
      'Company/{c}/Passkey',
      { currentPasskey: 'UGFzc2tleS1Ud28h', confirmPasskey: 'UGFzc2tleS1Ud28h', passkeyOpType: 'DISABLE' },
      0,
    ],
    [
      'POST',
      'Company/{c}/AuthRestore',
      {
        passkey: 'UGFzc2tleS1Ud28h',
        passkeySettings: { enableAuthorizeForRestore: true, passkeyExpirationInterval: { toTime: 1800 } },
      },
      1403,
    ],
    [
      'POST',
      'Company/0/Passkey',
      { newPasskey: 'Q29tbUNlbGwtUGshMQ==', confirmPasskey: 'Q29tbUNlbGwtUGshMQ==', passkeyOpType: 'CREATE' },
      0,
    ],
    [
      'POST',
      'Company/0/AuthRestore',
      {
        passkey: 'Q29tbUNlbGwtUGshMQ==',
        passkeySettings: { enableAuthorizeForRestore: true, passkeyExpirationInterval: { toTime: 1800 } },
      },
      0,
    ],
    [
      'POST',
      'Company/0/AuthRestore',
      {
        passkey: 'Q29tbUNlbGwtUGshMQ==',
        passkeySettings: { enableAuthorizeForRestore: false, passkeyExpirationInterval: { toTime: 1800 } },
      },
      0,
    ],
    [
      'POST',
      'Company/0/Passkey',
      {
        currentPasskey: 'Q29tbUNlbGwtUGshMQ==',
        newPasskey: 'Q29tbUNlbGwtUGshMg==',
        confirmPasskey: 'Q29tbUNlbGwtUGshMg==',
        passkeyOpType: 'EDIT',
      },
      0,
    ],
    [
      'POST',
      'Company/0/Passkey',
      { currentPasskey: 'Q29tbUNlbGwtUGshMg==', confirmPasskey: 'Q29tbUNlbGwtUGshMg==', passkeyOpType: 'DISABLE' },
      0,
    ],
  ];

  it('answers each call as it did, in the shape cvpysdk reads (error.errorCode, then errorMessage)', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    for (const [method, path, body, expected] of SESSION) {
      const res = await t.call(method, `/${path.replace('{c}', String(acme.companyId))}`, admin, body);
      expect(res.statusCode).toBe(200);
      const j = res.json();
      expect(j.error.errorCode, `${path} ${JSON.stringify(body)}`).toBe(expected);
      if (expected !== 0) expect(j.error.errorMessage).toEqual(expect.any(String));
    }
    for (const flag of [true, false]) {
      const put = await t.call('PUT', '/Commcell/properties', admin, {
        commCellInfo: { generalInfo: { allowUsersToEnablePasskey: flag } },
      });
      expect(put.json()).toEqual({ response: [{ errorCode: 0 }] });
      const get = await t.call('GET', '/Commcell/properties', admin);
      expect(get.json().commCellInfo.generalInfo.allowUsersToEnablePasskey).toBe(flag);
    }
  });
});

describe('two nodes on one database', () => {
  it('wrong passkeys on either count toward one lock, which both enforce', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const second = await buildApp({
      config: { ...loadConfig({}), logLevel: 'silent' },
      store: t.db.reopen(),
      clock: t.clock.now,
    });
    try {
      await second.app.ready();
      const onSecond = async (body: unknown) =>
        (
          await second.app.inject({
            method: 'POST',
            url: `${BASE}/Company/${acme.companyId}/AuthRestore`,
            headers: { authtoken: acme.token, accept: 'application/json' },
            payload: body as object,
          })
        ).json().error.errorCode;
      const path = `/Company/${acme.companyId}/AuthRestore`;
      expect(await code(`/Company/${acme.companyId}/Passkey`, acme.token, create('Right-Pk!1'))).toBe(0);
      for (let i = 0; i < 3; i++) expect(await code(path, acme.token, authorize('Wrong-Pk!1'))).toBe(587206528);
      for (let i = 0; i < 2; i++) expect(await onSecond(authorize('Wrong-Pk!1'))).toBe(587206528);
      expect(await onSecond(authorize('Right-Pk!1'))).toBe(1405);
      expect(await code(path, acme.token, authorize('Right-Pk!1'))).toBe(1405);
      t.clock.advance(300_000);
      expect(await onSecond(authorize('Right-Pk!1'))).toBe(0);
    } finally {
      await second.app.close();
    }
  });
});
