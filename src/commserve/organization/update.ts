import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { Permission } from '../../domain/catalogue.js';
import { companyRef } from '../../domain/permissions.js';
import { companyById, countUsers } from '../../store/directory.js';
import type { Company } from '../../store/schema.js';
import { actorOf, pathId } from '../actor.js';
import { authorize, type Requirement, sees } from '../authorize.js';
import { obj } from '../browse/request.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { readDescription } from '../names.js';
import { principalOf } from '../plugin.js';
import { organizationOf, organizationPropertiesOf } from './info.js';

// PUT Organization?organizationId=N (cvpysdk organization.py _update_properties,
// e.g. allow_owners_to_enable_passkey, email_domain_names) and PUT
// Organization/{id}. cvpysdk sends the whole `organization` it last read and,
// in `organizationProperties`, the keys it changes. The rule: what a body
// changes is read field by field against the stored company, and each change
// needs its own right on that company; a field sent unchanged (equal to what
// GET Organization/{id} shows) is no change whatever it is, and a change the
// route does not make (name, domain, GUID, deactivation, plans, any other
// property) is refused with 1204 naming it, so a whole body can never carry an
// unchecked change. One transaction writes the changes and their audit record.

const ADMIN: Permission = 'Administrative Management';
const PASSKEY: Permission = 'Passkey Management';

const edits = {
  each: [ADMIN, PASSKEY],
  of: 'the company: Administrative Management for description and emailDomainNames (and a PUT that changes nothing), Passkey Management for allowUsersToEnablePasskey',
} satisfies Requirement;

const DOMAIN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Scalars as text and a lone value as a list: an XML body carries no types, so `1`, `"1"` and `["1"]` are one value. */
function loose(v: unknown, like: unknown): unknown {
  if (Array.isArray(like))
    return (Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v]).map((x, i) => loose(x, like[i]));
  if (like !== null && typeof like === 'object') {
    const o = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, loose(x, (like as Record<string, unknown>)[k])]));
  }
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
}

/** Whether a value sent equals what GET shows, read loosely (see `loose`). */
const same = (sent: unknown, shown: unknown): boolean => isDeepStrictEqual(loose(sent, shown), loose(shown, shown));

/** The company a PUT names: `/Organization/{id}`, or cvpysdk's `?organizationId=`. */
function companyIdOf(req: FastifyRequest): number | null {
  const fromPath = pathId(req);
  if (fromPath !== null) return fromPath;
  const q = (req.query as Record<string, unknown> | undefined)?.organizationId;
  return typeof q === 'string' && /^\d{1,9}$/.test(q) ? Number(q) : null;
}

type Change =
  | { field: 'description'; right: Permission; to: string }
  | { field: 'emailDomainNames'; right: Permission; to: string[] }
  | { field: 'allowUsersToEnablePasskey'; right: Permission; to: boolean };

function boolOf(v: unknown, field: string): boolean {
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  throw new CsError('INVALID_VALUE', `${field} must be true or false`);
}

