import fs from 'node:fs';
import {
  anySubclient,
  type CatalogueLineError,
  type CatalogueSummary,
  importCatalogue,
  MAX_CATALOGUE_LINE,
} from '../import/catalogue.js';
import { linesOf } from '../import/lines.js';
import type { Store } from '../store/db.js';
import { COMMCELL_ID } from '../store/schema.js';
import { CliError, EXIT } from './errors.js';
import { requireImportFile } from './import.js';

export interface CatalogueFileOptions {
  onError(e: CatalogueLineError): void;
  onProgress(p: { lines: number; jobs: number; files: number }): void;
}

/**
 * `bulwark catalogue import FILE`: the importer of POST Catalogue/Import,
 * reading the file as a stream, in one transaction. The command line may load
 * any subclient's catalogue; a subclient that does not exist is refused.
 */
export async function importCatalogueFile(
  store: Store,
  file: string,
  opts: CatalogueFileOptions,
): Promise<CatalogueSummary> {
  requireImportFile(file);
  const commcell = await store.db.selectFrom('companies').select('id').where('id', '=', COMMCELL_ID).executeTakeFirst();
  if (!commcell) throw new CliError('the database has no CommCell yet: start `bulwark serve` once first', EXIT.STORE);
  const input = fs.createReadStream(file);
  try {
    return await importCatalogue(store, linesOf(input, { maxLine: MAX_CATALOGUE_LINE }), {
      actor: { userId: null, name: 'bulwark catalogue import', companyId: null },
      clock: () => new Date(),
      auditCompanyId: COMMCELL_ID,
      subclient: anySubclient,
      onError: opts.onError,
      onProgress: opts.onProgress,
      progressEvery: 1000,
      source: file,
    });
  } finally {
    input.destroy();
  }
}
