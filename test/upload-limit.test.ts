import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalDb, ROOT } from './cli.js';
import { ADMIN_PASSWORD, b64 } from './harness.js';

// A real server process over plain HTTP, so that Node's own fetch (undici) is
// the client: what a program uploading to Bulwark sees, socket and all.
let server: ChildProcess;
let output = '';
let base = '';
let drop: () => Promise<void>;

beforeAll(async () => {
  const ext = await externalDb();
  drop = ext.drop;
  const port = 20000 + Math.floor(Math.random() * 20000);
  base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      BULWARK_DB: ext.url,
      BULWARK_DATA_DIR: ext.dir,
      BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (d) => {
    output += d;
  });
  server.stderr?.on('data', (d) => {
    output += d;
  });
  const started = Date.now();
  for (;;) {
    if (Date.now() - started > 30_000 || server.exitCode !== null) throw new Error(`server did not start:\n${output}`);
    const up = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await drop?.();
});

describe('a real server, uploads it refuses', () => {
  it('a 10 MB body gets its 413 every time, never a connection reset (10 uploads, JSON and XML, both mount points)', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const url = `${base}/${i % 2 ? 'webconsole' : 'commandcenter'}/api/Login`;
      const type = i % 3 === 2 ? 'application/xml' : 'application/json';
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': type, accept: 'application/json' },
          body,
        });
        outcomes.push(`${res.status} ${JSON.stringify(await res.json())}`);
      } catch (e) {
        outcomes.push(`${(e as Error).message}: ${String((e as { cause?: unknown }).cause)}`);
      }
    }
    const expected = `413 ${JSON.stringify({ errList: [{ errorCode: 1005, errLogMessage: 'The request body is too large' }], isAccountLocked: false })}`;
    expect(outcomes).toEqual(Array(10).fill(expected));
  }, 120_000);

  it('an authenticated route too, and a body of a type nobody reads (415)', async () => {
    const login = await fetch(`${base}/commandcenter/api/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const body = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const type = i % 2 ? 'text/plain' : 'application/json';
      const res = await fetch(`${base}/commandcenter/api/User`, {
        method: 'POST',
        headers: { authtoken: token, 'content-type': type, accept: 'application/json' },
        body,
      });
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([413, 415, 413, 415]);
  }, 120_000);

  it("POST Login with '[' × 5000 is a 400, not a stack overflow, on a real server's stack", async () => {
    const res = await fetch(`${base}/commandcenter/api/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '['.repeat(5000),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errList: Array<{ errorCode: number }> }).errList[0]?.errorCode).toBe(1002);
    expect(output).not.toContain('Maximum call stack');
  });
});
