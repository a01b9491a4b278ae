import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { companyRef } from '../../domain/permissions.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import {
  addMember,
  companyById,
  companyIds,
  countUsers,
  createCompany,
  createUser,
  isUniqueViolation,
  listCompanies,
  nameKey,
} from '../../store/directory.js';
import type { Company } from '../../store/schema.js';
import { actorOf, pathId } from '../actor.js';
import { inOwnCompany, listScope, onCommCell, type Requirement, type Target } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { readDescription, readName } from '../names.js';
import { principalOf } from '../plugin.js';
import { organizationInfoOf } from './info.js';
import { registerOrganizationUpdate } from './update.js';

const DOMAIN_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const CreateOrganizationBody = Type.Object({
  organizationInfo: Type.Object({
    organization: Type.Object({
      // Stored trimmed, so a name of blanks alone would become an empty name.
      connectName: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }),
      description: Type.Optional(Type.String({ maxLength: 1024 })),
      emailDomainNames: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 100 })),
      shortName: Type.Object({ domainName: Type.String({ pattern: DOMAIN_NAME }) }),
    }),
    organizationProperties: Type.Optional(
      Type.Object({
        primaryContacts: Type.Optional(
          Type.Array(
            Type.Object({
              fullName: Type.Optional(Type.String({ maxLength: 256 })),
              email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', maxLength: 320 }),
            }),
            { maxItems: 20 },
          ),
        ),
      }),
    ),
  }),
});
export type CreateOrganizationBody = Static<typeof CreateOrganizationBody>;

function providerOf(c: Company) {
  return {
    connectName: c.name,
    shortName: { id: c.id, domainName: c.domain_name },
    providerGUID: c.guid,
    associatedEntitiesCount: 0,
    status: c.disable_login === 1 ? 'Deactivated' : 'Active',
  };
}

/** The company named by the path; its own users see it, others need View on it. */
const pathCompany: Target = (req) => {
  const id = pathId(req);
  return id === null ? null : companyRef(id);
};
const seeCompany = {
  permission: 'View',
  on: pathCompany,
  unless: inOwnCompany,
} satisfies Requirement;

export function registerOrganizationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  r.get(
    '/Organization',
    { config: { requires: { signedIn: 'lists only the companies the caller may see' } } },
    async (req, reply) => {
      const p = principalOf(req);
      const scope = await listScope(req, p, 'View', () => companyIds(db));
      const companies = scope.all
        ? await listCompanies(db)
        : await listCompanies(db, [...new Set([p.companyId, ...scope.companies])]);
      return sendCs(req, reply, 'App_GetOrganizationsResp', { providers: companies.map(providerOf) });
    },
  );

  r.post(
    '/Organization',
    {
      schema: { body: CreateOrganizationBody },
      config: {
        requires: { permission: 'Administrative Management', on: onCommCell },
        // cvpysdk reads response.errorCode (an object here, not a list), then errorMessage.
        errorReply: (code, message) => [
          'App_CreateOrganizationResp',
          { response: { errorCode: code, errorMessage: message }, errorCode: code, errorMessage: message },
        ],
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { organization, organizationProperties } = req.body.organizationInfo;
      const now = ctx.clock();
      const at = now.toISOString();
      const contacts = organizationProperties?.primaryContacts ?? [];
      const connectName = readName(organization.connectName, 'organizationInfo.organization.connectName', 128);
      const description = readDescription(organization.description, 'organizationInfo.organization.description');
      // Each contact's user is named after its email, so the email follows the name rule too.
      for (const [i, c] of contacts.entries()) {
        readName(c.email, `organizationInfo.organizationProperties.primaryContacts[${i}].email`, 320);
      }
      try {
        const created = await db.transaction().execute(async (tx) => {
          const company = await createCompany(tx, {
            name: connectName,
            domainName: organization.shortName.domainName,
            description: description ?? '',
            emailDomains: organization.emailDomainNames ?? [],
            at,
          });
          const adminGroup = company.adminGroup;
          // Primary contacts become the company's first administrators; they
          // have no password until one is set for them.
          const stored: Array<{ fullName: string; email: string; user: { userName: string; userId: number } }> = [];
          for (const c of contacts) {
            const local = c.email.split('@')[0] as string;
            const taken = stored.some((s) => nameKey(s.user.userName) === nameKey(local));
            const userName = taken ? c.email : local;
            const u = await createUser(tx, {
              companyId: company.id,
              userName,
              fullName: c.fullName ?? '',
              email: c.email,
              passwordHash: null,
              now: at,
            });
            await addMember(tx, adminGroup, u.id);
            stored.push({ fullName: c.fullName ?? '', email: c.email, user: { userName, userId: u.id } });
          }
          await tx
            .updateTable('companies')
            .set({ primary_contacts: JSON.stringify(stored) })
            .where('id', '=', company.id)
            .execute();
          await bumpAuthzVersion(tx, [company.id]);
          await appendAudit(tx, {
            actor: actorOf(p),
            companyId: company.id,
            operation: 'company.create',
            targetType: 'company',
            targetId: company.id,
            targetName: company.domain_name,
            outcome: 'success',
            details: { connectName, primaryContacts: stored.length },
            sourceAddr: req.ip,
            at: now,
          });
          return company;
        });
        return sendCs(req, reply, 'App_CreateOrganizationResp', {
          response: {
            errorCode: 0,
            entity: { providerId: created.id, providerDomainName: created.domain_name, providerGUID: created.guid },
          },
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new CsError('ALREADY_EXISTS', 'a company with that domain name already exists');
        throw e;
      }
    },
  );

  r.get('/Organization/:id', { config: { requires: seeCompany } }, async (req, reply) => {
    const c = await companyById(db, pathId(req) ?? -1);
    if (!c) throw new CsError('NOT_FOUND');
    const users = await countUsers(db, c.id);
    return sendCs(req, reply, 'App_GetOrganizationResp', {
      organizationInfo: organizationInfoOf(c, users, ctx.clock()),
    });
  });

  registerOrganizationUpdate(app, ctx);

  r.get('/Organization/:id/TwoFactorAuth', { config: { requires: seeCompany } }, async (req, reply) => {
    if (!(await companyById(db, pathId(req) ?? -1))) throw new CsError('NOT_FOUND');
    return sendCs(req, reply, 'App_TwoFactorAuthResp', { twoFactorAuthenticationInfo: { mode: 0 } });
  });
}
