import { BASE, type TestApp } from '../../../test/harness.js';

// Test fixtures shared by the catalogue and browse suites (not a test file itself).

const chain = (client: string) => {
  const agent = { type: 'agent', name: 'File System', parent: { type: 'client', name: client } };
  const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
  const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
  return { agent, instance, backupSet };
};

/** A client with its File System chain down to subclient "default"; returns the subclient's id. */
export async function fileSystemEstate(
  t: TestApp,
  token: string,
  client: string,
  clientExtra: Record<string, unknown> = {},
): Promise<number> {
  const c = chain(client);
  const lines = [
    { type: 'client', name: client, ...clientExtra },
    { type: 'agent', name: 'File System', parent: { type: 'client', name: client } },
    { type: 'instance', name: 'DefaultInstanceName', parent: c.agent },
    { type: 'backupSet', name: 'defaultBackupSet', parent: c.instance },
    { type: 'subclient', name: 'default', parent: c.backupSet },
  ];
  const res = await t.inject({
    method: 'POST',
    url: `${BASE}/Entities/Import`,
    headers: { authtoken: token, 'content-type': 'application/x-ndjson', accept: 'application/json' },
    payload: lines.map((l) => JSON.stringify(l)).join('\n'),
  });
  const body = res.json();
  if (body.errors?.length || !body.results) throw new Error(`estate import failed: ${res.body}`);
  return body.results[4].entityId as number;
}
