import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/errors.js';
import { type CliResult, externalDb, runCli } from './cli.js';
import { DIALECT, TEST_DB } from './harness.js';

// Every command × every way its surroundings can be wrong → its documented
// exit code (README "Command line"), one line on stderr naming the setting or
// file, and no stack trace. The cells run a few processes at a time.

type Column = 'unreachable store' | 'missing database' | 'bad scheme' | 'bad file' | 'port in use' | 'bad setting';

interface Cell {
  env: Record<string, string>;
  args?: string[];
  code: number;
  message: RegExp;
  /** Runs in this folder, which must still be empty afterwards. */
  emptyCwd?: boolean;
}

const COMMANDS = ['serve', 'migrate', 'status', 'admin reset-password', 'audit verify', 'import'] as const;
type Name = (typeof COMMANDS)[number];

let dir: string;
let goodFile: string;
let notADatabase: string;
let holder: net.Server;
let heldPort: number;
let store: { url: string; dir: string; drop(): Promise<void> };
const missing = () => path.join(dir, 'nope/bulwark.db');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-cli-table-'));
  goodFile = path.join(dir, 'entities.jsonl');
  fs.writeFileSync(goodFile, '{"type":"client","name":"c1"}\n');
  notADatabase = path.join(dir, 'notes.db');
  fs.writeFileSync(notADatabase, 'not a database, only notes\n');
  holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  heldPort = (holder.address() as net.AddressInfo).port;
  store = await externalDb();
});

