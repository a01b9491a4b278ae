import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/log.js';
import { loginName, type Principal } from '../domain/principal.js';

export function actorOf(p: Principal): AuditActor {
  return { userId: p.userId, name: loginName(p.companyId, p.companyDomain, p.userName), companyId: p.companyId };
}

/** Parses a numeric path id; anything else is simply not found. */
export function pathId(req: FastifyRequest, name = 'id'): number | null {
  const raw = (req.params as Record<string, string>)[name] ?? '';
  return /^\d{1,9}$/.test(raw) ? Number(raw) : null;
}
