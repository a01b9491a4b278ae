import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { appIdOf } from '../../domain/agents.js';
import type { AuthzView, EntityRef } from '../../domain/authz.js';
import { foldAscii, folderKey, foldsCase, requestFolderKey } from '../../domain/backup-paths.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import type { Principal } from '../../domain/principal.js';
import {
  attributesOf,
  type BrowseItem,
  type BrowseQuery,
  browseItems,
  type SizeFilter,
} from '../../store/catalogue.js';
import type { Executor } from '../../store/db.js';
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

/** The most paths one browse names (cvpysdk sends one; a find may send several). */
export const MAX_BROWSE_PATHS = 100;

export interface BrowseRequest {
  mode: 'browse' | 'find' | 'versions';
  ref: EntityRef;
  /** The paths as sent (the top when none is). */
  paths: string[];
  fromTime: number;
  toTime: number;
  showDeleted: boolean;
  offset: number;
  limit: number;
  nameLike?: string;
  sizes: SizeFilter[];
}

/** FileName filters as LIKE: `*` any run, `?` one character; LIKE's own characters escaped. */
function likeOf(pattern: string): string {
  return foldAscii(pattern)
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

/**
 * FileSize's dataOperator as cvpysdk sends it (find's file_size_gt → GTE,
 * file_size_lt → LTE, file_size_et → EQUALSBLAH, its own spelling of equals),
 * and the product's strict forms.
 */
const SIZE_OPS: Readonly<Record<string, SizeFilter['op']>> = {
  GT: '>',
  GTE: '>=',
  LT: '<',
  LTE: '<=',
  EQUALS: '=',
  EQUALSBLAH: '=',
};

/** Whole bytes, from 0 to 2^53 − 1, as a number or digit string. */
function bytesOf(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CsError('BAD_REQUEST', "a FileSize filter's value must be a whole number of bytes from 0 to 2^53 - 1");
  }
  return n;
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
  const sent = list(b.paths);
  if (sent.length > MAX_BROWSE_PATHS)
    throw new CsError('BAD_REQUEST', `a browse names at most ${MAX_BROWSE_PATHS} paths`);
  const paths = sent.map((p, i) => {
    const path = obj(p).path;
    if (typeof path !== 'string') throw new CsError('BAD_REQUEST', `paths[${i}].path must be a path`);
    return path;
  });
  if (paths.length === 0) paths.push('\\');
  const range = obj(b.timeRange);
  const fromTime = whole(range.fromTime, 'timeRange.fromTime', 0, 0, MAX_EPOCH);
  let toTime = whole(range.toTime, 'timeRange.toTime', 0, 0, MAX_EPOCH);
  if (toTime === 0) toTime = Math.floor(now.getTime() / 1000);
  const query = obj(list(b.queries)[0]);
  const paging = obj(obj(query.dataParam).paging);
  const offset = whole(paging.skipNode, 'paging.skipNode', 0);
  const limit = Math.min(whole(paging.pageSize, 'paging.pageSize', 1000, 1), MAX_BROWSE_PAGE);
  let nameLike: string | undefined;
  const sizes: SizeFilter[] = [];
  const where = list(query.whereClause);
  if (where.length > 16) throw new CsError('BAD_REQUEST', 'a browse takes at most 16 whereClause filters');
  for (const w of where) {
    const c = obj(obj(w).criteria);
    const value = list(c.values)[0];
    if (c.field === 'FileName') {
      if (typeof value !== 'string' || value.length > 1000) {
        throw new CsError('BAD_REQUEST', "a FileName filter's value must be a pattern of at most 1000 characters");
      }
      nameLike = likeOf(value);
    } else if (c.field === 'FileSize') {
      const op = typeof c.dataOperator === 'string' ? SIZE_OPS[c.dataOperator.toUpperCase()] : undefined;
      if (!op) {
        throw new CsError(
          'BAD_REQUEST',
          `a FileSize filter's dataOperator must be one of ${Object.keys(SIZE_OPS).join(', ')}`,
        );
      }
      sizes.push({ op, bytes: bytesOf(value) });
    } else {
      throw new CsError('BAD_REQUEST', 'whereClause filters are FileName or FileSize');
    }
  }
  return {
    mode,
    ref,
    paths,
    fromTime,
    toTime,
    showDeleted: flag(obj(b.options).showDeletedFiles) || mode === 'versions',
    offset,
    limit,
    nameLike,
    sizes,
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
function subclientsOf(view: AuthzView, p: Principal, ref: EntityRef): number[] {
  if (ref.type === ENTITY_TYPES.subclient) return [ref.id];
  return view
    .descendantsOf(ref, ENTITY_TYPES.subclient)
    .filter((id) => view.allowed(p.userId, 'Browse', { type: ENTITY_TYPES.subclient, id }));
}

/**
 * Whether the paths of what a browse names compare without case: by its
 * client's OS and its agent's application id. The client and agent are read
 * up the permission view; only their stored attributes come from the store.
 */
async function foldsCaseOf(db: Executor, view: AuthzView, ref: EntityRef): Promise<boolean> {
  const client = view.ancestorOf(ref, ENTITY_TYPES.client);
  const agent = view.ancestorOf(ref, ENTITY_TYPES.agent);
  if (!client || !agent) return false;
  const attrs = await attributesOf(db, [client.id, agent.id]);
  const os = attrs.get(client.id)?.os ?? null;
  return foldsCase(os, appIdOf(attrs.get(agent.id)?.appId, agent.name, os));
}

/**
 * What the request's paths select. Browse: the children of each folder named.
 * Find: everything beneath each, where a path's wildcard part (cvpysdk finds
 * under `\\**\\*`) starts at its first component with `*` or `?` and a last
 * component other than `*`/`**` is a name pattern (the FileName filter, when
 * sent, is the pattern instead; paths with different patterns, a path without
 * one among them, are refused).
 * All versions: every version of each item named. Overlaps give an item once.
 */
export function browseScope(q: BrowseRequest): Pick<BrowseQuery, 'folders' | 'items' | 'nameLike'> {
  const folders = new Set<string>();
  const items: Array<{ folder: string; name: string }> = [];
  const patterns = new Set<string>();
  q.paths.forEach((raw, i) => {
    const key = requestFolderKey(raw);
    if (key === null) throw new CsError('INVALID_VALUE', `paths[${i}].path is not a path`);
    const parts = key.split('/').filter((c) => c !== '');
    if (q.mode === 'versions') {
      if (parts.length === 0) throw new CsError('INVALID_VALUE', 'all versions needs the path of a file or folder');
      items.push({ folder: folderKey(parts, parts.length - 1), name: parts.at(-1) as string });
      return;
    }
    const wild = q.mode === 'find' ? parts.findIndex((c) => /[*?]/.test(c)) : -1;
    if (wild < 0) {
      folders.add(key);
      if (q.mode === 'find') patterns.add('');
      return;
    }
    folders.add(folderKey(parts, wild));
    const last = parts.at(-1) as string;
    patterns.add(last === '*' || last === '**' ? '' : likeOf(last));
  });
  if (q.nameLike === undefined && patterns.size > 1) {
    throw new CsError('INVALID_VALUE', 'the paths of one find name different patterns: send one find per pattern');
  }
  return { folders: [...folders], items, nameLike: q.nameLike ?? ([...patterns][0] || undefined) };
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
            paths: q.paths.slice(0, 20).map((x) => x.slice(0, 1000)),
            pathCount: q.paths.length,
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
    const scope = browseScope(q);
    const { rows, total } = await browseItems(ctx.store.db, {
      dialect: ctx.store.dialect,
      subclientIds: subclientsOf(view, p, q.ref),
      fromTime: q.fromTime,
      toTime: q.toTime,
      mode: q.mode,
      ...scope,
      sizes: q.sizes,
      foldCase: await foldsCaseOf(ctx.store.db, view, q.ref),
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
            // All versions: each item's newest is its highest version number.
            dataResultSet: rows.map((r) => ({
              ...resultOf(r),
              ...(r.version !== undefined ? { version: r.version } : {}),
            })),
          },
        },
      ],
    });
  });
}
