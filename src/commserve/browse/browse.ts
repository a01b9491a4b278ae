import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { EntityRef } from '../../domain/authz.js';
import { folderKey, requestFolderKey } from '../../domain/backup-paths.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import type { Principal } from '../../domain/principal.js';
import { type BrowseItem, browseItems } from '../../store/catalogue.js';
import { actorOf } from '../actor.js';
import { authorize, type Requirement, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { principalOf } from '../plugin.js';
import { checkRestoreGate } from './gate.js';
import { flag, list, MAX_EPOCH, obj, whole } from './request.js';

// POST DoBrowse (cvpysdk backupset.py _prepare_browse_json / _process_browse_response):
// browse a folder (opType 0), find beneath it (1, with FileName filters), or
// every version of one item (2), in the jobs that ended in the time range.
// Needs Browse on the subclient (or, without a subclientId, on the backup
// set, browsing all its subclients) and an open authorize-for-restore window
// where a passkey guards it. Every browse is audited with its outcome.

/** The largest page a browse returns; cvpysdk asks for 100 000 by default, and larger pages are cut to this. */
export const MAX_BROWSE_PAGE = 10_000;

const browses = { each: ['Browse'], of: 'the subclient (or backup set) the body names' } satisfies Requirement;

const OP = { 0: 'browse', 1: 'find', 2: 'versions' } as const;

export interface BrowseRequest {
  mode: 'browse' | 'find' | 'versions';
  ref: EntityRef;
  path: string;
  fromTime: number;
  toTime: number;
  showDeleted: boolean;
  offset: number;
  limit: number;
  nameLike?: string;
}

/** FileName filters as LIKE: `*` any run, `?` one character; LIKE's own characters escaped. */
function likeOf(pattern: string): string {
  return pattern
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

export function readBrowse(body: unknown, now: Date): BrowseRequest {
  const b = obj(body);
  const op = whole(b.opType, 'opType', 0, 0, 7);
  const mode = OP[op as keyof typeof OP];
  if (!mode) throw new CsError('INVALID_VALUE', `opType ${op} is not supported: 0 browse, 1 find, 2 all versions`);
  const entity = obj(b.entity);
  const subclientId = whole(entity.subclientId, 'entity.subclientId', 0);
  const backupsetId = whole(entity.backupsetId, 'entity.backupsetId', 0);
  let ref: EntityRef;
  if (subclientId > 0) ref = { type: ENTITY_TYPES.subclient, id: subclientId };
  else if (backupsetId > 0) ref = { type: ENTITY_TYPES.backupSet, id: backupsetId };
  else throw new CsError('BAD_REQUEST', 'entity.subclientId (or entity.backupsetId) names what to browse');
  const paths = list(b.paths).map((p) => obj(p).path);
  const first = paths[0] ?? '\\';
  if (typeof first !== 'string') throw new CsError('BAD_REQUEST', 'paths[0].path must be a path');
  const range = obj(b.timeRange);
  const fromTime = whole(range.fromTime, 'timeRange.fromTime', 0, 0, MAX_EPOCH);
  let toTime = whole(range.toTime, 'timeRange.toTime', 0, 0, MAX_EPOCH);
  if (toTime === 0) toTime = Math.floor(now.getTime() / 1000);
  const query = obj(list(b.queries)[0]);
  const paging = obj(obj(query.dataParam).paging);
  const offset = whole(paging.skipNode, 'paging.skipNode', 0);
  const limit = Math.min(whole(paging.pageSize, 'paging.pageSize', 1000, 1), MAX_BROWSE_PAGE);
  let nameLike: string | undefined;
  for (const w of list(query.whereClause)) {
    const c = obj(obj(w).criteria);
    const value = list(c.values)[0];
    if (c.field === 'FileName' && typeof value === 'string' && value.length <= 1000) nameLike = likeOf(value);
  }
  return {
    mode,
    ref,
    path: first,
    fromTime,
    toTime,
    showDeleted: flag(obj(b.options).showDeletedFiles) || mode === 'versions',
    offset,
    limit,
    nameLike,
  };
}

/** One catalogue item as cvpysdk reads it: displayName, name, path, size, modificationTime, flags, advancedData. */
export function resultOf(i: BrowseItem) {
  return {
    displayName: i.name,
    name: i.name,
    path: i.path,
    size: i.size,
    modificationTime: i.mtime,
    flags: { file: i.is_folder === 0, directory: i.is_folder === 1, deleted: i.deleted === 1 },
    advancedData: { backupTime: i.backup_time, jobId: i.job_id, subclientID: i.subclient_id, sizeOnMedia: i.size },
  };
}

/** An error as cvpysdk reads a browse failure (browseResponses[0].messages[0]), besides the usual errorCode. */
const browseError = (code: number, message: string): [string, Record<string, unknown>] => [
  'DM2ContentIndexing_CVSearchResp',
  {
    errorCode: code,
    errorMessage: message,
    browseResponses: [{ respType: 3, messages: [{ errorCode: code, errorMessage: message }] }],
  },
];

/** The subclients a browse looks in: the one named, or every subclient of the backup set the caller may browse. */
async function subclientsOf(req: FastifyRequest, p: Principal, ref: EntityRef, ctx: AppContext): Promise<number[]> {
  if (ref.type === ENTITY_TYPES.subclient) return [ref.id];
  const view = await viewOf(req);
  const rows = await ctx.store.db
    .selectFrom('entities')
    .select('id')
    .where('parent_id', '=', ref.id)
    .where('type', '=', ENTITY_TYPES.subclient)
    .execute();
  return rows.map((r) => r.id).filter((id) => view.allowed(p.userId, 'Browse', { type: ENTITY_TYPES.subclient, id }));
}

export function registerBrowseRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post('/DoBrowse', { config: { requires: browses, errorReply: browseError } }, async (req, reply) => {
    const p = principalOf(req);
    const now = ctx.clock();
    const q = readBrowse(req.body, now);
    const view = await viewOf(req);
    const companyId = view.companyOf(q.ref);
    const audit = (outcome: 'success' | 'failure', details: Record<string, unknown>, reason = '') =>
      ctx.store.db.transaction().execute((tx) =>
        appendAudit(tx, {
          actor: actorOf(p),
          companyId: companyId ?? p.companyId,
          operation: 'browse',
          targetType: String(q.ref.type),
          targetId: q.ref.id,
          targetName: view.entity(q.ref)?.name ?? '',
          outcome,
          reason,
          details: {
            opType: q.mode,
            paths: [q.path.slice(0, 1000)],
            fromTime: q.fromTime,
            toTime: q.toTime,
            ...details,
          },
          sourceAddr: req.ip,
          at: now,
        }),
      );
    try {
      if (companyId === null || !view.entity(q.ref)) throw new CsError('NOT_FOUND', `no subclient with id ${q.ref.id}`);
      await authorize(req, p, 'Browse', q.ref, companyId);
      await checkRestoreGate(ctx.store.db, view, q.ref, now);
    } catch (e) {
      // Another company's subclient is no event of its own: the refusal audit records the probe.
      if (e instanceof CsError && (e.kind !== 'NOT_FOUND' || companyId !== null)) await audit('failure', {}, e.message);
      throw e;
    }
    const key = requestFolderKey(q.path);
    if (key === null) throw new CsError('INVALID_VALUE', 'paths[0].path is not a path');
    let folder = key;
    let name: string | undefined;
    let nameLike = q.nameLike;
    if (q.mode === 'find') {
      // cvpysdk finds under `\\**\\*`: the folder is the part before the first wildcard.
      const parts = key.split('/').filter((c) => c !== '');
      const wild = parts.findIndex((c) => /[*?]/.test(c));
      if (wild >= 0) {
        folder = folderKey(parts, wild);
        const last = parts.at(-1) as string;
        if (nameLike === undefined && last !== '*' && last !== '**') nameLike = likeOf(last);
      }
    }
    if (q.mode === 'versions') {
      const parts = key.split('/').filter((c) => c !== '');
      if (parts.length === 0) throw new CsError('INVALID_VALUE', 'all versions needs the path of a file or folder');
      name = parts.at(-1);
      folder = folderKey(parts, parts.length - 1);
    }
    const subclientIds = await subclientsOf(req, p, q.ref, ctx);
    const { rows, total } = await browseItems(ctx.store.db, {
      subclientIds,
      fromTime: q.fromTime,
      toTime: q.toTime,
      folder,
      mode: q.mode,
      nameLike,
      name,
      showDeleted: q.showDeleted,
      offset: q.offset,
      limit: q.limit,
    });
    await audit('success', { returned: rows.length, total });
    return sendCs(req, reply, 'DM2ContentIndexing_CVSearchResp', {
      browseResponses: [
        {
          respType: 0,
          workflowType: 1,
          browseResult: {
            totalItemsFound: total,
            // All versions: the newest is the highest version number.
            dataResultSet: rows.map((r, i) => ({
              ...resultOf(r),
              ...(q.mode === 'versions' ? { version: total - q.offset - i } : {}),
            })),
          },
        },
      ],
    });
  });
}
