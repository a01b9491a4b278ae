import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalDb, ROOT } from './cli.js';
import { ADMIN_PASSWORD, b64 } from './harness.js';

// One real server process over HTTPS: what `npm start` runs, end to end.
let server: ChildProcess;
let output = '';
let port = 0;
let drop: () => Promise<void>;

function request(method: string, url: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: url, method, headers, rejectUnauthorized: false },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const ext = await externalDb();
  drop = ext.drop;
  const key = path.join(ext.dir, 'key.pem');
  const cert = path.join(ext.dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    {
      stdio: 'ignore',
    },
  );
  port = 20000 + Math.floor(Math.random() * 20000);
  server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      BULWARK_DB: ext.url,
      BULWARK_DATA_DIR: ext.dir,
      BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BULWARK_TLS_CERT: cert,
      BULWARK_TLS_KEY: key,
      LOG_LEVEL: 'info',
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
  while (!output.includes('Server listening')) {
    if (Date.now() - started > 20_000 || server.exitCode !== null) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (server.exitCode === null) server.kill('SIGKILL');
  await drop();
});

describe('a real server over HTTPS', () => {
  it('serves health, login and an authenticated call in JSON and XML, then shuts down gracefully on SIGTERM', async () => {
    expect((await request('GET', '/healthz')).status).toBe(200);
    expect(JSON.parse((await request('GET', '/readyz')).body).status).toBe('ready');

    const login = await request(
      'POST',
      '/commandcenter/api/Login',
      JSON.stringify({ mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) }),
      { 'content-type': 'application/json', accept: 'application/json' },
    );
    const token = JSON.parse(login.body).token as string;
    expect(token).toMatch(/^QSDK /);
    const orgs = await request('GET', '/webconsole/api/Organization', undefined, { authtoken: token });
    expect(JSON.parse(orgs.body)).toEqual({ providers: [] });

    const xml = await request(
      'POST',
      '/webconsole/api/Login',
      `<DM2ContentIndexing_CheckCredentialReq username="admin" password="${ADMIN_PASSWORD}"/>`,
      { 'content-type': 'application/xml', accept: 'application/xml' },
    );
    const xmlToken = /token="([^"]+)"/.exec(xml.body)?.[1] as string;
    const who = await request('POST', '/commandcenter/api/WhoAmI', '', {
      authtoken: xmlToken,
      accept: 'application/xml',
      'content-type': 'application/xml',
    });
    expect(who.body).toMatch(/<CvEntities_ProcessingInstructionInfo><user [^>]*userName="admin"/);

    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
    expect(output).not.toContain(ADMIN_PASSWORD);
    expect(output).not.toContain(token.slice(5));
  });
});
