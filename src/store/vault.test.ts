import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshStore, type TestStore } from '../../test/harness.js';
import { describeFailure, EXIT } from '../cli/errors.js';
import { loadMasterKey, MasterKeyError } from '../crypto/master-key.js';
import { credentialIdentity, entityAccountIdentity, userKey } from '../domain/credentials.js';
import { insertCredential, openCredential } from './credentials.js';
import { migrate } from './migrate.js';
import { addKey, Vault, WrongMasterKeyError } from './vault.js';

const KEY = Buffer.alloc(32, 1);
const OTHER = Buffer.alloc(32, 2);
const at = new Date('2026-12-01T00:00:00Z');

let s: TestStore;
beforeEach(async () => {
  s = await freshStore();
  await migrate(s.store);
});
afterEach(() => s.drop());

const add = (vault: Vault, name: string, password: string, companyId = 0) =>
  s.store.db.transaction().execute(async (tx) =>
    insertCredential(tx, vault, {
      companyId,
      name,
      recordType: 'WINDOWSACCOUNT',
      databaseType: null,
      description: '',
      ownerUserId: null,
      userName: 'prodcert\\svc',
      password,
      at,
    }),
  );

describe('the vault', () => {
  it('seals each password to its row: it opens there, and a ciphertext swapped between rows does not', async () => {
    const vault = new Vault(s.store, KEY);
    const a = (await add(vault, 'a', 'Password-A1')) as number;
    const b = (await add(vault, 'b', 'Password-B2')) as number;
    const rows = await s.store.db.selectFrom('credentials').select(['id', 'key_id', 'secret']).orderBy('id').execute();
    const [ra, rb] = rows.map((r) => ({ id: Number(r.id), key_id: Number(r.key_id), secret: r.secret })) as [
      { id: number; key_id: number; secret: string },
      { id: number; key_id: number; secret: string },
    ];
    expect(await openCredential(s.store.db, vault, ra)).toBe('Password-A1');
    expect(await openCredential(s.store.db, vault, rb)).toBe('Password-B2');
    // b's ciphertext under a's identity, and a flipped bit: refused, never garbage.
    await expect(openCredential(s.store.db, vault, { ...rb, id: a })).rejects.toThrow(/does not decrypt/);
    const flipped = Buffer.from(ra.secret, 'base64');
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    await expect(openCredential(s.store.db, vault, { ...ra, secret: flipped.toString('base64') })).rejects.toThrow(
      /does not decrypt/,
    );
    expect(b).toBe(a + 1);
    expect(credentialIdentity(a)).not.toBe(entityAccountIdentity(a, 'subclientUnc'));
  });

  it('refuses a wrong master key at start, as a configuration error (exit 2) in one line', async () => {
    await new Vault(s.store, KEY).ready();
    const wrong = new Vault(s.store, OTHER);
    const e = await wrong.ready().catch((x) => x);
    expect(e).toBeInstanceOf(WrongMasterKeyError);
    const f = describeFailure(e, null);
    expect(f.code).toBe(EXIT.USAGE);
    expect(f.message).toMatch(/master key .* is not the one this store was set up with/);
    expect(f.message).not.toContain('\n');
    // The right key still opens it afterwards.
    await new Vault(s.store, KEY).ready();
  });

  it('a key added on another node is picked up for new writes and for reading', async () => {
    const node1 = new Vault(s.store, KEY);
    const node2 = new Vault(s.store, KEY);
    await node1.ready();
    await node2.ready();
    const k2 = await s.store.db.transaction().execute((tx) => addKey(tx, KEY, at));
    expect(k2).toBe(2);
    await add(node1, 'after', 'Password-C3');
    const row = await s.store.db.selectFrom('credentials').select(['id', 'key_id', 'secret']).executeTakeFirstOrThrow();
    expect(Number(row.key_id)).toBe(2);
    expect(await openCredential(s.store.db, node2, { id: Number(row.id), key_id: 2, secret: row.secret })).toBe(
      'Password-C3',
    );
  });

  it('the canonical user name: case, spaces and Unicode forms of one domain\\user are one key', () => {
    expect(userKey('PRODCERT\\Admin')).toBe('prodcert\\admin');
    expect(userKey(' prodcert \\ admin ')).toBe('prodcert\\admin');
    expect(userKey('prodcert\\Ade\u0301le')).toBe(userKey('PRODCERT\\ad\u00e9le'));
    expect(userKey('admin')).not.toBe(userKey('prodcert\\admin'));
  });
});

describe('the master key', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-key-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('comes from BULWARK_MASTER_KEY_COMMAND: its output, trimmed, base64 of 32 bytes', () => {
    const b64 = KEY.toString('base64');
    expect(loadMasterKey(null, dir, `printf '%s\\n' ${b64}`).key.equals(KEY)).toBe(true);
    expect(() => loadMasterKey(null, dir, 'echo short')).toThrow(/must print base64 of exactly 32 bytes/);
    expect(() => loadMasterKey(null, dir, 'exit 3')).toThrow(/exited with status 3/);
    const e = (() => {
      try {
        loadMasterKey(null, dir, 'echo c2VjcmV0; exit 1');
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(MasterKeyError);
    expect(e?.message).not.toContain('c2VjcmV0');
    // No key file is created when a command supplies the key.
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
  });

  it('a key file readable by others is refused', () => {
    const file = path.join(dir, 'master.key');
    fs.writeFileSync(file, `${KEY.toString('base64')}\n`, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => loadMasterKey(null, dir)).toThrow(/chmod 600/);
    fs.chmodSync(file, 0o600);
    expect(loadMasterKey(null, dir).key.equals(KEY)).toBe(true);
  });
});
