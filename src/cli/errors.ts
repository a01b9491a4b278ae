import { ConfigError, redactDb } from '../config.js';
import { MasterKeyError } from '../crypto/master-key.js';

/** Every command's exit codes: one table, the README's (test/readme.test.ts checks they agree). */
export const EXIT = {
  /** done */
  OK: 0,
  /** the command ran and its check failed: the audit chain is broken, import lines were refused, migrations are pending (`status`) */
  CHECK_FAILED: 1,
  /** usage or configuration: unknown command or option, a bad environment variable, a file that cannot be read, a refused argument */
  USAGE: 2,
  /** the store cannot be used: unreachable, no such database, not a Bulwark database, not readable */
  STORE: 3,
  /** `serve` cannot listen: the port is in use, or the address is not this host's or not allowed */
  LISTEN: 4,
  /** anything else: a bug, reported in one line (the stack at LOG_LEVEL=debug) */
  INTERNAL: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A refusal the operator can fix from the command line; `code` is the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode = EXIT.USAGE,
  ) {
    super(message);
  }
}

// Node's and libpq's words for "no store at the other end".
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const errno = (e: unknown): string | undefined => {
  const err = e as { code?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof err?.code === 'string') return err.code;
  // Node's dual-stack connect reports an AggregateError of each address's failure.
  const inner = err?.errors?.find((x) => typeof x?.code === 'string')?.code;
  return typeof inner === 'string' ? inner : undefined;
};

/** Whether `e` says the store is unusable (rather than a bug of ours). */
function storeProblem(e: unknown): boolean {
  const code = errno(e);
  if (code === undefined) {
    const message = (e as Error)?.message ?? '';
    return /timeout expired|connection terminated|migrated by a newer Bulwark/i.test(message);
  }
  if (NETWORK_CODES.has(code)) return true;
  // A Unix socket that is not there (any other missing file is not the store's).
  if (code === 'ENOENT') return (e as { syscall?: string }).syscall === 'connect';
  if (code.startsWith('SQLITE_')) {
    return /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|READONLY|PERM|IOERR|BUSY|LOCKED|FULL|AUTH)/.test(code);
  }
  // PostgreSQL SQLSTATEs: 08 connection, 28 authorization, 3D000 no such
  // database, 3F000 no such schema, 42501 not allowed, 53 resources, 57P0x shutting down.
  return /^(08...|28...|3D000|3F000|42501|53...|57P0.)$/.test(code);
}

export interface Failure {
  code: ExitCode;
  /** One line, for `bulwark: <message>`. */
  message: string;
}

/**
 * What the operator is told when a command fails: an exit code from EXIT and
 * one line naming the setting or file. `db` is BULWARK_DB when known.
 */
export function describeFailure(e: unknown, db: string | null): Failure {
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
  if (e instanceof CliError) return { code: e.code, message: oneLine(e.message) };
  if (e instanceof ConfigError || e instanceof MasterKeyError) return { code: EXIT.USAGE, message: oneLine(e.message) };
  const message = oneLine((e as Error)?.message || String(e));
  // openStore's own refusal (src/store/db.ts NoStoreError), not imported: it would load the store here.
  if (errno(e) === 'BULWARK_NO_STORE') return { code: EXIT.STORE, message };
  if (storeProblem(e)) {
    const where = db === null ? 'the store' : `the store BULWARK_DB=${redactDb(db)}`;
    const code = errno(e);
    const detail = code && !message.includes(code) ? `${message} (${code})` : message;
    return { code: EXIT.STORE, message: `cannot use ${where}: ${redactDb(detail)}` };
  }
  return { code: EXIT.INTERNAL, message: `unexpected error: ${message} (LOG_LEVEL=debug shows where)` };
}
