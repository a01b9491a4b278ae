import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BASE, BASES, b64, startApp, type TestApp } from '../../../test/harness.js';

let t: TestApp;
beforeEach(async () => {
  t = await startApp();
});
afterEach(async () => {
  await t.close();
});

const jsonLogin = (username: string, password: string) =>
  t.inject({
    method: 'POST',
    url: `${BASE}/Login`,
    payload: { mode: 4, username, password: b64(password), deviceId: 'dev', clientType: 30 },
  });

const xmlLogin = (username: string, password: string, accept = 'application/xml') =>
  t.inject({
    method: 'POST',
    url: `${BASE}/Login`,
    headers: { 'content-type': 'application/xml', accept },
    payload: `<DM2ContentIndexing_CheckCredentialReq username="${username}" password="${password}" timeOut="30"/>`,
  });

describe('POST Login', () => {
  it('logs in with JSON (base64 password) and returns the fields cvpysdk reads', async () => {
    const res = await jsonLogin('admin', ADMIN_PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.token).toMatch(/^QSDK [0-9a-f]{64}$/);
    expect(body.userName).toBe('admin');
    expect(body.userGUID).toMatch(/^[0-9A-F-]{36}$/);
    expect(body.isAccountLocked).toBe(false);
    expect(body.forcePasswordChange).toBe(false);
    expect(body.ownerOrganization).toMatchObject({ providerId: 0, providerDomainName: 'Commcell' });
    expect(body).not.toHaveProperty('errList');
  });

  it('logs in with XML (plain password) and answers XML', async () => {
    const res = await xmlLogin('admin', ADMIN_PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/xml/);
    expect(res.body).toMatch(/<DM2ContentIndexing_CheckCredentialResp [^>]*token="QSDK [0-9a-f]{64}"/);
    expect(res.body).toContain('userName="admin"');
  });

  it('XML login can answer JSON when Accept asks for it', async () => {
    const res = await xmlLogin('admin', ADMIN_PASSWORD, 'application/json');
    expect(res.json().token).toMatch(/^QSDK /);
  });

  it('the same password sent base64 in XML is taken literally and fails', async () => {
    const res = await xmlLogin('admin', b64(ADMIN_PASSWORD), 'application/json');
    expect(res.json().errList[0].errorCode).toBe(1101);
  });

  it('a wrong password and an unknown user get the same message', async () => {
    const wrong = (await jsonLogin('admin', 'not-the-password')).json();
    const unknown = (await jsonLogin('nobody-here', 'not-the-password')).json();
    expect(wrong.errList[0]).toEqual({ errorCode: 1101, errLogMessage: 'Invalid username or password' });
    expect(unknown.errList[0]).toEqual(wrong.errList[0]);
    expect(wrong.token).toBeUndefined();
  });

  it('locks the account after 5 failures in a row, reports the remaining time, and unlocks after it', async () => {
    for (let i = 1; i <= 4; i++) {
      const r = (await jsonLogin('admin', 'wrong')).json();
      expect(r.isAccountLocked).toBe(false);
      expect(r.loginAttempts).toBe(i);
    }
    const fifth = (await jsonLogin('admin', 'wrong')).json();
    expect(fifth.isAccountLocked).toBe(true);
    expect(fifth.remainingLockTime).toBe(300);
    expect(fifth.errList[0].errorCode).toBe(1102);
    // Even the right password is refused while locked.
    t.clock.advance(60_000);
    const locked = (await jsonLogin('admin', ADMIN_PASSWORD)).json();
    expect(locked.token).toBeUndefined();
    expect(locked.isAccountLocked).toBe(true);
    expect(locked.remainingLockTime).toBe(240);
    t.clock.advance(241_000);
    expect((await jsonLogin('admin', ADMIN_PASSWORD)).json().token).toMatch(/^QSDK /);
  });

  it('doubles the lock each time it locks again, and a success resets the count', async () => {
    for (let i = 0; i < 5; i++) await jsonLogin('admin', 'wrong');
    t.clock.advance(301_000);
    for (let i = 0; i < 4; i++) await jsonLogin('admin', 'wrong');
    const second = (await jsonLogin('admin', 'wrong')).json();
    expect(second.remainingLockTime).toBe(600);
    t.clock.advance(601_000);
    await t.login();
    for (let i = 0; i < 4; i++) await jsonLogin('admin', 'wrong');
    expect((await jsonLogin('admin', 'wrong')).json().remainingLockTime).toBe(300);
  });

  it('locks unknown names the same way, so a lock tells nothing about which names exist', async () => {
    let last: Record<string, unknown> = {};
    for (let i = 0; i < 5; i++) last = (await jsonLogin('ghost', 'wrong')).json();
    expect(last.isAccountLocked).toBe(true);
    expect(last.remainingLockTime).toBe(300);
  });

  it('blocks a source address after 30 failures across names, with 429 and Retry-After', async () => {
    for (let i = 0; i < 30; i++) await jsonLogin(`name${i}`, 'wrong');
    const res = await jsonLogin('admin', ADMIN_PASSWORD);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('900');
    expect(res.json().errList[0].errorCode).toBe(1103);
    t.clock.advance(901_000);
    expect((await jsonLogin('admin', ADMIN_PASSWORD)).json().token).toMatch(/^QSDK /);
  });

  it('refuses a login body without a username (400, in the login reply shape)', async () => {
    const res = await t.inject({ method: 'POST', url: `${BASE}/Login`, payload: { password: b64('x') } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errList[0].errorCode).toBe(1000);
  });

  it('refuses a password that is not base64 in JSON', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      payload: { username: 'admin', password: '***' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errList[0].errorCode).toBe(1004);
  });

  it('is served under both mount points, case-insensitively and with doubled slashes', async () => {
    for (const base of BASES) {
      for (const path of ['/Login', '/login', '//LOGIN']) {
        const res = await t.inject({
          method: 'POST',
          url: `${base}${path}`,
          payload: { username: 'admin', password: b64(ADMIN_PASSWORD) },
        });
        expect(res.json().token, `${base}${path}`).toMatch(/^QSDK /);
      }
    }
  });
});

