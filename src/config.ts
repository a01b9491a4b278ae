import path from 'node:path';
import { FormatRegistry, type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PASSWORD_RULE, passwordAcceptable } from './domain/password-policy.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** What a BULWARK_DB value names; null for anything else (another URL scheme, empty). */
export function storeKind(db: string): 'memory' | 'sqlite' | 'postgres' | null {
  if (db === ':memory:') return 'memory';
  if (isPostgresUrl(db)) return URL.canParse(db) ? 'postgres' : null;
  // `mysql://x`, `sqlite:x.db`, `file:x`: a scheme (two letters or more, so a
  // Windows drive letter is still a path) that is not ours.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(db)) return null;
  return db.trim() === '' ? null : 'sqlite';
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** A store target fit for a message: a URL's password replaced by `***`. */
export function redactDb(db: string): string {
  return db
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/:@]*:)[^@/]*@/, '$1***@')
    .replace(/([?&]password=)[^&]*/i, '$1***');
}

FormatRegistry.Set('bulwark-store', (v) => storeKind(v) !== null);
FormatRegistry.Set('bulwark-password', passwordAcceptable);
FormatRegistry.Set('bulwark-master-key', (v) => {
  const key = Buffer.from(v, 'base64');
  return key.length === 32 && key.toString('base64') === v;
});

const MiB = 1024 * 1024;
const nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

/** The whole configuration, one schema: every value is checked against it once, at start. */
export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** SQLite file path, ':memory:', or a postgres:// URL. */
  db: Type.String({ format: 'bulwark-store' }),
  dataDir: Type.String({ minLength: 1 }),
  adminPassword: nullable(Type.String({ format: 'bulwark-password' })),
  masterKey: nullable(Type.String({ format: 'bulwark-master-key' })),
  masterKeyCommand: nullable(Type.String({ minLength: 1, maxLength: 4096 })),
  tlsCert: nullable(Type.String({ minLength: 1 })),
  tlsKey: nullable(Type.String({ minLength: 1 })),
  logLevel: Type.String({ pattern: `^(${LOG_LEVELS.join('|')})$` }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 256 * MiB }),
  trustProxy: Type.Boolean(),
  hashConcurrency: Type.Integer({ minimum: 1, maximum: 64 }),
  metricsToken: nullable(Type.String({ pattern: '^[A-Za-z0-9._~+/=-]{32,256}$' })),
  pgListen: Type.Boolean(),
  apiDocs: Type.Boolean(),
});

/** Everything Bulwark reads from its environment, parsed once. */
export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** How a variable's text becomes its value; text that does not decode is left for the schema to refuse. */
const text = (raw: string): unknown => raw;
const whole = (raw: string): unknown => (/^[0-9]{1,15}$/.test(raw) ? Number(raw) : raw);
const BOOLEANS = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);
const flag = (raw: string): unknown => BOOLEANS.get(raw.toLowerCase()) ?? raw;

export interface Variable {
  name: string;
  key: keyof Config;
  /** The value when unset or empty, as written in `--help` (null: unset). */
  fallback: string | null;
  /** One line for `--help`; the README's Configuration table says more. */
  meaning: string;
  /** What a good value is, for the message that names a bad one. */
  expect: string;
  decode: (raw: string) => unknown;
  /** Never echo the value in a message. */
  secret?: boolean;
}

