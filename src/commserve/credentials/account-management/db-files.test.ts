import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BASE, b64, DIALECT, TEST_MASTER_KEY, type TestApp } from '../../../../test/harness.js';
import { buildApp } from '../../../app.js';
import { loadConfig } from '../../../config.js';
import { bootstrap } from '../../../store/bootstrap.js';
import { openStore } from '../../../store/db.js';
import { migrate } from '../../../store/migrate.js';
import { addChain, addRecord, chainAt, setAccount } from './fixtures.js';

// After an applied change, the SQLite database and its -wal and -shm files
// hold neither the old nor the new password, in clear or in base64 (the
// PostgreSQL side of this is in account-management.test.ts: no table holds it).

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
});

describe.skipIf(DIALECT !== 'sqlite')('the SQLite files after AccountManagement', () => {
  it('hold no stored password in clear or base64', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-acctmgmt-'));
    dirs.push(dir);
    const file = path.join(dir, 'bulwark.db');
    const store = openStore(file);
    await migrate(store);
    await bootstrap(store, ADMIN_PASSWORD, new Date());
    const { app, ctx } = await buildApp({
      config: { ...loadConfig({}), db: file, logLevel: 'silent' },
      store,
      clock: () => new Date(),
      masterKey: TEST_MASTER_KEY,
      processMetrics: false,
    });
    await app.ready();
    const t = { store, ctx } as unknown as TestApp;
    const OLD = 'Old-Cleartext-Passw0rd';
    const NEW = 'New-Cleartext-S3cret!';
    const c = await addChain(t, 0, chainAt(100), { client: 'fs01' });
    await setAccount(t, c.subclient, 'subclientUnc', 0, 'corp\\svc', OLD);
    await setAccount(t, c.client, 'clientImpersonation', 0, 'svc@corp', OLD);
    await addRecord(t, 0, 'svc', 'CORP\\svc', OLD);
    const login = await app.inject({
      method: 'POST',
      url: `${BASE}/Login`,
      payload: { mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) },
    });
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/User/AccountManagement`,
      headers: { authtoken: login.json().token, 'content-type': 'application/xml' },
      payload: `<GuiServer_ModifyCredsReq preview="0" reason="rotation" skipPasswordCheck="0"><credsInfo><oldCredentials password="${OLD}" userName="corp\\svc"/><newCredentials password="${NEW}" userName="corp\\svc"/></credsInfo></GuiServer_ModifyCredsReq>`,
    });
    expect(res.json()).toMatchObject({ errorCode: 0 });
    const files = () => ['', '-wal', '-shm'].map((s) => `${file}${s}`).filter((f) => fs.existsSync(f));
    const scan = () => {
      const found: string[] = [];
      for (const f of files()) {
        const bytes = fs.readFileSync(f);
        for (const pw of [OLD, NEW]) {
          for (const form of [pw, b64(pw), b64(pw).slice(0, 16), Buffer.from(pw, 'utf16le').toString('latin1')]) {
            if (bytes.includes(Buffer.from(form, form.includes('\u0000') ? 'latin1' : 'utf8'))) {
              found.push(`${path.basename(f)}: ${form === pw ? 'clear' : 'encoded'}`);
            }
          }
        }
      }
      return found;
    };
    expect(files().map((f) => path.basename(f))).toContain('bulwark.db-wal');
    // The scan sees what the files hold: the record's user name is there, in clear.
    expect(files().some((f) => fs.readFileSync(f).includes(Buffer.from('CORP\\svc')))).toBe(true);
    expect(scan()).toEqual([]);
    await app.close();
    await store.close();
    // After the WAL is checkpointed into the database file, too.
    expect(scan()).toEqual([]);
  });
});
