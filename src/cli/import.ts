import fs from 'node:fs';
import readline from 'node:readline';
import { type ImportLineError, type ImportSummary, importEntities } from '../import/entities.js';
import type { Store } from '../store/db.js';
import { COMMCELL_ID } from '../store/schema.js';
import type { Vault } from '../store/vault.js';
import { CliError, EXIT } from './errors.js';

export interface ImportFileOptions {
  partial: boolean;
  /** Each bad line, as it is found. */
  onError(e: ImportLineError): void;
  onProgress(p: { lines: number; imported: number; errors: number }): void;
  /** Seals the passwords of lines with an `account` (none: such lines are refused). */
  vault?: Vault;
}

/** The file to import is a readable file (a usage error, exit 2, otherwise). */
export function requireImportFile(file: string): void {
  let stat: fs.Stats;
  try {
    fs.accessSync(file, fs.constants.R_OK);
    stat = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CliError(`cannot read ${file}: ${why}${code ? ` (${code})` : ''}`);
  }
  if (!stat.isFile()) throw new CliError(`cannot read ${file}: not a file`);
}

/**
 * `bulwark import FILE`: the same importer as POST Entities/Import, reading
 * the file as a stream. Lines without "company" belong to the CommCell; the
 * command line may create entities in any company. Audited as the command.
 */
export async function importFile(store: Store, file: string, opts: ImportFileOptions): Promise<ImportSummary> {
  requireImportFile(file);
  const commcell = await store.db.selectFrom('companies').select('id').where('id', '=', COMMCELL_ID).executeTakeFirst();
  if (!commcell) throw new CliError('the database has no CommCell yet: start `bulwark serve` once first', EXIT.STORE);
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    return await importEntities(store, lines, {
      partial: opts.partial,
      actor: { userId: null, name: `bulwark import${opts.partial ? ' --partial' : ''}`, companyId: null },
      clock: () => new Date(),
      defaultCompanyId: COMMCELL_ID,
      access: () => 'write',
      onError: opts.onError,
      onProgress: opts.onProgress,
      source: file,
      ...(opts.vault ? { vault: opts.vault } : {}),
    });
  } finally {
    lines.close();
    input.destroy();
  }
}
