#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { describeFailure, EXIT } from './cli/errors.js';
import { type Config, describeVariables, loadConfig } from './config.js';

// Each command loads what it needs when it runs: `--help`, a usage error or a
// bad setting answers without loading the server.

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** BULWARK_DB once the configuration is read, for messages about the store. */
let storeTarget: string | null = null;

function config(): Config {
  const c = loadConfig();
  storeTarget = c.db;
  return c;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function version(): string {
  // dist/src/main.js or src/main.ts: the package is the nearest folder above with a package.json.
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

const EXIT_HELP = `Exit codes:
  0  done
  1  the check failed: audit chain broken, import lines refused, migrations pending (status);
     serve stopped before its requests in flight finished
  2  usage or configuration: unknown command or option, a bad variable, a file that cannot be read
  3  the store cannot be used: unreachable, no such database, not a Bulwark database
  4  serve cannot listen: the port is in use, or the address is not this host's
  5  unexpected error (LOG_LEVEL=debug prints the stack)`;

const program = new Command()
  .name('bulwark')
  .description(
    'Bulwark: the security control plane of a backup and storage platform.\nWithout a command, runs `bulwark serve`.',
  )
  .version(version(), '-V, --version', 'print the version')
  .helpOption('-h, --help', 'show this help')
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .showSuggestionAfterError(true)
  .addHelpText('after', `\n${describeVariables()}\n\n${EXIT_HELP}\n`);

program
  .command('serve')
  .description('migrate the database if needed, create the administrator on a new one, serve HTTP(S) on HOST:PORT')
  .action(async () => {
    const { serve } = await import('./cli/serve.js');
    await serve(config());
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit (creates a new SQLite database)')
  .action(async () => {
    const c = config();
    const [{ withStore }, { migrate }] = await Promise.all([import('./cli/store.js'), import('./store/migrate.js')]);
    await withStore(c, 'create', async (store) => {
      const r = await migrate(store);
      say(
        r.applied.length
          ? `applied: ${r.applied.join(', ')}`
          : `up to date (${r.alreadyApplied} migrations applied before)`,
      );
    });
  });

program
  .command('status')
  .description(
    "show the version, what the store holds, the master key's id and the node's readiness (read only); exits 1 if migrations are pending",
  )
  .action(async () => {
    const c = config();
    const [{ withStore }, { storeStatus, masterKeyStatus, nodeStatus }] = await Promise.all([
      import('./cli/store.js'),
      import('./cli/status.js'),
    ]);
    say(`bulwark: ${version()}`);
    await withStore(c, 'existing', async (store) => {
      const s = await storeStatus(store, c.db);
      for (const line of s.lines) say(line);
      if (s.pending.length > 0) process.exitCode = EXIT.CHECK_FAILED;
    });
    say(masterKeyStatus(c));
    say(await nodeStatus(c));
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
    const c = config();
    const given = opts.passwordStdin ? await readStdin() : null;
    const [{ withStore }, { migrate }, { resetPassword }, { setHashConcurrency }] = await Promise.all([
      import('./cli/store.js'),
      import('./store/migrate.js'),
      import('./cli/admin.js'),
      import('./crypto/passwords.js'),
    ]);
    setHashConcurrency(c.hashConcurrency);
    await withStore(c, 'existing', async (store) => {
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
    const c = config();
    const [{ withStore }, { migrate }, { importFile, requireImportFile }, { ImportConflictError }] = await Promise.all([
      import('./cli/store.js'),
      import('./store/migrate.js'),
      import('./cli/import.js'),
      import('./import/entities.js'),
    ]);
    requireImportFile(file);
    await withStore(c, 'existing', async (store) => {
      await migrate(store);
      const partial = opts.partial === true;
      let r: Awaited<ReturnType<typeof importFile>>;
      try {
        // Lines with an account need the master key; without one they are refused line by line.
        const [{ configuredMasterKey }, { Vault, WrongMasterKeyError }] = await Promise.all([
          import('./cli/keys.js'),
          import('./store/vault.js'),
        ]);
        let vault: InstanceType<typeof Vault> | undefined;
        try {
          vault = new Vault(store, configuredMasterKey(c));
          await vault.ready();
        } catch (e) {
          if (e instanceof WrongMasterKeyError) throw e;
          vault = undefined;
        }
        r = await importFile(store, file, {
          ...(vault ? { vault } : {}),
          partial,
          onError: (e) => say(`line ${e.line}: ${e.message}`),
          onProgress: (p) =>
            process.stderr.write(`\rread ${p.lines} lines: ${p.imported} entities, ${p.errors} refused`),
        });
      } catch (e) {
        if (!(e instanceof ImportConflictError)) throw e;
        process.stderr.write('\n');
        say(`import stopped: ${e.message}; ${partial ? 'the batches before it stay' : 'nothing was imported'}`);
        process.exitCode = EXIT.CHECK_FAILED;
        return;
      }
      process.stderr.write('\n');
      if (!r.committed) {
        say(`nothing imported: ${r.errors} of ${r.lines} lines refused (use --partial to import the good lines)`);
      } else {
        say(`imported ${r.imported} entities from ${r.lines} lines; ${r.errors} refused`);
      }
      if (r.errors > 0) process.exitCode = EXIT.CHECK_FAILED;
    });
  });

const catalogue = program.command('catalogue').description('the backup catalogue');
catalogue
  .command('import')
  .description(
    'load backup jobs from a JSON-lines file (one job a line, as POST Catalogue/Import takes them) in one transaction; exits 1 if any line is refused',
  )
  .argument('<file>', 'the JSON-lines file')
  .action(async (file: string) => {
    const c = config();
    const [{ withStore }, { migrate }, { importCatalogueFile }, { requireImportFile }] = await Promise.all([
      import('./cli/store.js'),
      import('./store/migrate.js'),
      import('./cli/catalogue.js'),
      import('./cli/import.js'),
    ]);
    requireImportFile(file);
    await withStore(c, 'existing', async (store) => {
      await migrate(store);
      const r = await importCatalogueFile(store, file, {
        onError: (e) => say(`line ${e.line}: ${e.message}`),
        onProgress: (p) => process.stderr.write(`\rread ${p.lines} lines: ${p.jobs} jobs, ${p.files} files`),
      });
      process.stderr.write('\n');
      say(
        r.committed
          ? `imported ${r.jobs} jobs with ${r.files} files from ${r.lines} lines`
          : `nothing imported: ${r.errors} of ${r.lines} lines refused`,
      );
      if (r.errors > 0) process.exitCode = EXIT.CHECK_FAILED;
    });
  });

program
  .command('demo')
  .description(
    'load a demo estate (two companies with users, clients, subclients, a catalogue, a passkey) into a new store; refuses a store that holds data (exit 2); the passwords go to a 0600 file in the data dir',
  )
  .action(async () => {
    const c = config();
    const [{ withStore }, { loadDemo }, { setHashConcurrency }] = await Promise.all([
      import('./cli/store.js'),
      import('./cli/demo.js'),
      import('./crypto/passwords.js'),
    ]);
    setHashConcurrency(c.hashConcurrency);
    await withStore(c, 'create', async (store) => {
      const r = await loadDemo(store, c);
      say(`loaded ${r.companies} companies, ${r.entities} entities, ${r.jobs} jobs with ${r.files} files`);
      for (const l of r.logins) say(`  ${l.login} (${l.role})`);
      say(`their passwords and acme's passkey are in ${r.passwordsFile} (mode 0600)`);
      if (r.adminPasswordFile) say(`admin's generated password is in ${r.adminPasswordFile} (mode 0600)`);
      say(
        'start the server with `bulwark serve`, then log in: POST /Login {"username":"acme\\alice","password":"<from the file>"}',
      );
    });
  });

const apikey = program.command('apikey').description('file-devices API keys (/v9/storage)');
const collect = (v: string, prev: string[] = []) => [...prev, v];
apikey
  .command('create')
  .description("create an API key for a user and print it once (its owner's access level caps it at every use)")
  .option('-u, --owner <name>', 'the user the key acts as', 'admin')
  .option('-d, --description <text>', 'what the key is for')
  .option('--access <level>', 'REST access: NO_ACCESS, READ_ONLY (default) or FULL_CONTROL')
  .option('--soap-access <level>', 'SOAP access: NO_ACCESS (default), READ_ONLY or FULL_CONTROL')
  .option('--type <type>', 'UNRESTRICTED (default) or CALLID_RESTRICTED')
  .option('--call <id>', 'a call id a CALLID_RESTRICTED key may make (repeat)', collect)
  .option('--virtual-server <ref>', 'restrict to a virtual server: name, id or object id (repeat)', collect)
  .option('--group <ref>', 'restrict to an API key group: name, index or object id (repeat)', collect)
  .option('--source <cidr>', 'allow only this source range (repeat)', collect)
  .option('--expires <iso-time>', 'expiry, an ISO-8601 time in the future')
  .action(
    async (opts: {
      owner: string;
      description?: string;
      access?: string;
      soapAccess?: string;
      type?: string;
      call?: string[];
      virtualServer?: string[];
      group?: string[];
      source?: string[];
      expires?: string;
    }) => {
      const c = config();
      const [{ withStore }, { migrate }, { createKeyCli }] = await Promise.all([
        import('./cli/store.js'),
        import('./store/migrate.js'),
        import('./cli/apikey.js'),
      ]);
      await withStore(c, 'existing', async (store) => {
        await migrate(store);
        const made = await createKeyCli(store, {
          owner: opts.owner,
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.access ? { access: opts.access } : {}),
          ...(opts.soapAccess ? { soapAccess: opts.soapAccess } : {}),
          ...(opts.type ? { keyType: opts.type } : {}),
          ...(opts.call ? { callIds: opts.call } : {}),
          ...(opts.virtualServer ? { virtualServers: opts.virtualServer } : {}),
          ...(opts.group ? { groups: opts.group } : {}),
          ...(opts.source ? { sources: opts.source } : {}),
          ...(opts.expires ? { expires: opts.expires } : {}),
        });
        say(`api key ${made.prefix} (object id ${made.objectId}); shown only now:`);
        say(made.key);
      });
    },
  );
apikey
  .command('list')
  .description('list API keys: prefix, owner, access, type, state, expiry, last use, description (never the key)')
  .action(async () => {
    const c = config();
    const [{ withStore }, { migrate }, { listKeysCli }] = await Promise.all([
      import('./cli/store.js'),
      import('./store/migrate.js'),
      import('./cli/apikey.js'),
    ]);
    await withStore(c, 'existing', async (store) => {
      await migrate(store);
      for (const line of await listKeysCli(store)) say(line);
    });
  });
apikey
  .command('revoke')
  .description('delete an API key (by prefix or object id); every node refuses it within 5 s')
  .argument('<key>', "the key's prefix or object id")
  .action(async (ref: string) => {
    const c = config();
    const [{ withStore }, { migrate }, { revokeKeyCli }] = await Promise.all([
      import('./cli/store.js'),
      import('./store/migrate.js'),
      import('./cli/apikey.js'),
    ]);
    await withStore(c, 'existing', async (store) => {
      await migrate(store);
      say(`api key ${await revokeKeyCli(store, ref)} revoked`);
    });
  });

const keys = program.command('keys').description("the vault's data keys (stored service-account passwords)");
keys
  .command('status')
  .description(
    'data key ids, which is current, how many records each seals, records under a key id with no data key, a rotation left unfinished; exits 1 when a record cannot be opened',
  )
  .action(async () => {
    const c = config();
    const [{ withStore }, { keysStatusCli, configuredMasterKey }] = await Promise.all([
      import('./cli/store.js'),
      import('./cli/keys.js'),
    ]);
    await withStore(c, 'existing', async (store) => {
      let master: Buffer | null = null;
      try {
        master = configuredMasterKey(c);
      } catch (e) {
        say(`master key: ${(e as Error).message}`);
      }
      const s = await keysStatusCli(store, master);
      for (const line of s.lines) say(line);
      if (!s.ok) process.exitCode = EXIT.CHECK_FAILED;
    });
  });
keys
  .command('rotate')
  .description(
    'add a data key and re-encrypt every stored password under it in batches while servers keep serving (resumes a killed run); with a new master key, wrap every data key under it instead. Exits 1 when records cannot be opened (listed)',
  )
  .option('--batch <n>', 'records per transaction', (v) => Number(v), 500)
  .option('--pause-ms <ms>', 'rest between batches, to leave the store to the servers', (v) => Number(v), 0)
  .option('--retire', 'once every record is under the new key, delete the data keys that seal nothing')
  .option(
    '--new-master-key-file <file>',
    'a 0600 file with the new master key (base64 of 32 bytes; or BULWARK_NEW_MASTER_KEY): re-wrap every data key under it',
  )
  .action(async (opts: { batch: number; pauseMs: number; retire?: boolean; newMasterKeyFile?: string }) => {
    const c = config();
    const [{ withStore }, { migrate }, { rotateCli }] = await Promise.all([
      import('./cli/store.js'),
      import('./store/migrate.js'),
      import('./cli/keys.js'),
    ]);
    await withStore(c, 'existing', async (store) => {
      await migrate(store);
      process.exitCode = await rotateCli(
        c,
        store,
        {
          batch: opts.batch,
          pauseMs: opts.pauseMs,
          retire: opts.retire === true,
          ...(opts.newMasterKeyFile ? { newMasterKeyFile: opts.newMasterKeyFile } : {}),
        },
        say,
        (text) => process.stderr.write(text),
      );
    });
  });

/** Progress on stderr: one line rewritten in place on a terminal, else a line each; `done` ends it. */
function progressLine() {
  let shown = false;
  const tty = process.stderr.isTTY;
  return {
    show: (line: string) => {
      shown = tty;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    done: () => {
      if (shown) process.stderr.write('\n');
    },
  };
}

program
  .command('backup')
  .description(
    'copy the SQLite store to FILE (0600), consistently, while the server may run; refuses an existing FILE without --force (PostgreSQL: see the README)',
  )
  .argument('<file>', 'where to write the backup')
  .option('--force', 'replace FILE if it exists')
  .action(async (file: string, opts: { force?: boolean }) => {
    const c = config();
    const { backup } = await import('./cli/backup.js');
    const p = progressLine();
    const r = await backup(c, file, opts.force === true, p.show).finally(p.done);
    say(`backup written to ${r.file} (${r.bytes} bytes, mode 0600); it holds no master key: keep that apart`);
  });

program
  .command('restore')
  .description(
    'replace the SQLite store with a backup, after checking it (integrity, migrations, audit chain); refuses while a server holds the store, and an existing store without --force',
  )
  .argument('<file>', 'the backup to restore')
  .option('--force', 'replace the existing store')
  .action(async (file: string, opts: { force?: boolean }) => {
    const c = config();
    const { restore } = await import('./cli/backup.js');
    const p = progressLine();
    const r = await restore(c, file, opts.force === true, p.show).finally(p.done);
    say(
      `restored ${r.file} from ${file}: integrity ok, ${r.migrations} migrations, audit chain intact (${r.auditRecords} records)`,
    );
  });

const audit = program.command('audit').description('the audit trail');
audit
  .command('verify')
  .description('check the audit hash chain (read only); exits 1 if any record was edited, deleted or reordered')
  .action(async () => {
    const c = config();
    const [{ withStore }, { verifyAudit }] = await Promise.all([import('./cli/store.js'), import('./audit/verify.js')]);
    await withStore(c, 'existing', async (store) => {
      const r = await verifyAudit(store.db, (n) => process.stderr.write(`\rchecked ${n} records`));
      process.stderr.write('\n');
      if (r.ok) {
        say(`audit chain intact: ${r.checked} records`);
        return;
      }
      say(`audit chain BROKEN: ${r.problems.length} problem(s) in ${r.checked} records`);
      for (const p of r.problems) say(`  record ${p.seq}: ${p.problem}`);
      process.exitCode = EXIT.CHECK_FAILED;
    });
  });

/** One line on stderr and the command's exit code; the stack only at LOG_LEVEL=debug (or trace). */
function fail(e: unknown): never {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) process.exit(EXIT.OK);
    // `bulwark admin` alone printed its help; anything else gets one line.
    if (e.code !== 'commander.help') {
      const message = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      process.stderr.write(`bulwark: ${message}; see bulwark --help\n`);
    }
    process.exit(EXIT.USAGE);
  }
  const f = describeFailure(e, storeTarget);
  process.stderr.write(`bulwark: ${f.message}\n`);
  if (['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '') && e instanceof Error && e.stack) {
    process.stderr.write(`${e.stack}\n`);
  }
  process.exit(f.code);
}

// No arguments at all: serve (what `npm start` and container images run).
const argv = process.argv.length > 2 ? process.argv : [...process.argv, 'serve'];
program.parseAsync(argv).catch(fail);
