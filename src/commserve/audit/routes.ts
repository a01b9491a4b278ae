import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { queryAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { COMMCELL } from '../../domain/permissions.js';
import { allows, onOwnCompany } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { PagingQuery, readPaging } from '../paging.js';
import { principalOf } from '../plugin.js';

const Time = Type.String({ maxLength: 40 });
/** Ids both stores bind as integers (1e20 made PostgreSQL answer 500). */
const Id = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

export const AuditTrailQuery = Type.Object({
  fromTime: Type.Optional(Time),
  toTime: Type.Optional(Time),
  userId: Type.Optional(Id),
  userName: Type.Optional(Type.String({ maxLength: 300 })),
  companyId: Type.Optional(Id),
  operation: Type.Optional(Type.String({ maxLength: 100 })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  ...PagingQuery.properties,
});
export type AuditTrailQuery = Static<typeof AuditTrailQuery>;

/** Epoch seconds (as the product sends them) or an ISO-8601 time, to our ISO form. */
export function parseTime(raw: string | undefined, field: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d{1,12}$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new CsError('BAD_REQUEST', `${field} must be epoch seconds or an ISO-8601 time`);
  return new Date(ms).toISOString();
}

export function registerAuditRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/AuditTrail',
    {
      schema: { querystring: AuditTrailQuery },
      config: { requires: { permission: 'Audit View', on: onOwnCompany } },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const q = req.query;
      const page = readPaging(q, 100);
      // Audit View on the CommCell reads every company's trail; on a company, only that company's.
      const everywhere = await allows(req, p, 'Audit View', COMMCELL);
      const companyId = everywhere ? q.companyId : p.companyId;
      if (!everywhere && q.companyId !== undefined && q.companyId !== p.companyId) {
        return sendCs(req, reply, 'App_AuditTrailResp', { auditTrail: [], totalRecords: 0 });
      }
      const { rows, total } = await queryAudit(ctx.store.db, {
        from: parseTime(q.fromTime, 'fromTime'),
        to: parseTime(q.toTime, 'toTime'),
        userId: q.userId,
        userName: q.userName,
        companyId,
        operation: q.operation,
        outcome: q.outcome,
        ...page,
      });
      return sendCs(req, reply, 'App_AuditTrailResp', {
        auditTrail: rows.map((a) => ({
          id: Number(a.seq),
          time: a.at,
          user: { userName: a.actor_name, userId: a.actor_user_id ?? 0 },
          companyId: a.company_id ?? 0,
          operation: a.operation,
          target: { type: a.target_type, id: a.target_id, name: a.target_name },
          outcome: a.outcome,
          reason: a.reason,
          details: JSON.parse(a.details),
          sourceAddress: a.source_addr,
          hash: a.hash,
        })),
        totalRecords: total,
      });
    },
  );
}
