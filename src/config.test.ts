import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactDb, storeKind, VARIABLES } from './config.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

/** The message loadConfig throws for `env`, or null if it accepts it. */
function refusal(env: Record<string, string>): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

/**
 * Per variable: values it takes (and what they become) and values it refuses.
 * Every variable the schema reads must be listed (checked below).
 */
const CASES: Record<string, { good: Array<[string, unknown]>; bad: string[] }> = {
  HOST: {
    good: [
      ['0.0.0.0', '0.0.0.0'],
      ['::1', '::1'],
    ],
    bad: [],
  },
  PORT: {
    good: [
      ['8081', 8081],
      ['0', 0],
      ['65535', 65535],
    ],
    bad: ['abc', '-1', '65536', '80.5', '1e3', '0x50', ' 80', '8080abc'],
  },
  BULWARK_DB: {
    good: [
      ['/var/lib/bulwark/b.db', '/var/lib/bulwark/b.db'],
      ['./rel.db', './rel.db'],
      [':memory:', ':memory:'],
      ['postgres://u:p@h:5432/d', 'postgres://u:p@h:5432/d'],
      ['postgresql://u@h/d?host=/run/pg', 'postgresql://u@h/d?host=/run/pg'],
    ],
    bad: ['mysql://x', 'sqlite:x.db', 'file:x.db', 'https://h/d', 'postgres://[broken'],
  },
  BULWARK_DATA_DIR: { good: [['/srv/bulwark', '/srv/bulwark']], bad: [] },
  BULWARK_ADMIN_PASSWORD: {
    good: [
      ['Eight-ch', 'Eight-ch'],
      ['x'.repeat(256), 'x'.repeat(256)],
    ],
    bad: ['short', '        ', 'x'.repeat(257)],
  },
  BULWARK_MASTER_KEY: { good: [[KEY, KEY]], bad: ['abc', Buffer.alloc(31).toString('base64'), `${KEY}x`] },
  BULWARK_MASTER_KEY_COMMAND: { good: [['cat /run/key', 'cat /run/key']], bad: [] },
  BULWARK_TLS_CERT: { good: [], bad: [] },
  BULWARK_TLS_KEY: { good: [], bad: [] },
  BULWARK_BODY_LIMIT: {
    good: [
      ['1024', 1024],
      [String(256 * 1024 * 1024), 256 * 1024 * 1024],
    ],
    bad: ['1023', String(256 * 1024 * 1024 + 1), '1MiB', '-5'],
  },
  BULWARK_TRUST_PROXY: {
    good: [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['false', false],
      ['0', false],
    ],
    bad: ['yes', 'no', 'on', '2', 'truthy'],
  },
  BULWARK_HASH_CONCURRENCY: {
    good: [
      ['1', 1],
      ['64', 64],
    ],
    bad: ['abc', '0', '65', '1.5'],
  },
  BULWARK_METRICS_TOKEN: {
    good: [
      ['t'.repeat(32), 't'.repeat(32)],
      ['A0._~+/=-'.repeat(4), 'A0._~+/=-'.repeat(4)],
    ],
    bad: ['t'.repeat(31), 't'.repeat(257), `${'t'.repeat(32)} `, `${'t'.repeat(32)}\n`, `${'t'.repeat(32)}é`],
  },
  BULWARK_PG_LISTEN: {
    good: [
      ['false', false],
      ['0', false],
      ['True', true],
    ],
    bad: ['off', 'no', '2'],
  },
  BULWARK_API_DOCS: {
    good: [
      ['false', false],
      ['0', false],
      ['TRUE', true],
    ],
    bad: ['off', 'no', '2'],
  },
  LOG_LEVEL: {
    good: [
      ['debug', 'debug'],
      ['silent', 'silent'],
    ],
    bad: ['verbose', 'DEBUG', 'info '],
  },
};

