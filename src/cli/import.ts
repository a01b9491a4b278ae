import fs from 'node:fs';
import readline from 'node:readline';
import type { Store } from '../store/db.js';
import { type ImportLineError, type ImportSummary, importEntities } from '../store/entities.js';
import { COMMCELL_ID } from '../store/schema.js';
import { CliError } from './admin.js';

export interface ImportFileOptions {
  partial: boolean;
  /** Each bad line, as it is found. */
  onError(e: ImportLineError): void;
  onProgress(p: { lines: number; imported: number; errors: number }): void;
}

/**
 * `bulwark import FILE`: the same importer as POST Entities/Import, reading
 * the file as a stream. Lines without "company" belong to the CommCell; the
 * command line may create entities in any company. Audited as the command.
 */
export async function importFile(store: Store, file: string, opts: ImportFileOptions): Promise<ImportSummary> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!stat.isFile()) throw new CliError(`${file} is not a file`);
  const commcell = await store.db.selectFrom('companies').select('id').where('id', '=', COMMCELL_ID).executeTakeFirst();
  if (!commcell) throw new CliError('the database has no CommCell yet: start `bulwark serve` once first');
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
    });
  } finally {
    lines.close();
    input.destroy();
  }
}
