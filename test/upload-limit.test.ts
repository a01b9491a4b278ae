import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalDb, type RunningServer, startServer } from './cli.js';
import { ADMIN_PASSWORD, b64 } from './harness.js';

// A real server process over plain HTTP, so that Node's own fetch (undici) is
// the client: what a program uploading to Bulwark sees, socket and all.
let server: RunningServer;
let base = '';
let drop: () => Promise<void>;

beforeAll(async () => {
  const ext = await externalDb();
  drop = ext.drop;
  server = await startServer({
    BULWARK_DB: ext.url,
    BULWARK_DATA_DIR: ext.dir,
    BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  base = server.url;
}, 60_000);

afterAll(async () => {
  await server?.stop();
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
    expect(server.stdout() + server.stderr()).not.toContain('Maximum call stack');
  });
});
