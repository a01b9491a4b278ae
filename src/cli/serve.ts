import fs from 'node:fs';
import path from 'node:path';
import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import { loadMasterKey } from '../crypto/master-key.js';
import { setHashConcurrency } from '../crypto/passwords.js';
import { bootstrap } from '../store/bootstrap.js';
import { openStore } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { CliError, EXIT } from './errors.js';

/** Where a generated administrator password is kept, in the data dir. */
export const ADMIN_PASSWORD_FILE = 'admin-password';

/** A file named by a setting must be readable before anything starts. */
function requireReadable(file: string | null, variable: string): void {
  if (file === null) return;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw new CliError(`${variable}: cannot read ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
}

/**
 * Writes a generated password where only its owner can read it: a fresh 0600
 * file (a stale one from an earlier database is replaced; `wx` never follows
 * a link planted in its place).
 */
function keepPassword(file: string, password: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
}

const LISTEN_CODES: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'not an address of this host',
  EACCES: 'not allowed (a port below 1024 needs privileges)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name cannot be resolved now',
};

/**
 * `bulwark serve`: migrates, creates the administrator on a new database,
 * serves until SIGTERM or SIGINT. A generated administrator password goes to
 * a 0600 file in the data dir, never to the log: the log says only where.
 */
export async function serve(config: Config): Promise<void> {
  setHashConcurrency(config.hashConcurrency);
  requireReadable(config.tlsCert, 'BULWARK_TLS_CERT');
  requireReadable(config.tlsKey, 'BULWARK_TLS_KEY');
  // The data dir holds the master key, a generated password and by default the database: owner only, when new.
  if (config.masterKey === null) fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { key: masterKey } = loadMasterKey(config.masterKey, config.dataDir, config.masterKeyCommand);
  const store = openStore(config.db);
  const passwordFile = path.resolve(config.dataDir, ADMIN_PASSWORD_FILE);
  let app: Awaited<ReturnType<typeof buildApp>>['app'];
  let boot: Awaited<ReturnType<typeof bootstrap>>;
  let migrated: Awaited<ReturnType<typeof migrate>>;
  try {
    migrated = await migrate(store);
    boot = await bootstrap(store, config.adminPassword, new Date(), {
      keepGenerated: (password) => keepPassword(passwordFile, password),
    });
    const built = await buildApp({ config, store, masterKey });
    app = built.app;
    // A wrong master key stops here (exit 2), before anything is served.
    await built.ctx.vault.ready().catch(async (e) => {
      await app.close();
      throw e;
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  if (migrated.applied.length > 0) app.log.info({ applied: migrated.applied }, 'database migrated');
  if (boot.generatedPassword) {
    app.log.info(
      { passwordFile },
      `created the administrator "admin"; its generated password is in ${passwordFile} (mode 0600): log in with it, change it, then delete the file`,
    );
    if (process.stderr.isTTY) {
      process.stderr.write(
        `\nBulwark created the administrator "admin". Its password is in\n\n    ${passwordFile}\n\n(readable by you only). Log in with it, change it, then delete the file.\n\n`,
      );
    }
  } else if (!boot.created && config.adminPassword !== null) {
    app.log.warn(
      'BULWARK_ADMIN_PASSWORD is ignored: the database already has its administrator (it is read only when the database is new); change a password with `bulwark admin reset-password`',
    );
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(EXIT.CHECK_FAILED);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(EXIT.CHECK_FAILED), 15_000);
    force.unref();
    await app.close();
    await store.close();
    process.exit(EXIT.OK);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await app.close();
    await store.close();
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = LISTEN_CODES[code];
    if (why === undefined) throw e;
    throw new CliError(`cannot listen on ${config.host}:${config.port} (HOST, PORT): ${why} (${code})`, EXIT.LISTEN);
  }
}