afterAll(async () => {
  await new Promise((resolve) => holder.close(resolve));
  await store.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function argsOf(name: Name): string[] {
  if (name === 'admin reset-password') return ['admin', 'reset-password', '--user', 'admin', '--password-stdin'];
  if (name === 'import') return ['import', goodFile];
  return name.split(' ');
}

const CREATES: readonly Name[] = ['serve', 'migrate'];
const UNREACHABLE = 'postgres://bulwark@127.0.0.1:1/bulwark';
/** A PostgreSQL database that does not exist, on the test server. */
const noSuchDatabase = () => `${TEST_DB.replace(/\/[^/?]*(\?.*)?$/, '')}/bulwark_no_such_database`;

function cell(name: Name, column: Column): Cell | null {
  const base = { BULWARK_DATA_DIR: path.join(dir, 'data') };
  switch (column) {
    case 'unreachable store':
      return {
        env: { ...base, BULWARK_DB: UNREACHABLE },
        code: EXIT.STORE,
        message:
          /^bulwark: cannot use the store BULWARK_DB=postgres:\/\/bulwark@127\.0\.0\.1:1\/bulwark: .*ECONNREFUSED/,
      };
    case 'missing database':
      if (DIALECT === 'postgres') {
        return {
          env: { ...base, BULWARK_DB: noSuchDatabase() },
          code: EXIT.STORE,
          message: /^bulwark: cannot use the store BULWARK_DB=.*: database "bulwark_no_such_database" does not exist/,
        };
      }
      // SQLite: serve and migrate create it; the others must not.
      if (CREATES.includes(name)) return null;
      return {
        env: { ...base, BULWARK_DB: missing() },
        code: EXIT.STORE,
        message: /^bulwark: no database at .*nope\/bulwark\.db \(BULWARK_DB\)/,
      };
    case 'bad scheme':
      return {
        env: { ...base, BULWARK_DB: 'mysql://x' },
        code: EXIT.USAGE,
        message: /^bulwark: BULWARK_DB must be a SQLite file path or a postgres:\/\/.* got "mysql:\/\/x"$/,
        emptyCwd: true,
      };
    case 'bad file':
      if (name === 'serve') {
        const nope = path.join(dir, 'nope/cert.pem');
        return {
          env: { ...base, BULWARK_DB: store.url, BULWARK_TLS_CERT: nope, BULWARK_TLS_KEY: nope },
          code: EXIT.USAGE,
          message: /^bulwark: BULWARK_TLS_CERT: cannot read .*nope\/cert\.pem \(ENOENT\)$/,
        };
      }
      if (name === 'import') {
        return {
          env: { ...base, BULWARK_DB: store.url },
          args: ['import', path.join(dir, 'nope.jsonl')],
          code: EXIT.USAGE,
          message: /^bulwark: cannot read .*nope\.jsonl: no such file \(ENOENT\)$/,
        };
      }
      return {
        env: { ...base, BULWARK_DB: notADatabase },
        code: EXIT.STORE,
        message: /^bulwark: cannot use the store BULWARK_DB=.*notes\.db: file is not a database/,
      };
    case 'port in use':
      if (name !== 'serve') return null;
      return {
        env: { ...base, BULWARK_DB: store.url, BULWARK_ADMIN_PASSWORD: 'Table-Passw0rd', PORT: String(heldPort) },
        code: EXIT.LISTEN,
        message: new RegExp(
          `^bulwark: cannot listen on 127\\.0\\.0\\.1:${heldPort} \\(HOST, PORT\\): the address is already in use \\(EADDRINUSE\\)$`,
        ),
      };
    case 'bad setting':
      return {
        env: { ...base, BULWARK_DB: store.url, BULWARK_HASH_CONCURRENCY: 'abc' },
        code: EXIT.USAGE,
        message: /^bulwark: BULWARK_HASH_CONCURRENCY must be a whole number from 1 to 64; got "abc"$/,
      };
  }
}

const COLUMNS: Column[] = [
  'unreachable store',
  'missing database',
  'bad scheme',
  'bad file',
  'port in use',
  'bad setting',
];

/** Runs `jobs` at most `n` at a time. */
async function pooled<T>(n: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

describe('every command, when its store, file or settings are wrong', () => {
  it(
    'exits with its documented code and one line naming the setting or file, no stack trace',
    { timeout: 120_000 },
    async () => {
      const cells = COMMANDS.flatMap((name) =>
        COLUMNS.map((column) => ({ name, column, cell: cell(name, column) })).filter((c) => c.cell !== null),
      );
      const results = await pooled(
        4,
        cells.map(({ name, cell: c }) => async (): Promise<CliResult & { cwd: string }> => {
          const cwd = fs.mkdtempSync(path.join(dir, 'cwd-'));
          const r = await runCli(c?.args ?? argsOf(name), c?.env ?? {}, 'Brand-New-Passw0rd\n', { cwd });
          return { ...r, cwd };
        }),
      );
      const failures: string[] = [];
      cells.forEach(({ name, column, cell: c }, i) => {
        const r = results[i] as CliResult & { cwd: string };
        const lines = r.stderr.trimEnd().split('\n');
        const problems = [
          r.code === c?.code ? null : `exit ${r.code}, not ${c?.code}`,
          lines.length === 1 ? null : `${lines.length} lines on stderr`,
          c?.message.test(lines[0] ?? '') ? null : `message ${JSON.stringify(lines[0])} does not match ${c?.message}`,
          /^\s+at /m.test(r.stderr + r.stdout) ? 'a stack trace' : null,
          c?.emptyCwd && fs.readdirSync(r.cwd).length > 0 ? `created ${fs.readdirSync(r.cwd).join(', ')}` : null,
        ].filter((p) => p !== null);
        if (problems.length) failures.push(`${name} × ${column}: ${problems.join('; ')}\n    ${r.stderr.trim()}`);
      });
      expect(failures).toEqual([]);
      // Nothing made the missing SQLite database or its folder, and the notes are still notes.
      expect(fs.existsSync(path.dirname(missing()))).toBe(false);
      expect(fs.readFileSync(notADatabase, 'utf8')).toBe('not a database, only notes\n');
    },
  );

  it('prints the stack trace too at LOG_LEVEL=debug', async () => {
    const r = await runCli(['status'], { BULWARK_DB: UNREACHABLE, LOG_LEVEL: 'debug' });
    expect(r.code).toBe(EXIT.STORE);
    expect(r.stderr).toMatch(/^bulwark: cannot use the store .*ECONNREFUSED.*\n.*Error.*\n\s+at /);
  });
});