/** Every variable Bulwark reads, in the README's order (test/readme.test.ts checks both agree). */
export const VARIABLES: readonly Variable[] = [
  {
    name: 'HOST',
    key: 'host',
    fallback: '127.0.0.1',
    meaning: 'address to listen on',
    expect: 'an address',
    decode: text,
  },
  {
    name: 'PORT',
    key: 'port',
    fallback: '8080',
    meaning: 'port to listen on',
    expect: 'a whole number from 0 to 65535',
    decode: whole,
  },
  {
    name: 'BULWARK_DB',
    key: 'db',
    fallback: './data/bulwark.db',
    meaning: 'a SQLite file path or a postgres:// URL',
    expect: 'a SQLite file path or a postgres://user:pass@host:5432/db URL (no other scheme)',
    decode: text,
  },
  {
    name: 'BULWARK_DATA_DIR',
    key: 'dataDir',
    fallback: null,
    meaning: "folder of master.key and admin-password (default: the SQLite file's folder, else ./data)",
    expect: 'a folder path',
    decode: text,
  },
  {
    name: 'BULWARK_ADMIN_PASSWORD',
    key: 'adminPassword',
    fallback: null,
    meaning: "password of admin on a new database (default: generated into the data dir's admin-password)",
    expect: `${PASSWORD_RULE} (the password policy)`,
    decode: text,
    secret: true,
  },
  {
    name: 'BULWARK_MASTER_KEY',
    key: 'masterKey',
    fallback: null,
    meaning: "base64 of 32 bytes (default: the data dir's master.key, created 0600)",
    expect: 'base64 of exactly 32 bytes',
    decode: text,
    secret: true,
  },
  {
    name: 'BULWARK_MASTER_KEY_COMMAND',
    key: 'masterKeyCommand',
    fallback: null,
    meaning: 'a shell command whose output is the master key (instead of BULWARK_MASTER_KEY or master.key)',
    expect: 'a shell command',
    decode: text,
  },
  {
    name: 'BULWARK_TLS_CERT',
    key: 'tlsCert',
    fallback: null,
    meaning: 'PEM certificate file; with BULWARK_TLS_KEY, serve HTTPS only',
    expect: 'a file path',
    decode: text,
  },
  {
    name: 'BULWARK_TLS_KEY',
    key: 'tlsKey',
    fallback: null,
    meaning: 'PEM private key file',
    expect: 'a file path',
    decode: text,
  },
  {
    name: 'BULWARK_BODY_LIMIT',
    key: 'bodyLimitBytes',
    fallback: '1048576',
    meaning: 'largest request body in bytes',
    expect: `a whole number from 1024 to ${256 * MiB}`,
    decode: whole,
  },
  {
    name: 'BULWARK_TRUST_PROXY',
    key: 'trustProxy',
    fallback: 'false',
    meaning: 'true behind a reverse proxy (client address from X-Forwarded-For)',
    expect: 'true or false (or 1 or 0)',
    decode: flag,
  },
  {
    name: 'BULWARK_HASH_CONCURRENCY',
    key: 'hashConcurrency',
    fallback: '2',
    meaning: 'password hashes computed at once',
    expect: 'a whole number from 1 to 64',
    decode: whole,
  },
  {
    name: 'BULWARK_METRICS_TOKEN',
    key: 'metricsToken',
    fallback: null,
    meaning: 'bearer token for GET /metrics from anywhere (default: /metrics only from this host, not behind a proxy)',
    expect: '32 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -',
    decode: text,
    secret: true,
  },
  {
    name: 'BULWARK_PG_LISTEN',
    key: 'pgListen',
    fallback: 'true',
    meaning: 'PostgreSQL: learn of changes by LISTEN/NOTIFY (false: read the permission version on every request)',
    expect: 'true or false (or 1 or 0)',
    decode: flag,
  },
  {
    name: 'BULWARK_API_DOCS',
    key: 'apiDocs',
    fallback: 'true',
    meaning: 'serve the API reference: GET /openapi.json and the /docs page',
    expect: 'true or false (or 1 or 0)',
    decode: flag,
  },
  {
    name: 'LOG_LEVEL',
    key: 'logLevel',
    fallback: 'info',
    meaning: LOG_LEVELS.join(', '),
    expect: `one of ${LOG_LEVELS.join(', ')}`,
    decode: text,
  },
];

/**
 * Reads the whole configuration from `env` and checks it against the one
 * schema. A bad value throws one ConfigError naming every bad variable.
 * Reads no file: the files named here are opened by the command that needs them.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = new Map<keyof Config, string>();
  const candidate: Record<string, unknown> = {};
  for (const v of VARIABLES) {
    const given = env[v.name];
    if (given !== undefined && given !== '') raw.set(v.key, given);
    candidate[v.key] =
      given !== undefined && given !== '' ? v.decode(given) : v.fallback === null ? null : v.decode(v.fallback);
  }
  if (candidate.dataDir === null) {
    const db = String(candidate.db);
    candidate.dataDir = storeKind(db) === 'sqlite' ? path.dirname(db) : './data';
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(ConfigSchema, candidate)) {
    const key = e.path.split('/')[1] as keyof Config;
    if (seen.has(key)) continue;
    seen.add(key);
    const v = VARIABLES.find((x) => x.key === key);
    if (!v) {
      problems.push(`${key}: ${e.message}`);
      continue;
    }
    const given = raw.get(key) ?? v.fallback ?? '';
    const shown = v.secret ? `${[...given].length} characters` : `"${v.key === 'db' ? redactDb(given) : given}"`;
    problems.push(`${v.name} must be ${v.expect}; got ${shown}`);
  }
  if (candidate.masterKey !== null && candidate.masterKeyCommand !== null) {
    problems.push('BULWARK_MASTER_KEY and BULWARK_MASTER_KEY_COMMAND must not both be set');
  }
  if ((candidate.tlsCert === null) !== (candidate.tlsKey === null)) {
    problems.push('BULWARK_TLS_CERT and BULWARK_TLS_KEY must be set together');
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return candidate as Config;
}

/** The environment variables, for `bulwark --help`. */
export function describeVariables(): string {
  const width = Math.max(...VARIABLES.map((v) => v.name.length));
  const lines = VARIABLES.map(
    (v) => `  ${v.name.padEnd(width)}  ${v.meaning}${v.fallback === null ? '' : ` (default ${v.fallback})`}`,
  );
  return `Environment variables (read at start; a bad value exits 2 naming it):\n${lines.join('\n')}`;
}
