import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class MasterKeyError extends Error {}

/**
 * The key that will encrypt stored service-account passwords: from
 * BULWARK_MASTER_KEY (base64 of 32 bytes), else a key file in the data
 * directory, created with mode 0600 on first start.
 */
export function loadMasterKey(fromEnv: string | null, dataDir: string): { key: Buffer; source: string } {
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32 || key.toString('base64') !== fromEnv.trim()) {
      throw new MasterKeyError('BULWARK_MASTER_KEY must be base64 of exactly 32 bytes');
    }
    return { key, source: 'BULWARK_MASTER_KEY' };
  }
  const file = path.resolve(dataDir, 'master.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'wx' fails if another process created it first; then we read theirs.
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const mode = fs.statSync(file).mode & 0o077;
  if (mode !== 0) throw new MasterKeyError(`${file} must be readable by its owner only (chmod 600)`);
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new MasterKeyError(`${file} does not hold base64 of 32 bytes`);
  return { key, source: file };
}
