import { describe, expect, it } from 'vitest';
import { LEASE_MS } from '../src/store/change-listener.js';
import { type RunningServer, severalNodes } from './cli.js';
import { ADMIN_PASSWORD, b64, DIALECT } from './harness.js';

// Three Bulwark processes on one PostgreSQL database, sharing no memory, as the
// README's "Running several nodes" runs them: what one node changes, the others
// enforce within the bound the README gives for it. A change told by NOTIFY
// must arrive within the listener's lease (LEASE_MS), well before the 5 s
// cache TTL that bounds it when the listener is down, so these deadlines tell
// the notification from the TTL. SQLite serves one process (its two-process
// cases are test/two-nodes.test.ts and test/filedevices-two-nodes.test.ts).

/** A notification may be late by scheduling on a loaded machine; the TTL it must beat is 5 s. */
const DEADLINE_MS = LEASE_MS + 1000;
const API = '/commandcenter/api';
const PASSKEY = 'Shared-Passkey-1!';

describe.skipIf(DIALECT !== 'postgres')('three processes on one PostgreSQL (SQLite: one process only)', () => {
  const nodes = severalNodes(3);

  async function call(
    node: RunningServer,
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    type?: string,
  ) {
    const res = await fetch(`${node.url}${API}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authtoken: token } : {}),
        ...(body === undefined ? {} : { 'content-type': type ?? 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).toBeLessThan(500);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  const login = async (node: RunningServer, username: string, password: string) =>
    (await call(node, 'POST', '/Login', undefined, { mode: 4, username, password: b64(password) })).body;

  async function token(node: RunningServer, username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
    const body = await login(node, username, password);
    expect(body.token, JSON.stringify(body)).toMatch(/^QSDK /);
    return body.token;
  }

  async function addUser(admin: string, name: string, password: string): Promise<number> {
    const res = await call(nodes.started()[0] as RunningServer, 'POST', '/User', admin, {
      users: [{ userEntity: { userName: name }, password: b64(password) }],
    });
    expect(res.body.response[0].errorCode, JSON.stringify(res.body)).toBe(0);
    return res.body.response[0].entity.userId;
  }

  /** Milliseconds until `refused()` holds, polling; fails once past `bound`. */
  async function within(bound: number, what: string, refused: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await refused()) return Date.now() - started;
      if (Date.now() - started > bound) throw new Error(`${what}: still allowed after ${bound} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const ndjson = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join('\n');

  it('a token made on one node works on the others; a logout through one ends it on all', async () => {
    const [a, b, c] = nodes.started() as [RunningServer, RunningServer, RunningServer];
    const t = await token(a);
    for (const node of [a, b, c]) expect((await call(node, 'GET', '/WhoAmI', t)).body.user.userName).toBe('admin');
    // Each node now holds the token in its cache; the logout goes through B.
    expect((await call(b, 'POST', '/Logout', t)).body.errorCode).toBe(0);
    expect((await call(b, 'GET', '/WhoAmI', t)).status).toBe(401);
    for (const node of [a, c]) {
      const ms = await within(DEADLINE_MS, 'a logged-out token', async () => {
        return (await call(node, 'GET', '/WhoAmI', t)).status === 401;
      });
      expect(ms).toBeLessThanOrEqual(DEADLINE_MS);
    }
  }, 30_000);

  it('failures spread over the nodes lock the account on every node, also when they come at once', async () => {
    const [a, b, c] = nodes.started() as [RunningServer, RunningServer, RunningServer];
    const admin = await token(a);
    await addUser(admin, 'spread', 'Spread-Passw0rd!');
    for (const node of [a, b, c, a]) expect((await login(node, 'spread', 'wrong')).isAccountLocked).toBe(false);
    expect((await login(b, 'spread', 'wrong')).isAccountLocked).toBe(true);
    for (const node of [a, b, c]) {
      const locked = await login(node, 'spread', 'Spread-Passw0rd!');
      expect(locked.token).toBeUndefined();
      expect(locked.isAccountLocked).toBe(true);
    }
    // Five wrong passwords sent together, to three nodes: each failure counts, none is lost to another's write.
    await addUser(admin, 'burst', 'Burst-Passw0rd!');
    await Promise.all([a, b, c, a, b].map((node) => login(node, 'burst', 'wrong')));
    for (const node of [c, b, a]) expect((await login(node, 'burst', 'Burst-Passw0rd!')).isAccountLocked).toBe(true);
  }, 30_000);

  it('a right removed through one node is refused by the others within the lease', async () => {
    const [a, b, c] = nodes.started() as [RunningServer, RunningServer, RunningServer];
    const admin = await token(a);
    await addUser(admin, 'viewer', 'Viewer-Passw0rd!');
    const imported = await call(
      a,
      'POST',
      '/Entities/Import',
      admin,
      ndjson([{ type: 'client', name: 'nodes01', os: 'Linux' }]),
      'application/x-ndjson',
    );
    const client = imported.body.results[0].entityId as number;
    const security = (op: string) =>
      call(a, 'POST', '/Security', admin, {
        entityAssociated: { entity: [{ clientId: client }] },
        securityAssociations: {
          associationsOperationType: op,
          associations: [{ userOrGroup: [{ userName: 'viewer' }], properties: { role: { roleName: 'View' } } }],
        },
      });
    expect((await security('ADD')).body.response[0].errorCode).toBe(0);
    const viewer = await token(b, 'viewer', 'Viewer-Passw0rd!');
    const sees = async (node: RunningServer) => {
      const res = await call(node, 'GET', `/Client/${client}`, viewer);
      return res.status === 200 && res.body.errorCode === undefined;
    };
    // Granted through A: B and C see it at once, as A does.
    for (const node of [a, b, c]) expect(await sees(node)).toBe(true);
    expect((await security('DELETE')).body.response[0].errorCode).toBe(0);
    expect(await sees(a)).toBe(false);
    for (const node of [b, c]) {
      expect(await within(DEADLINE_MS, 'a removed right', async () => !(await sees(node)))).toBeLessThanOrEqual(
        DEADLINE_MS,
      );
    }
  }, 30_000);

  it('an authorize-for-restore window opened through one node opens on the others, and closes on all', async () => {
    const [a, b, c] = nodes.started() as [RunningServer, RunningServer, RunningServer];
    const admin = await token(a);
    const agent = { type: 'agent', name: 'File System', parent: { type: 'client', name: 'pk01' } };
    const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
    const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
    const imported = await call(
      a,
      'POST',
      '/Entities/Import',
      admin,
      ndjson([
        { type: 'client', name: 'pk01', os: 'Linux' },
        agent,
        instance,
        backupSet,
        { type: 'subclient', name: 'default', parent: backupSet },
      ]),
      'application/x-ndjson',
    );
    expect(imported.body.errors).toEqual([]);
    const [client, , , set, subclient] = imported.body.results.map((r: { entityId: number }) => r.entityId);
    const jobs = await call(
      a,
      'POST',
      '/Catalogue/Import',
      admin,
      ndjson([
        {
          subclientId: subclient,
          backupLevel: 'Full',
          startTime: 1_700_000_000,
          endTime: 1_700_000_600,
          files: [{ path: '/data/a.txt', size: 10, modificationTime: 1_699_999_000 }],
        },
      ]),
      'application/x-ndjson',
    );
    expect(jobs.body.errors).toEqual([]);
    const browses = async (node: RunningServer) => {
      const res = await call(node, 'POST', '/DoBrowse', admin, {
        opType: 0,
        mode: { mode: 2 },
        paths: [{ path: '/data' }],
        entity: { clientName: 'pk01', clientId: client, applicationId: 29, backupsetId: set, subclientId: subclient },
        timeRange: { fromTime: 0, toTime: 0 },
      });
      if (res.body.errorCode === 1410) return false;
      expect(res.body.browseResponses[0].browseResult.dataResultSet).toHaveLength(1);
      return true;
    };
    const passkey = await call(a, 'POST', '/Company/0/Passkey', admin, {
      App_SetPasskeyRequest: { passkeyOpType: 'CREATE', newPasskey: b64(PASSKEY), confirmPasskey: b64(PASSKEY) },
    });
    expect(passkey.body.error.errorCode, JSON.stringify(passkey.body)).toBe(0);
    // The window state is read from the database by every browse: no node may differ, not even briefly.
    for (const node of [a, b, c]) expect(await browses(node)).toBe(false);
    const authorize = (node: RunningServer, enable: boolean) =>
      call(node, 'POST', '/Company/0/AuthRestore', admin, {
        passkey: b64(PASSKEY),
        passkeySettings: { enableAuthorizeForRestore: enable, passkeyExpirationInterval: { toTime: 600 } },
      });
    expect((await authorize(b, true)).body.error.errorCode).toBe(0);
    for (const node of [a, b, c]) expect(await browses(node)).toBe(true);
    expect((await authorize(c, false)).body.error.errorCode).toBe(0);
    for (const node of [a, b, c]) expect(await browses(node)).toBe(false);
    const removed = await call(b, 'POST', '/Company/0/Passkey', admin, {
      App_SetPasskeyRequest: { passkeyOpType: 'DISABLE', currentPasskey: b64(PASSKEY) },
    });
    expect(removed.body.error.errorCode).toBe(0);
  }, 30_000);

  it('an API key disabled or deleted through one node is refused by the others within the lease', async () => {
    const [a, b, c] = nodes.started() as [RunningServer, RunningServer, RunningServer];
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
    const fd = (node: RunningServer, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
      fetch(`${node.url}/v9/storage/${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    for (const change of ['disable', 'delete'] as const) {
      const made = await fd(
        a,
        'POST',
        'file-devices/management/api-keys',
        { authorization: basic },
        {
          restApiAccess: 'READ_ONLY',
        },
      );
      expect(made.status).toBe(201);
      const { key, apiKey } = (await made.json()) as { key: string; apiKey: { objectId: string } };
      const status = async (node: RunningServer) =>
        (await fd(node, 'GET', 'virtual-servers', { 'x-api-key': key })).status;
      for (const node of [a, b, c]) expect(await status(node)).toBe(200);
      const path = `file-devices/management/api-keys/${apiKey.objectId}`;
      const res =
        change === 'disable'
          ? await fd(c, 'PATCH', path, { authorization: basic }, { isEnabled: false })
          : await fd(c, 'DELETE', path, { authorization: basic });
      expect(res.status).toBe(204);
      expect(await status(c)).toBe(401);
      for (const node of [a, b]) {
        const ms = await within(DEADLINE_MS, `a key ${change}d`, async () => (await status(node)) === 401);
        expect(ms).toBeLessThanOrEqual(DEADLINE_MS);
      }
    }
  }, 30_000);
});
