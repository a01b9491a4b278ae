import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { AuthzView } from '../../domain/authz.js';
import { ENTITY_TYPES, type Permission } from '../../domain/catalogue.js';
import { canSeeCompany } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import {
  type CatalogueLineError,
  type CatalogueResult,
  importCatalogue,
  MAX_CATALOGUE_LINE,
  MAX_LISTED_ERRORS,
  type SubclientAccess,
} from '../../import/catalogue.js';
import { linesOf, TooLargeError } from '../../import/lines.js';
import { isUniqueViolation } from '../../store/directory.js';
import { actorOf } from '../actor.js';
import type { Requirement } from '../authorize.js';
import { viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CS_ERRORS, CsError, type CsErrorName } from '../errors.js';
import { principalOf } from '../plugin.js';

// POST Catalogue/Import: the backup catalogue, one job a line (see
// src/import/catalogue.ts). Loading a subclient's jobs is a data-protection
// act (it records backups of that subclient), so each line needs Data
// Protection on its subclient; another company's subclient is "unknown".

/** The largest catalogue body, for this route only (the others keep BULWARK_BODY_LIMIT): 1 GiB. */
export const CATALOGUE_BODY_LIMIT = 1024 * 1024 * 1024;

const LOAD: Permission = 'Data Protection';

const CODE_OF: Record<CatalogueLineError['kind'], CsErrorName> = {
  invalid: 'INVALID_VALUE',
  'not-found': 'NOT_FOUND',
  forbidden: 'INSUFFICIENT_PRIVILEGES',
  exists: 'ALREADY_EXISTS',
};
const loadsCatalogue = { each: [LOAD], of: "each line's subclient" } satisfies Requirement;

export interface CatalogueImportReply {
  imported: number;
  files: number;
  results: Array<{ line: number; jobId: number; subclientId: number; files: number }>;
  errors: Array<{ line: number; errorCode: number; message: string }>;
  /** Errors beyond those listed. */
  moreErrors?: number;
}

/** May `p` load the catalogue of subclient `id`? */
export function subclientAccess(view: AuthzView, p: Principal): (id: number) => SubclientAccess {
  return (id) => {
    const ref = { type: ENTITY_TYPES.subclient, id };
    const e = view.entity(ref);
    if (!e || e.type !== ENTITY_TYPES.subclient || !canSeeCompany(view, p, e.companyId)) {
      return { ok: false, kind: 'not-found' };
    }
    return view.allowed(p.userId, LOAD, ref) ? { ok: true, companyId: e.companyId } : { ok: false, kind: 'forbidden' };
  };
}

export function registerCatalogueRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.register(async (scope) => {
    // The body is read as a stream, line by line, inside the import's transaction.
    scope.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));

    scope.post(
      '/Catalogue/Import',
      { bodyLimit: CATALOGUE_BODY_LIMIT, config: { requires: loadsCatalogue } },
      async (req, reply) => {
        const p = principalOf(req);
        const body = req.body as Readable | undefined;
        if (!body || typeof (body as Readable).pipe !== 'function') {
          throw new CsError('UNSUPPORTED_MEDIA_TYPE', 'send the catalogue as application/x-ndjson, one job a line');
        }
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > CATALOGUE_BODY_LIMIT) throw new CsError('BODY_TOO_LARGE');
        const view = await viewOf(req);
        const results: CatalogueImportReply['results'] = [];
        const errors: CatalogueLineError[] = [];
        const refusals: CatalogueLineError[] = [];
        let errorCount = 0;
        let summary: Awaited<ReturnType<typeof importCatalogue>>;
        try {
          summary = await importCatalogue(
            ctx.store,
            linesOf(body, { maxLine: MAX_CATALOGUE_LINE, maxBytes: CATALOGUE_BODY_LIMIT }),
            {
              actor: actorOf(p),
              sourceAddr: req.ip,
              clock: ctx.clock,
              auditCompanyId: p.companyId,
              subclient: subclientAccess(view, p),
              onResult: (r: CatalogueResult) => results.push(r),
              onError: (e) => {
                errorCount++;
                if (errors.length < MAX_LISTED_ERRORS) errors.push(e);
                if (e.kind === 'forbidden' || e.kind === 'not-found') refusals.push(e);
              },
            },
          );
        } catch (e) {
          if (e instanceof TooLargeError) throw new CsError('BODY_TOO_LARGE');
          if (isUniqueViolation(e))
            throw new CsError('ALREADY_EXISTS', 'a job id was taken by a concurrent import; try again');
          throw e;
        }
        // Refused lines are security events, audited as refusals (coalesced) besides the import's own record.
        for (const e of refusals.slice(0, 20))
          await req.refused?.(new CsError(CODE_OF[e.kind], e.message), `line ${e.line}`);
        const out: CatalogueImportReply = {
          imported: summary.jobs,
          files: summary.files,
          results: summary.committed ? results : [],
          errors: errors.map((e) => ({ line: e.line, errorCode: CS_ERRORS[CODE_OF[e.kind]].code, message: e.message })),
          ...(errorCount > errors.length ? { moreErrors: errorCount - errors.length } : {}),
        };
        return sendCs(req, reply, 'CatalogueImportResp', out as unknown as Record<string, unknown>);
      },
    );
  });
}
