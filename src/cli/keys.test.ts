import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrappedDb, CLI, cleanupAfterEach, ROOT, runCli } from '../../test/cli.js';
import { keyCounts, openAll, passwordOf, seedSealed } from '../../test/sealed.js';
import { rotationState } from '../store/rotation.js';
import { Vault } from '../store/vault.js';

const KEY = Buffer.alloc(32, 3);
const NEXT = Buffer.alloc(32, 4);
const cleanups = cleanupAfterEach();

async function setup(n = { credentials: 300, accounts: 300 }) {
  const db = await bootstrappedDb(cleanups);
  const env = { ...db.env, BULWARK_MASTER_KEY: KEY.toString('base64') };
  const refs = await seedSealed(db.store, new Vault(db.store, KEY), n);
  return { ...db, env, refs };
}

/** Neither output holds a stored password or a master key. */
function noSecrets(out: string, refs: string[]) {
  for (const ref of refs.slice(0, 50)) expect(out).not.toContain(passwordOf(ref));
  for (const k of [KEY, NEXT]) {
    expect(out).not.toContain(k.toString('base64'));
    expect(out).not.toContain(k.toString('hex'));
  }
}

describe('bulwark keys', () => {
  it('rotate killed midway (SIGKILL) leaves every record readable; the next run resumes and moves only the rest', async () => {
    const { env, store, refs } = await setup();
    // Slow batches, so the kill lands midway.
    const child = spawn(process.execPath, [...CLI, 'keys', 'rotate', '--batch', '20', '--pause-ms', '40'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const done = [...err.matchAll(/re-encrypted ([\d,]+)\/600 records \(([\d,]+)\/s\)/g)].map((m) =>
          Number(m[1]?.replace(/,/g, '')),
        );
        if ((done.at(-1) ?? 0) >= 100) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      void closed.then(() => reject(new Error(`rotate finished before the kill:\n${out}\n${err}`)));
    });
    expect(await closed).toBe(null);
    expect(out).toContain('rotating to data key 2: 600 record(s) to re-encrypt');
    const mid = await keyCounts(store.db);
    expect(mid[2]).toBeGreaterThanOrEqual(100);
    expect(mid[1]).toBeGreaterThan(0);
    expect((mid[1] ?? 0) + (mid[2] ?? 0)).toBe(600);
    for (const [ref, o] of await openAll(store.db, new Vault(store, KEY))) expect(o.plain, ref).toBe(passwordOf(ref));
    const status = await runCli(['keys', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/data key 1\tcreated [^\t]+\t\d+ records/);
    expect(status.stdout).toMatch(/data key 2\tcreated [^\t]+\t\d+ records\tcurrent/);
    expect(status.stdout).toMatch(/rotation: to data key 2 since .*, not finished \(bulwark keys rotate resumes it\)/);

    const again = await runCli(['keys', 'rotate', '--batch', '100'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`resuming the rotation to data key 2: ${mid[1]} record(s) to re-encrypt`);
    expect(again.stdout).toContain('rotation to data key 2 finished: every record is under it');
    expect(again.stderr).toMatch(/re-encrypted [\d,]+\/[\d,]+ records \([\d,]+\/s\)/);
    expect(await keyCounts(store.db)).toEqual({ 2: 600 });
    for (const [ref, o] of await openAll(store.db, new Vault(store, KEY))) expect(o.plain, ref).toBe(passwordOf(ref));
    expect(await rotationState(store.db)).toBeNull();
    const ops = await store.db
      .selectFrom('audit_log')
      .select(['operation', 'actor_name'])
      .where('operation', 'like', 'vault.%')
      .orderBy('seq')
      .execute();
    // The killed run wrote its start only; the resumed one its resume and end.
    expect(ops.map((o) => o.operation)).toEqual(['vault.rotate.start', 'vault.rotate.resume', 'vault.rotate.end']);
    expect(ops[0]?.actor_name).toBe('bulwark keys rotate');
    noSecrets(out + err + status.stdout + again.stdout + again.stderr, refs);
  }, 240_000);

  it('lists records under an unknown key and exits 1 (status and rotate); --batch out of range is a usage error', async () => {
    const { env, store, refs } = await setup({ credentials: 5, accounts: 4 });
    const id = Number((refs[0] as string).split('/')[1]);
    await store.db.updateTable('credentials').set({ key_id: 7 }).where('id', '=', id).execute();
    const status = await runCli(['keys', 'status'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('key id 7\tNO DATA KEY\t1 record cannot be opened');
    const r = await runCli(['keys', 'rotate'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 record(s) could not be opened and stay under their key:');
    expect(r.stdout).toContain(`  credentials/${id} "cred-${id}": no data key 7`);
    expect(r.stdout).toContain('re-encrypted 8 record(s) under data key 2');
    noSecrets(status.stdout + r.stdout + r.stderr, refs);
    const u = await runCli(['keys', 'rotate', '--batch', '0'], env);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('--batch must be a whole number from 1 to 10000');
  }, 240_000);

  it('a new master key: --new-master-key-file re-wraps every data key; then only the new key opens the store', async () => {
    const { env, store, dir, refs } = await setup({ credentials: 4, accounts: 3 });
    const file = path.join(dir, 'new.key');
    fs.writeFileSync(file, `${NEXT.toString('base64')}\n`, { mode: 0o600 });
    const r = await runCli(['keys', 'rotate', '--new-master-key-file', file], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/re-wrapped 1 data key\(s\) \(1\) under the new master key [0-9a-f]{16}/);
    // The old key is refused now, by every command that opens the vault.
    const old = await runCli(['keys', 'rotate'], env);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/master key .* is not the one this store was set up with/);
    const oldStatus = await runCli(['keys', 'status'], env);
    expect(oldStatus.code).toBe(1);
    expect(oldStatus.stdout).toContain('is NOT the master key of this store');
    // With the new key: a data-key rotation, retiring the key the old master key wrapped.
    const newEnv = { ...env, BULWARK_MASTER_KEY: NEXT.toString('base64') };
    const rot = await runCli(['keys', 'rotate', '--retire'], newEnv);
    expect(rot.code, rot.stderr).toBe(0);
    expect(rot.stdout).toContain('retired data key(s) 1: they sealed nothing');
    const st = await runCli(['keys', 'status'], newEnv);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^data key 2\tcreated [^\t]+\t7 records\tcurrent$/m);
    expect(st.stdout).not.toMatch(/^data key 1/m);
    for (const [ref, o] of await openAll(store.db, new Vault(store, NEXT))) expect(o.plain, ref).toBe(passwordOf(ref));
    noSecrets(r.stdout + r.stderr + old.stderr + oldStatus.stdout + rot.stdout + st.stdout, refs);
  }, 240_000);
});