/** What the body changes on `c`, each with the right it needs; refuses what this route does not change. */
export function readChanges(body: unknown, c: Company, users: number, now: Date): Change[] {
  const b = obj(body);
  const info = obj(b.organizationInfo);
  if (b.organizationInfo === undefined) throw new CsError('BAD_REQUEST', 'the body is {"organizationInfo":{…}}');
  const changes: Change[] = [];
  const shown = organizationOf(c);
  const org = obj(info.organization);
  for (const [key, value] of Object.entries(org)) {
    const field = `organizationInfo.organization.${key}`;
    if (key in shown && same(value, shown[key as keyof typeof shown])) continue;
    if (key === 'description') {
      if (typeof value !== 'string') throw new CsError('INVALID_VALUE', `${field} must be text`);
      changes.push({ field: 'description', right: ADMIN, to: readDescription(value, field, 1024) });
    } else if (key === 'emailDomainNames') {
      const domains = Array.isArray(value) ? value : typeof value === 'string' ? [value] : null;
      if (!domains || domains.length > 100) {
        throw new CsError('INVALID_VALUE', `${field} must be a list of at most 100 domain names`);
      }
      for (const d of domains) {
        if (typeof d !== 'string' || !DOMAIN.test(d)) {
          throw new CsError('INVALID_VALUE', `${field}: ${String(d).slice(0, 100)} is not a domain name`);
        }
      }
      changes.push({ field: 'emailDomainNames', right: ADMIN, to: [...new Set(domains as string[])] });
    } else if (key === 'shortName' && obj(value).id !== undefined && Number(obj(value).id) !== c.id) {
      throw new CsError('INVALID_VALUE', `${field}.id names another company than the URL`);
    } else if (key === 'deactivateOptions') {
      throw new CsError('INVALID_VALUE', `${field} cannot be changed here: activate or deactivate the company`);
    } else {
      throw new CsError('INVALID_VALUE', `${field} cannot be changed here (only description and emailDomainNames)`);
    }
  }
  const props = obj(info.organizationProperties);
  const shownProps = organizationPropertiesOf(c, users, now);
  for (const [key, value] of Object.entries(props)) {
    const field = `organizationInfo.organizationProperties.${key}`;
    if (key === 'allowUsersToEnablePasskey') {
      const to = boolOf(value, field);
      if (to !== shownProps.allowUsersToEnablePasskey) changes.push({ field: key, right: PASSKEY, to });
      continue;
    }
    if (key in shownProps && same(value, shownProps[key as keyof typeof shownProps])) continue;
    throw new CsError('INVALID_VALUE', `${field} is not supported here (only allowUsersToEnablePasskey)`);
  }
  for (const key of Object.keys(info)) {
    if (key === 'organization' || key === 'organizationProperties') continue;
    if (key === 'planDetails' && same(info.planDetails, [])) continue;
    if (key === 'planDetailsOperationType' && same(info.planDetails, [])) continue;
    throw new CsError('INVALID_VALUE', `organizationInfo.${key} is not supported here`);
  }
  if (b.newCompanyName !== undefined && b.newCompanyName !== c.name) {
    throw new CsError('INVALID_VALUE', 'newCompanyName: a company cannot be renamed here');
  }
  if (b.newAliasName !== undefined && b.newAliasName !== c.domain_name) {
    throw new CsError('INVALID_VALUE', "newAliasName: a company's domain name cannot be changed here");
  }
  return changes;
}

export function registerOrganizationUpdate(app: FastifyInstance, ctx: AppContext): void {
  const { db } = ctx.store;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = principalOf(req);
    const id = companyIdOf(req);
    const c = id === null ? undefined : await companyById(db, id);
    if (!c) throw new CsError('NOT_FOUND', 'no such company');
    const ref = companyRef(c.id);
    // Unseen companies are not found before anything of the body is read.
    if (!(await sees(req, p, c.id))) throw new CsError('NOT_FOUND', 'no such company');
    const now = ctx.clock();
    const changes = readChanges(req.body, c, await countUsers(db, c.id), now);
    for (const right of new Set(changes.length ? changes.map((x) => x.right) : [ADMIN])) {
      await authorize(req, p, right, ref, c.id);
    }
    if (changes.length > 0) {
      const shown = organizationOf(c);
      await db.transaction().execute(async (tx) => {
        const set: { description?: string; email_domains?: string; allow_users_to_enable_passkey?: number } = {};
        // A list, not keys: audit details redact any key that names a passkey.
        const changed: Array<{ field: string; from: unknown; to: unknown }> = [];
        for (const x of changes) {
          if (x.field === 'description') {
            set.description = x.to;
            changed.push({ field: x.field, from: shown.description, to: x.to });
          } else if (x.field === 'emailDomainNames') {
            set.email_domains = JSON.stringify(x.to);
            changed.push({ field: x.field, from: shown.emailDomainNames, to: x.to });
          } else {
            set.allow_users_to_enable_passkey = x.to ? 1 : 0;
            changed.push({ field: x.field, from: c.allow_users_to_enable_passkey === 1, to: x.to });
          }
        }
        await tx.updateTable('companies').set(set).where('id', '=', c.id).execute();
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: c.id,
          operation: 'company.update',
          targetType: 'company',
          targetId: c.id,
          targetName: c.domain_name,
          outcome: 'success',
          details: { changed },
          sourceAddr: req.ip,
          at: now,
        });
      });
    }
    return sendCs(req, reply, 'App_GenericResp', { error: { errorCode: 0, errorMessage: '' } });
  };
  const config = {
    requires: edits,
    // cvpysdk reads error.errorCode, else errorCode, then the message.
    errorReply: (code: number, message: string): [string, Record<string, unknown>] => [
      'App_GenericResp',
      { error: { errorCode: code, errorMessage: message }, errorCode: code, errorMessage: message },
    ],
  };
  app.put('/Organization', { config }, handler);
  app.put('/Organization/:id', { config }, handler);
}
