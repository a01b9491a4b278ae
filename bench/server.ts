import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * The server's command line as `npm start` runs it: compiled by tsc first.
 * Running src/ through tsx would measure its transpiler's output instead,
 * which wraps every closure created at run time in a naming helper (about 2 %
 * of the CPU of GET Security/Explain).
 */
export function compiledServer(nodeArgs: readonly string[] = []): string[] {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return [...nodeArgs, path.join(ROOT, 'dist/src/main.js'), 'serve'];
}
