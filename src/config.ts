import path from 'node:path';

/** Everything Bulwark reads from its environment, parsed once. */
export interface Config {
  host: string;
  port: number;
  /** SQLite file path, ':memory:', or a postgres:// URL. */
  db: string;
  dataDir: string;
  adminPassword: string | null;
  masterKey: string | null;
  tlsCert: string | null;
  tlsKey: string | null;
  logLevel: string;
  bodyLimitBytes: number;
  trustProxy: boolean;
}

export class ConfigError extends Error {}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const db = env.BULWARK_DB || './data/bulwark.db';
  const dataDir = env.BULWARK_DATA_DIR || (isPostgresUrl(db) || db === ':memory:' ? './data' : path.dirname(db));
  const tlsCert = env.BULWARK_TLS_CERT || null;
  const tlsKey = env.BULWARK_TLS_KEY || null;
  if ((tlsCert === null) !== (tlsKey === null)) {
    throw new ConfigError('BULWARK_TLS_CERT and BULWARK_TLS_KEY must be set together');
  }
  const level = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${level}"`);
  }
  return {
    host: env.HOST || '127.0.0.1',
    port: int('PORT', env.PORT, 8080, 0, 65535),
    db,
    dataDir,
    adminPassword: env.BULWARK_ADMIN_PASSWORD || null,
    masterKey: env.BULWARK_MASTER_KEY || null,
    tlsCert,
    tlsKey,
    logLevel: level,
    bodyLimitBytes: int('BULWARK_BODY_LIMIT', env.BULWARK_BODY_LIMIT, 1024 * 1024, 1024, 256 * 1024 * 1024),
    trustProxy: env.BULWARK_TRUST_PROXY === '1' || env.BULWARK_TRUST_PROXY === 'true',
  };
}
