import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config.js';
import { NoStoreError, openStore } from './db.js';
import { migrate } from './migrate.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-db-'));
  dirs.push(d);
  return d;
}
const mode = (f: string) => fs.statSync(f).mode & 0o777;

describe('openStore on SQLite files', () => {
  it('creates the file 0600 (and its -wal and -shm), in a folder created 0700, whatever the umask', async () => {
    const dir = tmp();
    const file = path.join(dir, 'new/sub/bulwark.db');
    const before = process.umask(0);
    try {
      const store = openStore(file);
      await migrate(store);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
      expect(mode(path.dirname(file))).toBe(0o700);
      expect(mode(path.join(dir, 'new'))).toBe(0o700);
      await store.close();
    } finally {
      process.umask(before);
    }
  });

  it('refuses another URL scheme and creates nothing', () => {
    const dir = tmp();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      for (const target of ['mysql://x', 'sqlite:x.db', 'file:x.db']) {
        expect(() => openStore(target), target).toThrow(ConfigError);
      }
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('create: false needs a Bulwark database and creates nothing, not even a folder', async () => {
    const dir = tmp();
    expect(() => openStore(path.join(dir, 'nope/x.db'), { create: false })).toThrow(NoStoreError);
    expect(fs.readdirSync(dir)).toEqual([]);

    // Another program's SQLite file is left as it was (not switched to WAL).
    const other = path.join(dir, 'other.db');
    new SQLite(other).exec('create table t (x)').close();
    const bytes = fs.readFileSync(other);
    expect(() => openStore(other, { create: false })).toThrow(/not a Bulwark database/);
    expect(fs.readFileSync(other).equals(bytes)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['other.db']);

    const ours = path.join(dir, 'ours.db');
    const s = openStore(ours);
    await migrate(s);
    await s.close();
    const again = openStore(ours, { create: false });
    await again.close();
  });
});