describe('configuration', () => {
  it('has a case for every variable', () => {
    expect(Object.keys(CASES)).toEqual(VARIABLES.map((v) => v.name));
  });

  it('defaults: what the README says, from an empty environment', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8080,
      db: './data/bulwark.db',
      dataDir: './data',
      adminPassword: null,
      masterKey: null,
      masterKeyCommand: null,
      tlsCert: null,
      tlsKey: null,
      logLevel: 'info',
      bodyLimitBytes: 1024 * 1024,
      trustProxy: false,
      hashConcurrency: 2,
      metricsToken: null,
      pgListen: true,
      apiDocs: true,
    });
  });

  it('an empty variable counts as unset', () => {
    const env = Object.fromEntries(VARIABLES.map((v) => [v.name, '']));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  for (const v of VARIABLES) {
    const c = CASES[v.name];
    if (!c) continue;
    it(`${v.name}: takes ${c.good.length} values, refuses ${c.bad.length} naming the variable`, () => {
      const pair = v.name === 'BULWARK_TLS_CERT' || v.name === 'BULWARK_TLS_KEY';
      for (const [raw, value] of c.good) {
        expect(loadConfig({ [v.name]: raw })[v.key], raw).toEqual(value);
      }
      for (const raw of c.bad) {
        const message = refusal({ [v.name]: raw });
        expect(message, raw).toMatch(new RegExp(`^${v.name} must be `));
        if (v.secret) expect(message, 'a secret is never echoed').not.toContain(raw);
      }
      if (pair) {
        expect(refusal({ [v.name]: '/etc/x.pem' })).toBe('BULWARK_TLS_CERT and BULWARK_TLS_KEY must be set together');
      }
    });
  }

  it('TLS: both or neither', () => {
    expect(loadConfig({ BULWARK_TLS_CERT: '/c.pem', BULWARK_TLS_KEY: '/k.pem' })).toMatchObject({
      tlsCert: '/c.pem',
      tlsKey: '/k.pem',
    });
  });

  it('the data dir follows a SQLite file, else ./data', () => {
    expect(loadConfig({ BULWARK_DB: '/srv/b/x.db' }).dataDir).toBe('/srv/b');
    expect(loadConfig({ BULWARK_DB: 'postgres://u@h/d' }).dataDir).toBe('./data');
    expect(loadConfig({ BULWARK_DB: ':memory:' }).dataDir).toBe('./data');
    expect(loadConfig({ BULWARK_DB: '/srv/b/x.db', BULWARK_DATA_DIR: '/keys' }).dataDir).toBe('/keys');
  });

  it('names every bad variable at once, on one line', () => {
    const message = refusal({
      BULWARK_TRUST_PROXY: 'yes',
      BULWARK_HASH_CONCURRENCY: 'abc',
      BULWARK_ADMIN_PASSWORD: 'short',
    });
    expect(message).not.toContain('\n');
    expect(message).toContain('BULWARK_TRUST_PROXY must be true or false (or 1 or 0); got "yes"');
    expect(message).toContain('BULWARK_HASH_CONCURRENCY must be a whole number from 1 to 64; got "abc"');
    expect(message).toContain(
      'BULWARK_ADMIN_PASSWORD must be 8 to 256 characters, not all blank (the password policy); got 5 characters',
    );
  });

  it('a refused PostgreSQL URL is shown without its password', () => {
    const message = refusal({ BULWARK_DB: 'postgres://u:hunter2@[bad/d' });
    expect(message).toContain('BULWARK_DB must be');
    expect(message).not.toContain('hunter2');
    expect(redactDb('postgres://u:hunter2@h/d')).toBe('postgres://u:***@h/d');
    expect(redactDb('postgres://u@h/d?password=hunter2&x=1')).toBe('postgres://u@h/d?password=***&x=1');
  });

  it('store kinds: a path, :memory:, PostgreSQL; other schemes are not paths', () => {
    expect(storeKind('C:\\bulwark\\b.db')).toBe('sqlite');
    expect(storeKind('mysql://x')).toBeNull();
    expect(storeKind('')).toBeNull();
  });
});
