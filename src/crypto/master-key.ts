import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class MasterKeyError extends Error {}

/** How long a BULWARK_MASTER_KEY_COMMAND may take (a KMS or Vault CLI over the network). */
const COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs BULWARK_MASTER_KEY_COMMAND through /bin/sh; its standard output,
 * trimmed, must be base64 of 32 bytes (systemd-creds cat, a KMS CLI, vault kv
 * get -field=…). Its stderr goes to ours; the key itself is never echoed.
 */
function keyFromCommand(command: string): Buffer {
  let out: string;
  try {
    out = execFileSync('/bin/sh', ['-c', command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: COMMAND_TIMEOUT_MS,
      maxBuffer: 64 * 1024,
    });
  } catch (e) {
    const err = e as { status?: number | null; signal?: string | null; code?: string };
    const why =
      err.code === 'ETIMEDOUT' || err.signal === 'SIGTERM'
        ? `did not finish within ${COMMAND_TIMEOUT_MS / 1000} s`
        : err.status != null
          ? `exited with status ${err.status}`
          : `failed (${err.code ?? err.signal ?? 'unknown'})`;
    throw new MasterKeyError(`BULWARK_MASTER_KEY_COMMAND ${why}`);
  }
  const text = out.trim();
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32 || key.toString('base64') !== text) {
    throw new MasterKeyError('BULWARK_MASTER_KEY_COMMAND must print base64 of exactly 32 bytes');
  }
  return key;
}

/**
 * The key that encrypts stored service-account passwords: from
 * BULWARK_MASTER_KEY (base64 of 32 bytes), else the output of
 * BULWARK_MASTER_KEY_COMMAND, else a key file in the data directory, created
 * with mode 0600 on first start.
 */
export function loadMasterKey(
  fromEnv: string | null,
  dataDir: string,
  command: string | null = null,
  opts: { create?: boolean } = {},
): { key: Buffer; source: string } {
  if (command) return { key: keyFromCommand(command), source: 'BULWARK_MASTER_KEY_COMMAND' };
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32 || key.toString('base64') !== fromEnv.trim()) {
      throw new MasterKeyError('BULWARK_MASTER_KEY must be base64 of exactly 32 bytes');
    }
    return { key, source: 'BULWARK_MASTER_KEY' };
  }
  const file = path.resolve(dataDir, 'master.key');
  if (opts.create === false && !fs.existsSync(file)) {
    throw new MasterKeyError(`no master key: ${file} does not exist (BULWARK_MASTER_KEY, BULWARK_MASTER_KEY_COMMAND)`);
  }
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'wx' fails if another process created it first; then we read theirs.
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return { key: readKeyFile(file), source: file };
}

/** A key file: readable by its owner only, holding base64 of 32 bytes. */
export function readKeyFile(file: string): Buffer {
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o077;
  } catch (e) {
    throw new MasterKeyError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
  if (mode !== 0) throw new MasterKeyError(`${file} must be readable by its owner only (chmod 600)`);
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new MasterKeyError(`${file} does not hold base64 of 32 bytes`);
  return key;
}

/** A key given as base64 of 32 bytes in `variable`. */
export function keyFromBase64(text: string, variable: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32 || key.toString('base64') !== text.trim()) {
    throw new MasterKeyError(`${variable} must be base64 of exactly 32 bytes`);
  }
  return key;
}
