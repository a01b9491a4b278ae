import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { externalDb, runCli, startServer } from '../../test/cli.js';
import { openStore } from '../store/db.js';
import { DEMO_PASSWORDS_FILE } from './demo.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const browseBody = (subclientId: number, folder: string) => ({
  opType: 0,
  entity: { subclientId },
  paths: [{ path: folder }],
  timeRange: { fromTime: 0, toTime: 0 },
  options: { showDeletedFiles: false },
  queries: [{ type: 0, queryId: 'dataQuery', dataParam: { paging: { pageSize: 100, skipNode: 0 } } }],
});

describe('bulwark demo', () => {
  it('loads the estate into a new store, hands the passwords out in a 0600 file, refuses a second run; its users log in and browse', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    const env = { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir };

    const first = await runCli(['demo'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('loaded 2 companies, 22 entities, 12 jobs with 22 files');
    for (const login of ['acme\\alice', 'acme\\oscar', 'globex\\grace', 'globex\\gus']) {
      expect(first.stdout).toContain(`  ${login} (`);
    }
    const file = path.join(ext.dir, DEMO_PASSWORDS_FILE);
    expect(first.stdout).toContain(`${file} (mode 0600)`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secrets = new Map(
      fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)] as const),
    );
    // No password on stdout or stderr: only in the file.
    for (const secret of secrets.values()) expect(first.stdout + first.stderr).not.toContain(secret);
    expect(secrets.get('acme passkey')).toMatch(/^[\w-]{24}$/);

    const second = await runCli(['demo'], env);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/^bulwark: the store already holds .* bulwark demo loads only into a new store.*\n$/);
    expect(second.stdout).toBe('');
    const store = openStore(ext.url);
    try {
      const audit = await store.db.selectFrom('audit_log').select(['actor_name', 'operation']).execute();
      const byDemo = audit.filter((a) => a.actor_name === 'bulwark demo').map((a) => a.operation);
      expect(new Set(byDemo)).toEqual(
        new Set(['company.create', 'user.create', 'passkey.create', 'entity.import', 'catalogue.import']),
      );
    } finally {
      await store.close();
    }

    const server = await startServer(env);
    cleanups.push(() => server.stop());
    const api = `${server.url}/commandcenter/api`;
    const login = async (user: string) => {
      const password = Buffer.from(secrets.get(user) as string).toString('base64');
      const r = await fetch(`${api}/Login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 4, username: user, password }),
      });
      const token = ((await r.json()) as { token?: string }).token;
      expect(token, user).toBeTruthy();
      return token as string;
    };
    const call = async (token: string, url: string, body?: unknown) => {
      const r = await fetch(`${api}/${url}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authtoken: token, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await r.json()) as any;
    };
    const subclientOf = async (token: string, clientName: string) => {
      const clients = (await call(token, 'Client')).clientProperties.map((c: any) => c.client.clientEntity);
      const client = clients.find((c: any) => c.clientName === clientName);
      const subs = await call(token, `Subclient?clientId=${client.clientId}`);
      return subs.subClientProperties[0].subClientEntity.subclientId as number;
    };

    // globex has no passkey: its operator browses straight away, and sees only globex.
    const gus = await login('globex\\gus');
    const names = (await call(gus, 'Client')).clientProperties.map((c: any) => c.client.clientEntity.clientName);
    expect(names.sort()).toEqual(['globex-db01', 'globex-dc01']);
    const listing = await call(gus, 'DoBrowse', browseBody(await subclientOf(gus, 'globex-db01'), '/var/www'));
    const result = listing.browseResponses[0].browseResult;
    expect(result.dataResultSet.map((d: any) => d.path)).toEqual(['/var/www/index.html', '/var/www/report.pdf']);
    // The Incremental's index.html is the latest version.
    expect(result.dataResultSet[0].advancedData.jobId).toBeGreaterThan(result.dataResultSet[1].advancedData.jobId);

    // acme has a passkey: browsing needs an authorize-for-restore window first.
    const oscar = await login('acme\\oscar');
    const acmeSub = await subclientOf(oscar, 'acme-web01');
    expect((await call(oscar, 'DoBrowse', browseBody(acmeSub, '/var/www'))).errorCode).toBe(1410);
    const alice = await login('acme\\alice');
    const org = (await call(alice, 'Organization')).providers[0].shortName.id;
    const auth = await call(alice, `Company/${org}/AuthRestore`, {
      passkey: Buffer.from(secrets.get('acme passkey') as string).toString('base64'),
      passkeySettings: { enableAuthorizeForRestore: true, passkeyExpirationInterval: { toTime: 600 } },
    });
    expect(auth.error.errorCode).toBe(0);
    const after = await call(oscar, 'DoBrowse', browseBody(acmeSub, '/var/www'));
    expect(after.browseResponses[0].browseResult.totalItemsFound).toBe(2);
  }, 30_000);
});
