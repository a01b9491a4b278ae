import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/errors.js';
import { keyId } from '../src/cli/status.js';
import { VARIABLES } from '../src/config.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { bootstrappedDb, cleanupAfterEach, externalDb, ROOT, runCli, startServer } from './cli.js';
import { ADMIN_PASSWORD, DIALECT } from './harness.js';

const cleanups = cleanupAfterEach();

describe('the bulwark command line', () => {
  it('--version, --help with every variable and exit code; a mistyped command or option is an error naming it', async () => {
    const [version, help, typo, option, bare] = await Promise.all([
      runCli(['--version'], {}),
      runCli(['--help'], {}),
      runCli(['sevre'], {}),
      runCli(['migrate', '--bogus'], {}),
      runCli(['admin'], {}),
    ]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.code).toBe(EXIT.OK);
    expect(version.stdout.trim()).toBe(pkg.version);

    expect(help.code).toBe(EXIT.OK);
    for (const v of VARIABLES) expect(help.stdout).toMatch(new RegExp(`^  ${v.name} `, 'm'));
    for (const code of Object.values(EXIT)) expect(help.stdout).toMatch(new RegExp(`^  ${code}  `, 'm'));
    for (const command of ['serve', 'migrate', 'status', 'admin', 'import', 'audit']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }

    expect(typo.code).toBe(EXIT.USAGE);
    expect(typo.stderr).toBe("bulwark: unknown command 'sevre' (Did you mean serve?); see bulwark --help\n");
    expect(option.code).toBe(EXIT.USAGE);
    expect(option.stderr).toBe("bulwark: unknown option '--bogus'; see bulwark --help\n");
    // A command group alone shows its own commands.
    expect(bare.code).toBe(EXIT.USAGE);
    expect(bare.stderr).toContain('reset-password');
  });

  it('status reads the store: 0 when up to date, 1 with migrations pending', async () => {
    const { store, env } = await bootstrappedDb(cleanups);
    const ok = await runCli(['status'], env);
    expect(ok.code, ok.stderr).toBe(EXIT.OK);
    expect(ok.stdout).toContain('administrator: created');
    expect(ok.stdout).toContain('audit records: 1');
    expect(ok.stdout).toContain('vault data keys: none yet');
    expect(ok.stdout).toMatch(/^bulwark: \d+\.\d+\.\d+/m);
    expect(ok.stdout).toMatch(/^migrations: \d+ applied, none pending \(schema \d{4}_\w+\)$/m);
    // No key file yet (status never makes one), then the id of the one in the environment.
    expect(ok.stdout).toMatch(/^master key: none at .*master\.key \(the first bulwark serve creates it\)$/m);
    expect(ok.stdout).toMatch(/^node: (nothing answers at|http:\/\/127\.0\.0\.1:\d+\/readyz answers)/m);
    const key = Buffer.alloc(32, 9).toString('base64');
    const keyed = await runCli(['status'], { ...env, BULWARK_MASTER_KEY: key });
    expect(keyed.stdout).toContain(`master key: ${keyId(Buffer.alloc(32, 9))} (BULWARK_MASTER_KEY)`);
    expect(keyed.stdout).not.toContain(key);

    await store.db
      .deleteFrom('bulwark_migrations' as never)
      .where('name' as never, '=', '0003_authz_parts' as never)
      .execute();
    const behind = await runCli(['status'], env);
    expect(behind.code).toBe(EXIT.CHECK_FAILED);
    expect(behind.stdout).toContain('pending: 0003_authz_parts (bulwark migrate applies them)');
  });

  it('the read-only commands never create a store: no file, no table', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    const env = { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir };
    const runs = await Promise.all([runCli(['status'], env), runCli(['audit', 'verify'], env)]);
    for (const r of runs) {
      expect(r.code).toBe(EXIT.STORE);
      expect(r.stderr).toMatch(
        DIALECT === 'sqlite'
          ? /^bulwark: no database at .*bulwark\.db \(BULWARK_DB\); `bulwark migrate` or `bulwark serve` creates one\n$/
          : /^bulwark: postgres:.* is not a Bulwark database \(it has no bulwark_migrations table\) \(BULWARK_DB\); `bulwark migrate` or `bulwark serve` creates one\n$/,
      );
    }
    expect(fs.readdirSync(ext.dir)).toEqual([]);
    if (DIALECT === 'postgres') {
      const store = openStore(ext.url);
      cleanups.push(() => store.close());
      expect(await store.db.introspection.getTables()).toEqual([]);
    }
  });

  it('serve warns, without the password, that BULWARK_ADMIN_PASSWORD is ignored on an existing database', async () => {
    const ext = await externalDb();
    cleanups.push(() => ext.drop());
    const store = openStore(ext.url);
    await migrate(store);
    await bootstrap(store, ADMIN_PASSWORD, new Date());
    await store.close();
    const server = await startServer({
      BULWARK_DB: ext.url,
      BULWARK_DATA_DIR: ext.dir,
      BULWARK_ADMIN_PASSWORD: 'Not-Used-Passw0rd',
    });
    cleanups.push(() => server.stop());
    expect(await server.stop()).toBe(EXIT.OK);
    const warning = server
      .stdout()
      .split('\n')
      .filter((l) => l.includes('BULWARK_ADMIN_PASSWORD'));
    expect(warning).toHaveLength(1);
    expect(JSON.parse(warning[0] ?? '{}')).toMatchObject({
      level: 40,
      msg: expect.stringContaining('BULWARK_ADMIN_PASSWORD is ignored: the database already has its administrator'),
    });
    expect(server.stdout() + server.stderr()).not.toContain('Not-Used-Passw0rd');
    expect(fs.existsSync(path.join(ext.dir, 'admin-password'))).toBe(false);
  });
});
