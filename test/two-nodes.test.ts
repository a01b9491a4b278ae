import { describe, expect, it } from 'vitest';
import { type RunningServer, twoNodes } from './cli.js';
import { ADMIN_PASSWORD, b64 } from './harness.js';

// Two Bulwark processes on one database, sharing no memory (issue 11: the
// window is opened through one and used through the other). On PostgreSQL as
// scale-out runs it; on SQLite as two processes on one file.

const PASSKEY = 'Shared-Passkey-1!';
const nodes = twoNodes();

async function call(node: RunningServer, method: string, path: string, token: string, body?: unknown, type = 'json') {
  const res = await fetch(`${node.url}/commandcenter/api${path}`, {
    method,
    headers: {
      authtoken: token,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': type === 'json' ? 'application/json' : type }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(500);
  return (await res.json()) as Record<string, any>;
}

async function login(node: RunningServer): Promise<string> {
  const res = await fetch(`${node.url}/commandcenter/api/Login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) }),
  });
  const body = (await res.json()) as { token?: string };
  expect(body.token).toMatch(/^QSDK /);
  return body.token as string;
}

const ndjson = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join('\n');

describe('two processes on one database', () => {
  it('a window opened through one node lets a browse through the other, and closing it there shuts it here', async () => {
    const { a, b } = nodes.started();
    const token = await login(a);
    // A token made on one node is good on the other.
    expect((await call(b, 'GET', '/WhoAmI', token)).user.userName).toBe('admin');
    const agent = { type: 'agent', name: 'File System', parent: { type: 'client', name: 'lin01' } };
    const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
    const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
    const imported = await call(
      a,
      'POST',
      '/Entities/Import',
      token,
      ndjson([
        { type: 'client', name: 'lin01', os: 'Linux' },
        agent,
        instance,
        backupSet,
        { type: 'subclient', name: 'default', parent: backupSet },
      ]),
      'application/x-ndjson',
    );
    expect(imported.errors).toEqual([]);
    const [client, , , set, subclient] = imported.results.map((r: { entityId: number }) => r.entityId);
    const jobs = await call(
      a,
      'POST',
      '/Catalogue/Import',
      token,
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
    expect(jobs.errors).toEqual([]);
    const browseBody = {
      opType: 0,
      mode: { mode: 2 },
      paths: [{ path: '/data' }],
      entity: { clientName: 'lin01', clientId: client, applicationId: 29, backupsetId: set, subclientId: subclient },
      timeRange: { fromTime: 0, toTime: 0 },
    };
    const browseB = async () => call(b, 'POST', '/DoBrowse', token, browseBody);
    expect((await browseB()).browseResponses[0].browseResult.dataResultSet).toHaveLength(1);

    // A CommCell passkey set through A guards the subclient on B at once.
    const passkey = (node: RunningServer, body: Record<string, unknown>) =>
      call(node, 'POST', '/Company/0/Passkey', token, { App_SetPasskeyRequest: body });
    const set1 = await passkey(a, { passkeyOpType: 'CREATE', newPasskey: b64(PASSKEY), confirmPasskey: b64(PASSKEY) });
    expect(set1.error.errorCode, JSON.stringify(set1)).toBe(0);
    expect((await browseB()).errorCode).toBe(1410);

    // Authorized through A: B lets the browse through.
    const authorize = (node: RunningServer, enable: boolean) =>
      call(node, 'POST', '/Company/0/AuthRestore', token, {
        passkey: b64(PASSKEY),
        passkeySettings: { enableAuthorizeForRestore: enable, passkeyExpirationInterval: { toTime: 600 } },
      });
    expect((await authorize(a, true)).error.errorCode).toBe(0);
    expect((await browseB()).browseResponses[0].browseResult.dataResultSet).toHaveLength(1);

    // Closed through B: A refuses next.
    expect((await authorize(b, false)).error.errorCode).toBe(0);
    expect((await call(a, 'POST', '/DoBrowse', token, browseBody)).errorCode).toBe(1410);

    // Removing the passkey through B frees A.
    const removed = await passkey(b, { passkeyOpType: 'DISABLE', currentPasskey: b64(PASSKEY) });
    expect(removed.error.errorCode, JSON.stringify(removed)).toBe(0);
    expect(
      (await call(a, 'POST', '/DoBrowse', token, browseBody)).browseResponses[0].browseResult.dataResultSet,
    ).toHaveLength(1);
  }, 120_000);
});
