#!/usr/bin/env node
// Compiles src/ into dist/ (tsc -p tsconfig.build.json).
//   node scripts/build.mjs             build
//   node scripts/build.mjs --if-stale  build only when dist is missing or older than its sources (npm start)
//   node scripts/build.mjs --check     exit 0 when dist is up to date, 1 when not; builds nothing
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const OUTPUT = path.join(root, 'dist/src/main.js');

/** Newest modification time of what the build reads: src/ (tests aside) and the tsconfig files. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        newest = Math.max(newest, fs.statSync(p).mtimeMs);
      }
    }
  };
  walk(path.join(root, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) {
    newest = Math.max(newest, fs.statSync(path.join(root, f)).mtimeMs);
  }
  return newest;
}

/** tsc rewrites every output on each build, so the entry point's time is the build's. */
function isStale() {
  const built = fs.statSync(OUTPUT, { throwIfNoEntry: false });
  return !built || built.mtimeMs < newestSource();
}

const mode = process.argv[2];
if (mode === '--check') process.exit(isStale() ? 1 : 0);
if (mode === '--if-stale' && !isStale()) process.exit(0);
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
