import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { AuthzView } from '../../domain/authz.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import { getJob, type JobFilter, type JobRow, listJobs } from '../../store/catalogue.js';
import { companyIds } from '../../store/directory.js';
import { pathId } from '../actor.js';
import { listScope, type Requirement, type Target, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { principalOf } from '../plugin.js';
import { chainAbove, subClientEntity } from './navigation.js';
import { list, MAX_EPOCH, obj, whole } from './request.js';

// Jobs as cvpysdk's Job and JobController read them (job.py): GET Job/{id},
// POST JobDetails {"jobId"}, POST Jobs. A backup job of the catalogue is
// Completed; a restore job made by CreateTask runs through its states on the
// app's clock: Pending for its first second, Running until RESTORE_SECONDS,
// then Completed. Seeing a job takes View on its subclient.

/** How long a recorded restore job runs, in seconds of the app's clock. */
export const RESTORE_SECONDS = 5;
/** The largest page of POST Jobs. */
export const MAX_JOBS_PAGE = 1000;

export interface JobState {
  status: 'Pending' | 'Running' | 'Completed';
  percentComplete: number;
  endTime: number;
}

/** Where a job stands at `now` (epoch seconds). */
export function jobState(job: Pick<JobRow, 'job_type' | 'start_time' | 'end_time'>, now: number): JobState {
  const start = Number(job.start_time);
  const end = Number(job.end_time);
  if (job.job_type !== 'Restore' || now >= end) return { status: 'Completed', percentComplete: 100, endTime: end };
  if (now < start + 1) return { status: 'Pending', percentComplete: 0, endTime: 0 };
  return {
    status: 'Running',
    percentComplete: Math.min(99, Math.floor(((now - start) * 100) / Math.max(1, end - start))),
    endTime: 0,
  };
}

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/** The job a request names (path id, or the body's jobId), as the entity that decides who sees it: its subclient. */
const jobTarget: Target = async (req, _view, ctx) => {
  const id = pathId(req) ?? digits(obj(req.body).jobId);
  if (id === null) return null;
  const job = await getJob(ctx.store.db, id);
  if (!job) return null;
  req.job = job;
  return { type: ENTITY_TYPES.subclient, id: job.subclient_id };
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The job the route's requirement resolved. */
    job?: JobRow;
  }
}

const digits = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 2 ** 31) return v;
  return typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : null;
};

const seesJob = { permission: 'View', on: jobTarget } satisfies Requirement;

async function summaryOf(ctx: AppContext, view: AuthzView, job: JobRow) {
  const s = view.entity({ type: ENTITY_TYPES.subclient, id: job.subclient_id });
  const chain = s && (await chainAbove(ctx.store.db, view, s));
  const state = jobState(job, epoch(ctx.clock()));
  const details = JSON.parse(job.details || '{}') as Record<string, unknown>;
  return {
    jobId: job.id,
    isVisible: true,
    status: state.status,
    localizedStatus: state.status,
    jobType: job.job_type,
    localizedOperationName: job.job_type,
    backupLevelName: job.backup_level ?? '',
    appTypeName: chain?.appName ?? '',
    jobStartTime: Number(job.start_time),
    jobEndTime: state.endTime,
    jobElapsedTime: (state.endTime || epoch(ctx.clock())) - Number(job.start_time),
    lastUpdateTime: state.endTime || Number(job.start_time),
    percentComplete: state.percentComplete,
    pendingReason: '',
    userName: { userName: job.user_name },
    destClientName: (details.destClient as string | undefined) ?? chain?.client.name ?? '',
    subclient: chain && s ? subClientEntity(chain, s) : { subclientId: job.subclient_id },
  };
}

export function registerJobRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/Job/:id', { config: { requires: seesJob } }, async (req, reply) => {
    const job = req.job as JobRow;
    return sendCs(req, reply, 'JM_JobManagerResp', {
      totalRecordsWithoutPaging: 1,
      jobs: [{ jobSummary: await summaryOf(ctx, await viewOf(req), job) }],
    });
  });

  app.post('/JobDetails', { config: { requires: seesJob } }, async (req, reply) => {
    const job = req.job as JobRow;
    const summary = await summaryOf(ctx, await viewOf(req), job);
    const details = JSON.parse(job.details || '{}') as Record<string, unknown>;
    return sendCs(req, reply, 'JM_JobDetailsResp', {
      job: {
        jobDetail: {
          generalInfo: {
            jobId: job.id,
            operationType: job.job_type,
            jobStatus: summary.status,
            subclient: summary.subclient,
            startTime: summary.jobStartTime,
            endTime: summary.jobEndTime,
          },
          progressInfo: {
            percentComplete: summary.percentComplete,
            numOfFilesTransferred: summary.status === 'Completed' ? list(details.paths).length : 0,
          },
          detailInfo: { startTime: summary.jobStartTime, endTime: summary.jobEndTime, paths: list(details.paths) },
        },
      },
    });
  });

  app.post(
    '/Jobs',
    { config: { requires: { signedIn: 'lists only the jobs of subclients the caller holds View on' } } },
    async (req, reply) => {
      const p = principalOf(req);
      if (!p) throw new CsError('NOT_AUTHENTICATED');
      const body = obj(req.body);
      const paging = obj(body.pagingConfig);
      const offset = whole(paging.offset, 'pagingConfig.offset', 0);
      const limit = whole(paging.limit, 'pagingConfig.limit', 100, 1, MAX_JOBS_PAGE);
      const view = await viewOf(req);
      const filter = readJobFilter(body, view, epoch(ctx.clock()));
      const scope = await visibleJobs(req, view, ctx);
      const { rows, total } = await listJobs(ctx.store.db, { scope, filter, offset, limit });
      const jobs = [];
      for (const j of rows) jobs.push({ jobSummary: await summaryOf(ctx, view, j) });
      return sendCs(req, reply, 'JM_JobManagerResp', { totalRecordsWithoutPaging: total, jobs });
    },
  );
}

