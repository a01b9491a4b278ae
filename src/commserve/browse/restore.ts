import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { AuthzView, EntityRef } from '../../domain/authz.js';
import { folderKey, foldsCase, requestFolderKey } from '../../domain/backup-paths.js';
import { ENTITY_TYPES, type Permission } from '../../domain/catalogue.js';
import { canSeeCompany } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import { browseItems, insertJob, maxJobId } from '../../store/catalogue.js';
import { isUniqueViolation, nameKey } from '../../store/directory.js';
import { actorOf } from '../actor.js';
import { authorize, type Requirement, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { principalOf } from '../plugin.js';
import { checkRestoreGate } from './gate.js';
import { RESTORE_SECONDS } from './jobs.js';
import { chainAbove } from './navigation.js';
import { flag, list, MAX_EPOCH, obj, whole } from './request.js';

// POST CreateTask (cvpysdk instance.py _restore_json, subclient restore_in_place
// / restore_out_of_place): a restore of chosen paths of one subclient,
// recorded as a job (Bulwark authorizes and records it; a data mover carries
// it out). In place needs In Place Restore on the subclient; out of place
// needs Out-of-Place Restore on the subclient and on the destination client.
// Every path must be in the catalogue (in the time range, if one is given).
// Both also pass the passkey gate. Every restore is audited with its outcome.

/** Paths one restore may name. */
export const MAX_RESTORE_PATHS = 1000;

const IN_PLACE: Permission = 'In Place Restore';
const OUT_OF_PLACE: Permission = 'Out-of-Place Restore';
const restores = {
  each: [IN_PLACE, OUT_OF_PLACE],
  of: 'the subclient of taskInfo.associations[0]; out of place also the destination client',
} satisfies Requirement;

/** A destination client by id or name: in the subclient's company first, then in the caller's. */
async function destinationClient(
  ctx: AppContext,
  view: AuthzView,
  p: Principal,
  dest: Record<string, unknown>,
  sourceCompany: number,
): Promise<{ ref: EntityRef; companyId: number; name: string } | null> {
  const id = whole(dest.clientId, 'destination.destClient.clientId', 0);
  if (id > 0) {
    const e = view.entity({ type: ENTITY_TYPES.client, id });
    return e ? { ref: { type: ENTITY_TYPES.client, id }, companyId: e.companyId, name: e.name } : null;
  }
  const name = typeof dest.clientName === 'string' ? dest.clientName.trim() : '';
  if (name === '' || name.length > 256) return null;
  for (const company of [...new Set([sourceCompany, p.companyId])]) {
    if (!canSeeCompany(view, p, company)) continue;
    const row = await ctx.store.db
      .selectFrom('entities')
      .select(['id', 'name'])
      .where('company_id', '=', company)
      .where('type', '=', ENTITY_TYPES.client)
      .where('name_key', '=', nameKey(name))
      .executeTakeFirst();
    if (row) return { ref: { type: ENTITY_TYPES.client, id: row.id }, companyId: company, name: row.name };
  }
  return null;
}

/** cvpysdk's entry for a version (instance.py _restore_json: `|/|#15!vErSiOnS|#15!/N`, `\\` on Windows). */
const VERSION_ENTRY = /^\|[\\/]\|#15!vErSiOnS\|#15![\\/](\d{1,9})$/;

/** A path to restore: its folder key, and the versions asked for (none: the latest in the range). */
export interface RestoreTarget {
  raw: string;
  key: string;
  versions: number[];
}

/**
 * The restore's paths. A version entry, as cvpysdk appends one per version
 * asked for after the paths, names a version of the path before it (1 is the
 * oldest in the time range, as all-versions browse numbers them); that path is
 * then restored at those versions only. A version entry before any path, or a
 * version 0, is refused.
 */
export function restoreTargets(sent: readonly unknown[]): RestoreTarget[] {
  const out: RestoreTarget[] = [];
  sent.forEach((raw, i) => {
    const shown = typeof raw === 'string' ? raw.slice(0, 100) : String(raw).slice(0, 100);
    if (typeof raw !== 'string') throw new CsError('INVALID_VALUE', `not a path to restore: ${shown}`);
    const version = VERSION_ENTRY.exec(raw);
    if (version) {
      const n = Number(version[1]);
      const last = out.at(-1);
      if (!last) throw new CsError('INVALID_VALUE', `sourceItem[${i}] names a version before any path`);
      if (n < 1) throw new CsError('INVALID_VALUE', `sourceItem[${i}]: versions are numbered from 1`);
      if (!last.versions.includes(n)) last.versions.push(n);
      return;
    }
    const key = requestFolderKey(raw);
    if (key === null || key === '/') throw new CsError('INVALID_VALUE', `not a path to restore: ${shown}`);
    out.push({ raw, key, versions: [] });
  });
  return out;
}

export function registerRestoreRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post('/CreateTask', { config: { requires: restores } }, async (req, reply) => {
    const p = principalOf(req);
    const now = ctx.clock();
    const task = obj(obj(req.body).taskInfo);
    const assoc = obj(list(task.associations)[0]);
    const subclientId = whole(assoc.subclientId, 'taskInfo.associations[0].subclientId', 0);
    if (subclientId === 0)
      throw new CsError('BAD_REQUEST', 'taskInfo.associations[0].subclientId names the subclient to restore');
    const options = obj(obj(list(task.subTasks)[0]).options);
    const restore = obj(options.restoreOptions);
    const destination = obj(restore.destination);
    const inPlace = flag(destination.inPlace, true);
    const paths = list(obj(restore.fileOption).sourceItem);
    if (paths.length === 0) throw new CsError('BAD_REQUEST', 'restoreOptions.fileOption.sourceItem lists no path');
    if (paths.length > MAX_RESTORE_PATHS) {
      throw new CsError('BAD_REQUEST', `a restore names at most ${MAX_RESTORE_PATHS} paths`);
    }
    const versions: Array<{ path: string; version: number; jobId: number }> = [];
    const range = obj(obj(restore.browseOption).timeRange);
    const fromTime = whole(range.fromTime, 'browseOption.timeRange.fromTime', 0, 0, MAX_EPOCH);
    const toTime =
      whole(range.toTime, 'browseOption.timeRange.toTime', 0, 0, MAX_EPOCH) || Math.floor(now.getTime() / 1000);
    const destPath = list(destination.destPath).find((x) => typeof x === 'string' && x !== '') as string | undefined;

    const view = await viewOf(req);
    const ref = { type: ENTITY_TYPES.subclient, id: subclientId };
    const subclient = view.entity(ref);
    const companyId = subclient ? subclient.companyId : null;
    const chain = subclient && (await chainAbove(ctx.store.db, view, subclient));
    const shownPaths = paths.slice(0, 100).map((x) => (typeof x === 'string' ? x.slice(0, 1000) : String(x)));
    let destName: string | null = null;
    const audit = (outcome: 'success' | 'failure', details: Record<string, unknown>, reason = '') =>
      ctx.store.db.transaction().execute((tx) =>
        appendAudit(tx, {
          actor: actorOf(p),
          companyId: companyId ?? p.companyId,
          operation: 'restore',
          targetType: String(ENTITY_TYPES.subclient),
          targetId: subclientId,
          targetName: subclient?.name ?? '',
          outcome,
          reason,
          details: {
            paths: shownPaths,
            pathCount: paths.length,
            inPlace,
            destClient: destName,
            destPath: destPath ?? null,
            ...details,
          },
          sourceAddr: req.ip,
          at: now,
        }),
      );
    try {
      if (companyId === null) throw new CsError('NOT_FOUND', `no subclient with id ${subclientId}`);
      await authorize(req, p, inPlace ? IN_PLACE : OUT_OF_PLACE, ref, companyId);
      let dest = null;
      if (!inPlace) {
        dest = await destinationClient(ctx, view, p, obj(destination.destClient), companyId);
        if (!dest) throw new CsError('NOT_FOUND', 'unknown destination client');
        destName = dest.name;
        await authorize(req, p, OUT_OF_PLACE, dest.ref, dest.companyId);
        if (!destPath) throw new CsError('BAD_REQUEST', 'an out-of-place restore needs destination.destPath');
      }
      await checkRestoreGate(ctx.store.db, view, ref, now);
      // Every path must be something the catalogue holds in the range; each version asked for, that version.
      const targets = restoreTargets(paths);
      const foldCase = chain !== null && foldsCase(chain.os, chain.appId);
      for (const t of targets) {
        const parts = t.key.split('/').filter((c) => c !== '');
        const found = (offset: number) =>
          browseItems(ctx.store.db, {
            dialect: ctx.store.dialect,
            subclientIds: [subclientId],
            fromTime,
            toTime,
            folders: [],
            items: [{ folder: folderKey(parts, parts.length - 1), name: parts.at(-1) as string }],
            mode: 'versions',
            foldCase,
            showDeleted: true,
            offset,
            limit: 1,
          });
        const all = await found(0);
        if (all.total === 0)
          throw new CsError('NOT_FOUND', `${t.raw.slice(0, 100)} is not in the catalogue of this subclient`);
        for (const v of t.versions) {
          // Newest first, so version N of `total` is at offset total − N.
          const row = v <= all.total ? (await found(all.total - v)).rows[0] : undefined;
          if (!row) {
            throw new CsError(
              'NOT_FOUND',
              `${t.raw.slice(0, 100)} has no version ${v} in the time range (it has ${all.total})`,
            );
          }
          versions.push({ path: t.raw.slice(0, 1000), version: v, jobId: row.job_id });
        }
      }
    } catch (e) {
      if (e instanceof CsError && (e.kind !== 'NOT_FOUND' || companyId !== null)) await audit('failure', {}, e.message);
      throw e;
    }
    const start = Math.floor(now.getTime() / 1000);
    let jobId = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        jobId = await ctx.store.db.transaction().execute(async (tx) => {
          const id = (await maxJobId(tx)) + 1;
          await insertJob(tx, {
            id,
            company_id: companyId,
            subclient_id: subclientId,
            job_type: 'Restore',
            backup_level: null,
            start_time: start,
            end_time: start + RESTORE_SECONDS,
            user_name: actorOf(p).name,
            details: JSON.stringify({
              paths: shownPaths,
              inPlace,
              destClient: destName,
              destPath: destPath ?? null,
              fromTime,
              toTime,
              ...(versions.length ? { versions } : {}),
            }),
            created_at: now.toISOString(),
          });
          await appendAudit(tx, {
            actor: actorOf(p),
            companyId,
            operation: 'restore',
            targetType: String(ENTITY_TYPES.subclient),
            targetId: subclientId,
            targetName: subclient?.name ?? '',
            outcome: 'success',
            details: {
              jobId: id,
              paths: shownPaths,
              ...(versions.length ? { versions: versions.slice(0, 100) } : {}),
              pathCount: paths.length,
              inPlace,
              destClient: destName,
              destPath: destPath ?? null,
            },
            sourceAddr: req.ip,
            at: now,
          });
          return id;
        });
        break;
      } catch (e) {
        // Two restores took the same next id on PostgreSQL: take the next one.
        if (!isUniqueViolation(e) || attempt >= 4) throw e;
      }
    }
    return sendCs(req, reply, 'TMMsg_CreateTaskResp', { jobIds: [String(jobId)] });
  });
}
