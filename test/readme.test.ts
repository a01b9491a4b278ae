import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CS_ERRORS } from '../src/commserve/errors.js';
import { ROOT } from './cli.js';

describe('the README', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('lists every error code of the catalogue with its HTTP status and name', () => {
    for (const [name, e] of Object.entries(CS_ERRORS)) {
      expect(readme, name).toMatch(new RegExp(`\\| ${e.code} \\| ${e.http} \\| ${name} \\|`));
    }
    const listed = [...readme.matchAll(/^\| (\d+) \| \d{3} \| ([A-Z0-9_]+) \|/gm)].map((m) => m[2]);
    expect(listed.sort()).toEqual(Object.keys(CS_ERRORS).sort());
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
