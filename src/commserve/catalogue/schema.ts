import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const CATALOGUE_DOCS: RouteDocs = {
  'POST /Catalogue/Import': {
    summary: 'Load backup jobs into the catalogue from JSON lines (Content-Type: application/x-ndjson)',
    description:
      'One job a line; needs Data Protection on each subclient; one transaction (a bad line and nothing is loaded). Bodies up to 1 GiB.',
    root: 'CatalogueImportResp',
    bodyType: 'application/x-ndjson',
    bodyExample:
      '{"subclientId":6,"backupLevel":"Full","startTime":1795996800,"endTime":1795997400,"files":[{"path":"/var/www/index.html","size":5382,"modificationTime":1795900000,"deleted":false}]}\n' +
      '{"subclientId":6,"backupLevel":"Incremental","startTime":1796083200,"endTime":1796083500,"files":[{"path":"/var/www/report.pdf","size":1048576,"modificationTime":1796000000,"deleted":false}]}\n',
    example: {
      imported: 2,
      files: 5,
      results: [
        {
          line: 1,
          jobId: 1,
          subclientId: 5,
          files: 3,
        },
      ],
      errors: [],
    },
  },
};
