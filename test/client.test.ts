import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generatedFiles } from '../client/generate.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const reference = (() => {
  const start = readme.indexOf('\n## API reference\n');
  const rest = readme.slice(start + 1);
  const end = rest.slice(3).search(/\n## /);
  return start < 0 ? '' : end < 0 ? rest : rest.slice(0, end + 3);
})();
const README_URL = 'http://127.0.0.1:8080';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.app.close());

describe('the typed client', () => {
  it('is what `npm run client` makes from the served reference (run it when this fails)', async () => {
    for (const [name, text] of Object.entries(await generatedFiles())) {
      const committed = fs.readFileSync(path.join(ROOT, 'client', name), 'utf8');
      // toBe would print both whole files; say which one is stale instead.
      expect(committed === text, `client/${name} is stale: run npm run client and commit it`).toBe(true);
    }
  });
});

describe("README's API reference", () => {
  it('has a curl example and a client example per dialect', () => {
    expect(reference).toContain('/openapi.json');
    expect(reference).toContain('/docs');
    expect(reference).toContain('npm run client');
    expect(reference).toMatch(/```ts\n[\s\S]*\/commandcenter\/api\/[\s\S]*```/);
    expect(reference).toMatch(/```ts\n[\s\S]*\/v9\/storage\/[\s\S]*```/);
  });

  it('runs its curl example as written', async () => {
    const blocks = [...reference.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      // Asynchronously: the server answering curl runs in this process.
      const { stdout: out } = await promisify(execFile)('sh', ['-ec', block.replaceAll(README_URL, url)]);
      for (const expected of [...block.matchAll(/^# (.+)$/gm)].map((m) => m[1] as string)) {
        expect(out).toContain(expected);
      }
    }
  });

  it('shows the client examples of client/examples/ (type-checked there), and each prints what its comments say', async () => {
    const blocks = [...reference.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const files = ['commserve.ts', 'file-devices.ts'];
    expect(blocks.length).toBe(files.length);
    const printed: unknown[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.length === 1 ? args[0] : args);
    });
    process.env.ADMIN_PASSWORD = ADMIN_PASSWORD;
    process.env.BULWARK_URL = url;
    try {
      for (const [i, name] of files.entries()) {
        const file = path.join(ROOT, 'client/examples', name);
        const code = fs.readFileSync(file, 'utf8');
        expect(blocks[i], `README's example ${i + 1} is client/examples/${name}`).toBe(
          code.replace("'../index.js'", "'./client/index.js'"),
        );
        printed.length = 0;
        await import(file);
        const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) => m[1] as string);
        expect(expected.length, `${name} says what it prints`).toBeGreaterThan(0);
        expect(
          printed.map((p) => String(p)),
          name,
        ).toEqual(expected);
      }
    } finally {
      spy.mockRestore();
      delete process.env.ADMIN_PASSWORD;
      delete process.env.BULWARK_URL;
    }
  });
});
