import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/errors.js';
import { CS_ERRORS } from '../src/commserve/errors.js';
import { VARIABLES } from '../src/config.js';
import { PASSWORD_RULE } from '../src/domain/password-policy.js';
import { FD_ERRORS } from '../src/filedevices/errors.js';
import { externalDb, ROOT, startServer } from './cli.js';
import { DIALECT } from './harness.js';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The text of a `## ` section (up to the next heading of that level or above). */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, title).toBeGreaterThan(-1);
  const rest = readme.slice(start + 1);
  const end = rest.slice(3).search(/\n## /);
  return end === -1 ? rest : rest.slice(0, end + 3);
}

/** The rows of the first table in `text`, as cells. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l.startsWith('|'));
  return lines.slice(2).map((l) =>
    l
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim()),
  );
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('the README', () => {
  it('lists every error code of the catalogue with its HTTP status and name', () => {
    for (const [name, e] of Object.entries(CS_ERRORS)) {
      expect(readme, name).toMatch(new RegExp(`\\| ${e.code} \\| ${e.http} \\| ${name} \\|`));
    }
    const listed = [...readme.matchAll(/^\| (\d+) \| \d{3} \| ([A-Z0-9_]+) \|/gm)].map((m) => m[2]);
    expect(listed.sort()).toEqual(Object.keys(CS_ERRORS).sort());
  });

  it('lists every file-devices error with its HTTP status and message', () => {
    const listed = [...readme.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (.+) \|$/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3],
    ]);
    expect(listed).toEqual(Object.entries(FD_ERRORS).map(([k, v]) => [k, v.http, v.message]));
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });

  it('lists every configuration variable the schema reads, in its order, with its default', () => {
    const rows = tableRows(section('Configuration'));
    const names = rows.flatMap((r) => [...(r[0] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]));
    expect(names).toEqual(VARIABLES.map((v) => v.name));
    for (const v of VARIABLES) {
      const row = rows.find((r) => r[0]?.includes(`\`${v.name}\``));
      if (v.fallback !== null) expect(row?.[1], v.name).toContain(`\`${v.fallback}\``);
    }
    const admin = rows.find((r) => r[0] === '`BULWARK_ADMIN_PASSWORD`');
    expect(admin?.[2]).toContain(PASSWORD_RULE);
  });

  it('has one table of exit codes, the ones every command uses', () => {
    const text = section('Command line');
    const table = text.slice(text.indexOf('| exit code |'));
    const codes = tableRows(table).map((r) => Number(r[0]));
    expect(codes).toEqual(Object.values(EXIT));
  });

  it("runs its API examples as written against a new server, whose generated password is longer than base64's 57-byte line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-readme-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    // SQLite: the quick start's own default, ./data/bulwark.db beside the examples.
    const env: Record<string, string> = { BULWARK_DB: '', BULWARK_DATA_DIR: '', BULWARK_ADMIN_PASSWORD: '' };
    if (DIALECT === 'postgres') {
      const ext = await externalDb();
      cleanups.push(() => ext.drop());
      Object.assign(env, { BULWARK_DB: ext.url, BULWARK_DATA_DIR: path.join(dir, 'data') });
    }
    const server = await startServer(env, { cwd: dir });
    cleanups.push(() => server.stop());

    const passwordFile = path.join(dir, 'data/admin-password');
    const password = fs.readFileSync(passwordFile, 'utf8').trim();
    expect(Buffer.byteLength(password)).toBeGreaterThan(57);
    expect(fs.statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(passwordFile)).mode & 0o777).toBe(0o700);
    if (DIALECT === 'sqlite') {
      for (const f of ['bulwark.db', 'bulwark.db-wal', 'bulwark.db-shm']) {
        expect(fs.statSync(path.join(dir, 'data', f)).mode & 0o777, f).toBe(0o600);
      }
    }

    const blocks = [...section('Using the API').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(0);
    const expected: string[] = [];
    // An output comment (`# {…`, `# <…`) is what the command above it prints; `…` stands for anything.
    const script = blocks
      .join('\n')
      .replaceAll('http://127.0.0.1:8080', server.url)
      .split('\n')
      .map((line) => {
        const m = /^# ([{[<].*)$/.exec(line);
        if (!m) return line;
        expected.push(m[1] ?? '');
        return 'echo';
      })
      .join('\n');
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const printed = run.stdout.split('\n').slice(0, -1);
    expect(printed).toHaveLength(expected.length);
    expected.forEach((want, i) => {
      const pattern = want
        .split('…')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      expect(printed[i]).toMatch(new RegExp(`^${pattern}$`));
    });

    expect(await server.stop()).toBe(0);
    const log = server.stdout() + server.stderr();
    expect(log).toContain(passwordFile);
    expect(log).not.toContain(password);
  });
});