/** The most clients one POST Jobs filters on. */
export const MAX_JOB_CLIENTS = 1000;
const CATEGORIES = ['all', 'active', 'finished'] as const;
/** The job types Bulwark records, by the product's name in any case (any other type matches no job). */
const JOB_TYPES: Readonly<Record<string, 'Backup' | 'Restore'>> = { backup: 'Backup', restore: 'Restore' };

/**
 * POST Jobs' body as cvpysdk's JobController sends it: `category` 0 all, 1
 * active, 2 finished; `pagingConfig.sortDirection` 1 newest first (the
 * default), 0 oldest first, `sortField` jobId; `jobFilter.completedJobLookupTime`
 * seconds (finished jobs that ended longer ago are left out; 0 or absent: no
 * limit), `clientList` [{clientId}] (only those clients' jobs; a client the
 * caller cannot see matches nothing), `jobTypeList` (Backup, Restore; other
 * types match nothing). `showAgedJobs` and `hideAdminJobs` change nothing:
 * Bulwark keeps no aged or admin jobs. `jobFilter.entity` is refused.
 */
export function readJobFilter(body: Record<string, unknown>, view: AuthzView, now: number): JobFilter {
  const category = CATEGORIES[whole(body.category, 'category', 0, 0, 2)] as JobFilter['category'];
  const paging = obj(body.pagingConfig);
  const direction = whole(paging.sortDirection, 'pagingConfig.sortDirection', 1, 0, 1);
  if (paging.sortField !== undefined && paging.sortField !== 'jobId') {
    throw new CsError('BAD_REQUEST', 'pagingConfig.sortField: jobs sort by jobId only');
  }
  const jf = obj(body.jobFilter);
  if (jf.entity !== undefined) throw new CsError('BAD_REQUEST', 'jobFilter.entity is not supported: use clientList');
  const lookup = whole(jf.completedJobLookupTime, 'jobFilter.completedJobLookupTime', 0, 0, MAX_EPOCH);
  const filter: JobFilter = {
    category,
    now,
    ascending: direction === 0,
    ...(lookup > 0 ? { endedSince: now - lookup } : {}),
  };
  const clients = list(jf.clientList);
  if (clients.length > MAX_JOB_CLIENTS) {
    throw new CsError('BAD_REQUEST', `jobFilter.clientList names at most ${MAX_JOB_CLIENTS} clients`);
  }
  if (clients.length > 0) {
    const ids = new Set<number>();
    clients.forEach((c, i) => {
      const id = whole(obj(c).clientId, `jobFilter.clientList[${i}].clientId`, 0, 1);
      for (const s of view.descendantsOf({ type: ENTITY_TYPES.client, id }, ENTITY_TYPES.subclient)) ids.add(s);
    });
    filter.subclientIds = [...ids];
  }
  const types = list(jf.jobTypeList);
  if (types.length > 100) throw new CsError('BAD_REQUEST', 'jobFilter.jobTypeList names at most 100 types');
  if (types.length > 0) {
    filter.types = [
      ...new Set(
        types.map((x, i) => {
          if (typeof x !== 'string' || x.length > 100) {
            throw new CsError('BAD_REQUEST', `jobFilter.jobTypeList[${i}] must be a job type's name`);
          }
          return JOB_TYPES[x.trim().toLowerCase()];
        }),
      ),
    ].filter((x): x is 'Backup' | 'Restore' => x !== undefined);
  }
  return filter;
}

/** Every job with View on the CommCell; else the companies' where the caller holds View, and its own company's visible subclients'. */
async function visibleJobs(req: FastifyRequest, view: AuthzView, ctx: AppContext) {
  const p = principalOf(req);
  const scope = await listScope(req, p, 'View', () => companyIds(ctx.store.db));
  if (scope.all) return undefined;
  const subclientIds: number[] = [];
  if (!scope.companies.includes(p.companyId)) {
    for (const id of view.entitiesOf(p.companyId, ENTITY_TYPES.subclient))
      if (view.allowed(p.userId, 'View', { type: ENTITY_TYPES.subclient, id })) subclientIds.push(id);
  }
  return { companies: scope.companies, subclientIds };
}