describe('tokens', () => {
  it('an Authtoken works with and without the QSDK prefix; none or a bad one is 401', async () => {
    const token = await t.login();
    expect((await t.call('GET', '/WhoAmI', token)).json().user.userName).toBe('admin');
    expect((await t.call('GET', '/WhoAmI', token.slice(5))).statusCode).toBe(200);
    const none = await t.inject({ method: 'GET', url: `${BASE}/WhoAmI` });
    expect(none.statusCode).toBe(401);
    expect(none.json().errorCode).toBe(1100);
    expect((await t.call('GET', '/WhoAmI', `QSDK ${'0'.repeat(64)}`)).statusCode).toBe(401);
  });

  it('expires after 30 idle minutes, and use keeps it alive', async () => {
    const token = await t.login();
    t.clock.advance(29 * 60_000);
    expect((await t.call('GET', '/WhoAmI', token)).statusCode).toBe(200);
    t.clock.advance(29 * 60_000);
    expect((await t.call('GET', '/WhoAmI', token)).statusCode).toBe(200);
    t.clock.advance(31 * 60_000);
    expect((await t.call('GET', '/WhoAmI', token)).statusCode).toBe(401);
  });

  it('idle expiry holds on a second node that never cached the token', async () => {
    const token = await t.login();
    t.clock.advance(31 * 60_000);
    t.ctx.sessions.forgetToken(''); // no-op: the second look is from the database
    const other = await startSecondNode(t);
    expect(
      (await other.inject({ method: 'GET', url: `${BASE}/WhoAmI`, headers: { authtoken: token } })).statusCode,
    ).toBe(401);
    await other.close();
  });

  it('Logout revokes the token', async () => {
    const token = await t.login();
    expect((await t.call('POST', '/Logout', token, '', { 'content-type': 'application/xml' })).json().errorCode).toBe(
      0,
    );
    expect((await t.call('GET', '/WhoAmI', token)).statusCode).toBe(401);
  });

  it('RenewLoginToken swaps the token for a new one and revokes the old', async () => {
    const token = await t.login();
    const res = await t.call('POST', '/RenewLoginToken', token, { sessionId: token, deviceId: 'dev' });
    const fresh = res.json().token;
    expect(fresh).toMatch(/^QSDK /);
    expect(fresh).not.toBe(token);
    expect((await t.call('GET', '/WhoAmI', token)).statusCode).toBe(401);
    expect((await t.call('GET', '/WhoAmI', fresh)).statusCode).toBe(200);
    const again = await t.call('POST', '/RenewLoginToken', token, { sessionId: token });
    expect(again.statusCode).toBe(401);
    expect(again.json().error.errorCode).toBe(1100);
  });

  it('stores only hashes of tokens', async () => {
    const token = await t.login();
    const rows = await t.store.db.selectFrom('sessions').select('token_hash').execute();
    expect(rows.length).toBe(1);
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(token.slice(5));
  });
});

async function startSecondNode(t: TestApp) {
  const { buildApp } = await import('../../app.js');
  const { loadConfig } = await import('../../config.js');
  const { app } = await buildApp({
    config: { ...loadConfig({}), logLevel: 'silent' },
    store: t.store,
    clock: t.clock.now,
  });
  return app;
}
