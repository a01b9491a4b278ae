#!/usr/bin/env node
import { Command } from 'commander';
import { buildApp } from './app.js';
import { verifyAudit } from './audit/verify.js';
import { CliError, resetPassword } from './cli/admin.js';
import { importFile } from './cli/import.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { loadMasterKey, MasterKeyError } from './crypto/master-key.js';
import { bootstrap } from './store/bootstrap.js';
import { openStore, type Store } from './store/db.js';
import { ImportConflictError } from './store/entities.js';
import { migrate } from './store/migrate.js';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withStore<T>(config: Config, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(config.db);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function serve(config: Config): Promise<void> {
  loadMasterKey(config.masterKey, config.dataDir);
  const store = openStore(config.db);
  const migrated = await migrate(store);
  const boot = await bootstrap(store, config.adminPassword, new Date());
  const { app } = await buildApp({ config, store });
  if (migrated.applied.length > 0) app.log.info({ applied: migrated.applied }, 'database migrated');
  if (boot.generatedPassword) {
    // Shown once, on the terminal only: never through the logger.
    say(
      `\nBulwark created the administrator "admin" with the password:\n\n    ${boot.generatedPassword}\n\nIt is not shown again. Change it after logging in, or set BULWARK_ADMIN_PASSWORD before the first start.\n`,
    );
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
}

const program = new Command()
  .name('bulwark')
  .description(
    'Bulwark: the security control plane of a backup and storage platform. Configured by environment variables (see the README).',
  );

program
  .command('serve', { isDefault: true })
  .description('migrate the database if needed, then serve HTTP(S) on HOST:PORT')
  .action(async () => serve(loadConfig()));

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = loadConfig();
    await withStore(config, async (store) => {
      const r = await migrate(store);
      say(
        r.applied.length
          ? `applied: ${r.applied.join(', ')}`
          : `up to date (${r.alreadyApplied} migrations applied before)`,
      );
    });
  });

const admin = program.command('admin').description('administrative tasks');
admin
  .command('reset-password')
  .description(
    "set a user's password, revoke its sessions and lift any lock; prints a generated password unless --password-stdin",
  )
  .requiredOption('-u, --user <name>', 'login name: admin, or domain\\user for a company user')
  .option('--password-stdin', 'read the new password from standard input instead of generating one')
  .action(async (opts: { user: string; passwordStdin?: boolean }) => {
    const config = loadConfig();
    const given = opts.passwordStdin ? await readStdin() : null;
    await withStore(config, async (store) => {
      await migrate(store);
      const generated = await resetPassword(store, opts.user, given);
      say(generated ? `new password for ${opts.user}: ${generated}` : `password for ${opts.user} changed`);
      say('all of its sessions were revoked.');
    });
  });

program
  .command('import')
  .description(
    'import entities from a JSON-lines file (one entity a line, parents before children); the whole file is one transaction unless --partial; exits 1 if any line is refused',
  )
  .argument('<file>', 'the JSON-lines file')
  .option('--partial', 'commit the good lines and list the bad ones')
  .action(async (file: string, opts: { partial?: boolean }) => {
    const config = loadConfig();
    await withStore(config, async (store) => {
      await migrate(store);
      const partial = opts.partial === true;
      let r: Awaited<ReturnType<typeof importFile>>;
      try {
        r = await importFile(store, file, {
          partial,
          onError: (e) => say(`line ${e.line}: ${e.message}`),
          onProgress: (p) =>
            process.stderr.write(`\rread ${p.lines} lines: ${p.imported} entities, ${p.errors} refused`),
        });
      } catch (e) {
        if (!(e instanceof ImportConflictError)) throw e;
        process.stderr.write('\n');
        say(`import stopped: ${e.message}; ${partial ? 'the batches before it stay' : 'nothing was imported'}`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write('\n');
      if (!r.committed) {
        say(`nothing imported: ${r.errors} of ${r.lines} lines refused (use --partial to import the good lines)`);
      } else {
        say(`imported ${r.imported} entities from ${r.lines} lines; ${r.errors} refused`);
      }
      if (r.errors > 0) process.exitCode = 1;
    });
  });

const audit = program.command('audit').description('the audit trail');
audit
  .command('verify')
  .description('check the audit hash chain; exits 1 if any record was edited, deleted or reordered')
  .action(async () => {
    const config = loadConfig();
    await withStore(config, async (store) => {
      const r = await verifyAudit(store.db, (n) => process.stderr.write(`\rchecked ${n} records`));
      process.stderr.write('\n');
      if (r.ok) {
        say(`audit chain intact: ${r.checked} records`);
        return;
      }
      say(`audit chain BROKEN: ${r.problems.length} problem(s) in ${r.checked} records`);
      for (const p of r.problems) say(`  record ${p.seq}: ${p.problem}`);
      process.exitCode = 1;
    });
  });

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof CliError || e instanceof MasterKeyError) {
    process.stderr.write(`bulwark: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bulwark: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
