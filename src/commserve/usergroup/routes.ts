import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { AuthzView } from '../../domain/authz.js';
import { COMMCELL, canSeeCompany, companyRef } from '../../domain/permissions.js';
import { loginName, type Principal } from '../../domain/principal.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import { notifyChange } from '../../store/changes.js';
import type { Executor, Tx } from '../../store/db.js';
import {
  addMember,
  companyByDomain,
  companyById,
  createGroup,
  groupByName,
  isUniqueViolation,
  nameKey,
  userById,
  userByName,
} from '../../store/directory.js';
import type { Company, User } from '../../store/schema.js';
import { actorOf, pathId } from '../actor.js';
import { authorize, inOwnCompany, type Requirement, type Target, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { mustControl, mustKeepMaster } from '../guard.js';
import { splitLoginName } from '../login/login.js';
import { readDescription, readName } from '../names.js';
import { applyListOp, itemErrorReply, ListOpSchema, namesSomething, parseListOp } from '../operation-type.js';
import { perItem } from '../per-item.js';
import { principalOf } from '../plugin.js';
import { Bool, Int, toBool, toInt } from '../schema.js';
import { applyPrincipalAssociations, describeRemoved } from '../security/associations.js';

const Loose = Type.Object({}, { additionalProperties: true });
const Description = Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]);
/** A group or user name as sent: `name` or `domain\name`. */
const SentName = Type.String({ minLength: 1, maxLength: 300 });
const MemberRef = Type.Object({ userName: Type.Optional(SentName), userId: Type.Optional(Int()) });
const MAX_MEMBERS = 1000;

/** cvpysdk's `UserGroups.add` body. */
export const CreateGroupsBody = Type.Object({
  groups: Type.Array(
    Type.Object({
      userGroupEntity: Type.Object({ userGroupName: SentName }),
      description: Type.Optional(Description),
      users: Type.Optional(Type.Array(MemberRef, { maxItems: MAX_MEMBERS })),
      securityAssociations: Type.Optional(Loose),
      localUserGroups: Type.Optional(Type.Array(Loose, { maxItems: 100 })),
      associatedExternalUserGroups: Type.Optional(Type.Array(Loose, { maxItems: 100 })),
      enabled: Type.Optional(Bool()),
    }),
    { minItems: 1, maxItems: 100 },
  ),
});
export type CreateGroupsBody = Static<typeof CreateGroupsBody>;
type CreateItem = CreateGroupsBody['groups'][number];

/** cvpysdk's `UserGroup._send_request` / `status` / `enable_tfa` bodies, plus a rename and a description. */
export const UpdateGroupBody = Type.Object({
  groups: Type.Array(
    Type.Object({
      userGroupEntity: Type.Optional(
        Type.Object({ userGroupName: Type.Optional(SentName), userGroupId: Type.Optional(Int()) }),
      ),
      newName: Type.Optional(SentName),
      description: Type.Optional(Description),
      users: Type.Optional(Type.Array(MemberRef, { maxItems: MAX_MEMBERS })),
      usersOperationType: Type.Optional(ListOpSchema()),
      localUserGroupsOperationType: Type.Optional(ListOpSchema()),
      externalUserGroupsOperationType: Type.Optional(ListOpSchema()),
      securityAssociations: Type.Optional(Loose),
      localUserGroups: Type.Optional(Type.Array(Loose, { maxItems: 100 })),
      associatedExternalUserGroups: Type.Optional(Type.Array(Loose, { maxItems: 100 })),
      enabled: Type.Optional(Bool()),
      enableTwoFactorAuthentication: Type.Optional(Bool()),
    }),
    { minItems: 1, maxItems: 1 },
  ),
});
export type UpdateGroupBody = Static<typeof UpdateGroupBody>;
type UpdateItem = UpdateGroupBody['groups'][number];

/**
 * Which groups a caller sees: those of companies it may see (its own, or
 * with View on them); a list shows its own company's, or every company's
 * with View on the CommCell. Changing them is the routes' declared User
 * Management requirement.
 */
export async function groupAccess(req: FastifyRequest, p: Principal) {
  const view = await viewOf(req);
  return {
    /** The company whose groups a list shows, or null for every company. */
    listScope: view.allowed(p.userId, 'View', COMMCELL) ? null : p.companyId,
    sees: (companyId: number) => canSeeCompany(view, p, companyId),
  };
}

interface GroupRow {
  id: number;
  company_id: number;
  name: string;
  description: string;
  system_kind: string | null;
  domain_name: string;
  domain_key: string;
}

/** How a group is named to clients: `domain\name` for a company's, the bare name for the CommCell's, as users are. */
const displayName = (g: Pick<GroupRow, 'company_id' | 'domain_name' | 'name'>) =>
  loginName(g.company_id, g.domain_name, g.name);

/** The bare part of a group name: a valid name (`src/domain/names.ts`) of at most 128 characters, no backslash. */
function readGroupName(bare: string, field: string): string {
  const name = readName(bare, field, 128);
  if (name.includes('\\')) throw new CsError('INVALID_VALUE', `${field} is not a valid user group name`);
  return name;
}

function checkUnsupported(item: CreateItem | UpdateItem, field: string): void {
  if (namesSomething(item.localUserGroups) || namesSomething(item.associatedExternalUserGroups)) {
    throw new CsError('INVALID_VALUE', `${field}: user groups cannot be members of user groups`);
  }
  if (item.enabled !== undefined && !toBool(item.enabled)) {
    throw new CsError('INVALID_VALUE', `${field}.enabled: user groups cannot be disabled`);
  }
  if ('enableTwoFactorAuthentication' in item && item.enableTwoFactorAuthentication !== undefined) {
    if (toBool(item.enableTwoFactorAuthentication)) {
      throw new CsError('INVALID_VALUE', `${field}.enableTwoFactorAuthentication: not supported`);
    }
  }
}

/** The company a `name` or `domain\name` of a new group belongs to, if it exists. */
async function targetCompany(db: Executor, p: Principal, sent: string): Promise<Company | undefined> {
  const { domain } = splitLoginName(sent);
  return domain === null ? companyById(db, p.companyId) : companyByDomain(db, domain);
}

interface Member {
  id: number;
  name: string;
}

/**
 * The users a request names. A company's group takes its company's users
 * only (anything else is "not found", whether it exists elsewhere or not); a
 * CommCell group also takes companies' users, named `domain\\user` or by id,
 * of companies the caller may see: an MSP keeps CommCell groups of its
 * tenants' users, and cvpysdk builds them so. Such a member's reach stays
 * inside its own company whatever the group is granted (AuthzView.allowed).
 * `{}` entries, which cvpysdk sends for an empty list, name nobody.
 */
async function resolveMembers(
  db: Executor,
  company: Pick<Company, 'id' | 'domain_name' | 'domain_key'>,
  refs: Array<Static<typeof MemberRef>> | undefined,
  field: string,
  sees: (companyId: number) => boolean,
): Promise<Member[]> {
  const out = new Map<number, Member>();
  const takes = (u: User) => u.company_id === company.id || (company.id === 0 && sees(u.company_id));
  for (const [i, ref] of (refs ?? []).entries()) {
    let user: User | undefined;
    let asked: string;
    if (ref.userId !== undefined) {
      asked = `id ${ref.userId}`;
      const id = toInt(ref.userId);
      user = id >= 0 && id <= 2_147_483_647 ? await userById(db, id) : undefined;
      if (ref.userName !== undefined && user && nameKey(splitLoginName(ref.userName).user) !== user.name_key) {
        user = undefined;
      }
    } else if (ref.userName !== undefined) {
      asked = ref.userName;
      const { domain, user: bare } = splitLoginName(ref.userName);
      if (domain === null || nameKey(domain) === company.domain_key) {
        user = await userByName(db, company.id, bare);
      } else if (company.id === 0) {
        const home = await companyByDomain(db, domain);
        user = home ? await userByName(db, home.id, bare) : undefined;
      }
    } else {
      continue;
    }
    if (!user || !takes(user)) {
      const whose = company.id === 0 ? 'a company you may see' : "the group's company";
      throw new CsError('NOT_FOUND', `${field}[${i}]: no user ${asked} in ${whose}`);
    }
    const home =
      user.company_id === company.id
        ? company.domain_name
        : ((await companyById(db, user.company_id))?.domain_name ?? '');
    out.set(user.id, { id: user.id, name: loginName(user.company_id, home, user.user_name) });
  }
  return [...out.values()];
}

/** `securityAssociations` in a group's body: the same implementation as POST Security. */
async function applySecurityAssociations(
  tx: Tx,
  view: AuthzView,
  p: Principal,
  group: { id: number; name: string; companyId: number },
  block: Record<string, unknown> | undefined,
  at: string,
) {
  return applyPrincipalAssociations(tx, view, p, { kind: 'group', ...group }, block, at);
}

const okReply = (entity?: Record<string, unknown>) => ({
  response: [{ errorCode: 0, errorString: '', ...(entity ? { entity } : {}) }],
  errorCode: 0,
  errorMessage: '',
});

/** Query parameters by lower-cased name; repeated ones count by their first value. */
function queryParams(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string' && !out.has(k.toLowerCase())) out.set(k.toLowerCase(), value);
  }
  return out;
}

/** The company of the group the path names. */
const pathGroup: Target = async (req, _view, ctx) => {
  const id = pathId(req);
  const g =
    id === null
      ? undefined
      : await ctx.store.db.selectFrom('user_groups').select('company_id').where('id', '=', id).executeTakeFirst();
  return g ? companyRef(g.company_id) : null;
};
const seeGroup = { permission: 'View', on: pathGroup, unless: inOwnCompany } satisfies Requirement;
const manageGroup = { permission: 'User Management', on: pathGroup } satisfies Requirement;
const listsGroups = { signedIn: 'lists only the groups of companies the caller may see' };

export function registerUserGroupRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  const groupRows = (ex: Executor = db) =>
    ex
      .selectFrom('user_groups as g')
      .innerJoin('companies as c', 'c.id', 'g.company_id')
      .select(['g.id', 'g.company_id', 'g.name', 'g.description', 'g.system_kind', 'c.domain_name', 'c.domain_key']);

  /**
   * The groups a list shows. `parentProvider/providerId` narrows to one
   * company; `includeSystemCreated=false` leaves out the built-in groups.
   * Values that are not what they should be (cvpysdk sends a literal `%s`)
   * are ignored, as unknown parameters are.
   */
  async function listGroups(req: FastifyRequest): Promise<GroupRow[]> {
    const access = await groupAccess(req, principalOf(req));
    const q = queryParams(req);
    let rows = groupRows();
    if (access.listScope !== null) rows = rows.where('g.company_id', '=', access.listScope);
    const provider = q.get('parentprovider/providerid')?.trim() ?? '';
    if (/^\d{1,9}$/.test(provider)) rows = rows.where('g.company_id', '=', Number(provider));
    const system = q.get('includesystemcreated')?.trim().toLowerCase();
    if (system === 'false' || system === '0') rows = rows.where('g.system_kind', 'is', null);
    return (await rows.orderBy('g.id').execute()).filter((g) => access.sees(g.company_id));
  }

  /** The path's group; the route's requirement has already decided the caller may see it. */
  async function visibleGroup(id: number | null) {
    const g = id === null ? undefined : await groupRows().where('g.id', '=', id).executeTakeFirst();
    if (!g) throw new CsError('NOT_FOUND', 'no such user group, or it is not visible to you');
    return g;
  }

  r.get('/UserGroup', { config: { requires: listsGroups } }, async (req, reply) => {
    const groups = await listGroups(req);
    return sendCs(req, reply, 'App_GetUserGroupsResponse', {
      userGroups: groups.map((g) => ({
        userGroupEntity: { userGroupName: displayName(g), userGroupId: g.id },
        description: g.description,
        providerId: g.company_id,
      })),
    });
  });

  // Newer cvpysdk lists groups here (userGroups[].name, userGroups[].id).
  r.get('/V4/UserGroup', { config: { requires: listsGroups } }, async (req, reply) => {
    const groups = await listGroups(req);
    return sendCs(req, reply, 'App_GetUserGroupsResponse', {
      userGroups: groups.map((g) => ({
        id: g.id,
        name: displayName(g),
        description: g.description,
        company: { id: g.company_id, name: g.company_id === 0 ? '' : g.domain_name },
      })),
    });
  });

  r.get('/UserGroup/:id', { config: { requires: seeGroup } }, async (req, reply) => {
    const g = await visibleGroup(pathId(req));
    // A CommCell group may hold companies' users: each is named in its own company.
    const members = await db
      .selectFrom('user_group_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .innerJoin('companies as c', 'c.id', 'u.company_id')
      .select(['u.id', 'u.user_name', 'u.company_id', 'c.domain_name'])
      .where('m.group_id', '=', g.id)
      .orderBy('u.id')
      .execute();
    return sendCs(req, reply, 'App_GetUserGroupPropertiesResponse', {
      userGroups: [
        {
          userGroupEntity: { userGroupName: displayName(g), userGroupId: g.id },
          description: g.description,
          providerId: g.company_id,
          enabled: true,
          users: members.map((u) => ({ userName: loginName(u.company_id, u.domain_name, u.user_name), userId: u.id })),
        },
      ],
    });
  });

  r.post(
    '/UserGroup',
    {
      schema: { body: CreateGroupsBody },
      config: {
        errorReply: itemErrorReply('App_UserGroupResp'),
        requires: { each: ['User Management'], of: "each new group's company" },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const access = await groupAccess(req, p);
      // A group the caller may see but not change refuses the whole request, before anything is created.
      for (const item of req.body.groups) {
        const company = await targetCompany(db, p, item.userGroupEntity.userGroupName);
        if (company && access.sees(company.id)) {
          await authorize(req, p, 'User Management', companyRef(company.id), company.id);
        }
      }
      return sendCs(
        req,
        reply,
        'App_UserGroupResp',
        await perItem(req, req.body.groups, (item, i) => createOne(req, p, item, i)),
      );
    },
  );

  async function createOne(req: FastifyRequest, p: Principal, item: CreateItem, i: number) {
    const field = `groups[${i}]`;
    const sent = item.userGroupEntity.userGroupName;
    const name = readGroupName(splitLoginName(sent).user, `${field}.userGroupEntity.userGroupName`);
    checkUnsupported(item, field);
    const access = await groupAccess(req, p);
    const company = await targetCompany(db, p, sent);
    if (!company || !access.sees(company.id)) {
      throw new CsError(
        'NOT_FOUND',
        `${field}: no company with domain name ${splitLoginName(sent).domain ?? p.companyDomain}`,
      );
    }
    await authorize(req, p, 'User Management', companyRef(company.id), company.id);
    const description = readDescription(item.description, `${field}.description`) ?? '';
    const now = ctx.clock();
    try {
      // Read before the transaction: on SQLite it holds the only connection.
      const view = await viewOf(req);
      return await db.transaction().execute(async (tx) => {
        if (await groupByName(tx, company.id, name)) {
          throw new CsError('ALREADY_EXISTS', `a user group named ${sent} already exists`);
        }
        const members = await resolveMembers(tx, company, item.users, `${field}.users`, access.sees);
        // Putting a user in a group changes what it holds: only by who holds all it holds already.
        for (const m of members) mustControl(view, p, { kind: 'user', id: m.id, name: m.name });
        const id = await createGroup(tx, company.id, name, null, now.toISOString(), description);
        for (const m of members) await addMember(tx, id, m.id);
        await applySecurityAssociations(
          tx,
          view,
          p,
          { id, name, companyId: company.id },
          item.securityAssociations,
          now.toISOString(),
        );
        await bumpAuthzVersion(tx, company.id !== 0 || item.securityAssociations === undefined ? [company.id] : 'all');
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: company.id,
          operation: 'usergroup.create',
          targetType: 'usergroup',
          targetId: id,
          targetName: name,
          outcome: 'success',
          details: { description, members: members.map((m) => m.name) },
          sourceAddr: req.ip,
          at: now,
        });
        return { userGroupName: loginName(company.id, company.domain_name, name), userGroupId: id };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new CsError('ALREADY_EXISTS', `a user group named ${sent} already exists`);
      throw e;
    }
  }

  r.post(
    '/UserGroup/:id',
    {
      schema: { body: UpdateGroupBody },
      config: { errorReply: itemErrorReply('App_UserGroupResp'), requires: manageGroup },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const g = await visibleGroup(pathId(req));
      const item = req.body.groups[0] as UpdateItem;
      checkUnsupported(item, 'groups[0]');
      const view = await viewOf(req);
      // Changing a group (its name, members or associations) is taking control
      // of what it grants: only by who holds all of it (so only Master changes master).
      mustControl(view, p, { kind: 'group', id: g.id, name: displayName(g) });
      const access = await groupAccess(req, p);
      const sentId = item.userGroupEntity?.userGroupId;
      if (sentId !== undefined && toInt(sentId) !== g.id) {
        throw new CsError('INVALID_VALUE', 'groups[0].userGroupEntity.userGroupId is not the id of this group');
      }
      // A rename: newName, or a userGroupEntity.userGroupName other than the current one.
      const sentName = item.newName ?? item.userGroupEntity?.userGroupName;
      let name = g.name;
      if (sentName !== undefined) {
        const { domain, user } = splitLoginName(sentName);
        if (domain !== null && nameKey(domain) !== g.domain_key) {
          throw new CsError('INVALID_VALUE', 'a user group cannot move to another company');
        }
        name = readGroupName(user, item.newName !== undefined ? 'groups[0].newName' : 'groups[0].userGroupEntity');
      }
      const renamed = nameKey(name) !== nameKey(g.name) || (item.newName !== undefined && name !== g.name);
      if (renamed && g.system_kind !== null)
        throw new CsError('INVALID_VALUE', 'built-in user groups cannot be renamed');
      const description = readDescription(item.description, 'groups[0].description') ?? undefined;
      const op = parseListOp(item.usersOperationType, 'groups[0].usersOperationType', 'ADD');
      const now = ctx.clock();
      const changed: number[] = [];
      const entity = await db.transaction().execute(async (tx) => {
        // First: the version row's lock orders concurrent membership changes, so
        // two requests each removing one of the last two master members cannot both pass.
        await bumpAuthzVersion(
          tx,
          g.company_id !== 0 || item.securityAssociations === undefined ? [g.company_id] : 'all',
        );
        if (renamed && nameKey(name) !== nameKey(g.name) && (await groupByName(tx, g.company_id, name))) {
          throw new CsError('ALREADY_EXISTS', `a user group named ${name} already exists`);
        }
        const company = { id: g.company_id, domain_name: g.domain_name, domain_key: g.domain_key };
        const given = await resolveMembers(tx, company, item.users, 'groups[0].users', access.sees);
        const current = await tx
          .selectFrom('user_group_members as m')
          .innerJoin('users as u', 'u.id', 'm.user_id')
          .select(['u.id', 'u.user_name'])
          .where('m.group_id', '=', g.id)
          .execute();
        const names = new Map<number, string>([
          ...current.map((u) => [u.id, loginName(g.company_id, g.domain_name, u.user_name)] as const),
          ...given.map((m) => [m.id, m.name] as const),
        ]);
        // An empty `users` list changes nothing, whatever the operation: cvpysdk sends
        // `"usersOperationType": OVERWRITE, "users": []` when it only updates associations.
        const next =
          given.length === 0
            ? new Set(current.map((u) => u.id))
            : applyListOp(
                op,
                current.map((u) => u.id),
                given.map((m) => m.id),
              );
        const added = [...next].filter((id) => !current.some((u) => u.id === id));
        const removed = current.map((u) => u.id).filter((id) => !next.has(id));
        // Joining or leaving a group changes what a user holds: only for users the caller controls.
        for (const id of [...added, ...removed]) {
          mustControl(view, p, { kind: 'user', id, name: names.get(id) ?? `id ${id}` });
        }
        if (removed.length > 0) {
          await tx
            .deleteFrom('user_group_members')
            .where('group_id', '=', g.id)
            .where('user_id', 'in', removed)
            .execute();
        }
        for (const id of added) await addMember(tx, g.id, id);
        const set: { name?: string; name_key?: string; description?: string } = {};
        if (renamed) Object.assign(set, { name, name_key: nameKey(name) });
        if (description !== undefined) set.description = description;
        if (Object.keys(set).length > 0) await tx.updateTable('user_groups').set(set).where('id', '=', g.id).execute();
        const associations = await applySecurityAssociations(
          tx,
          view,
          p,
          { id: g.id, name, companyId: g.company_id },
          item.securityAssociations,
          now.toISOString(),
        );
        // Members leaving can take the last Master away; an association removed was checked by apply().
        if (removed.length > 0) await mustKeepMaster(tx);
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: g.company_id,
          operation: 'usergroup.update',
          targetType: 'usergroup',
          targetId: g.id,
          targetName: name,
          outcome: 'success',
          details: {
            ...(renamed ? { renamedFrom: g.name } : {}),
            ...(description !== undefined ? { description } : {}),
            membersAdded: added.map((id) => names.get(id)),
            membersRemoved: removed.map((id) => names.get(id)),
            ...(associations.named > 0 || associations.removed.length > 0
              ? { associations: associations.named, ...describeRemoved(view, associations.removed) }
              : {}),
          },
          sourceAddr: req.ip,
          at: now,
        });
        changed.push(...added, ...removed);
        await notifyChange(tx, { kind: 'user', ids: changed });
        return { userGroupName: loginName(g.company_id, g.domain_name, name), userGroupId: g.id };
      });
      // Membership of a built-in group decides a session's standing: recompute it on the next request here.
      for (const id of changed) {
        ctx.sessions.forgetUser(id);
        ctx.apiKeys.forgetOwner(id);
      }
      return sendCs(req, reply, 'App_UserGroupResp', okReply(entity));
    },
  );

  // cvpysdk adds `?newUserId=…&newUserGroupId=…` (an ownership transfer): nothing here is owned, so it is ignored.
  r.delete(
    '/UserGroup/:id',
    { config: { errorReply: itemErrorReply('App_UserGroupResp'), requires: manageGroup } },
    async (req, reply) => {
      const p = principalOf(req);
      const g = await visibleGroup(pathId(req));
      if (g.system_kind !== null) throw new CsError('INVALID_VALUE', 'built-in user groups cannot be deleted');
      mustControl(await viewOf(req), p, { kind: 'group', id: g.id, name: displayName(g) });
      const now = ctx.clock();
      const members = await db.transaction().execute(async (tx) => {
        const ids = (
          await tx.selectFrom('user_group_members').select('user_id').where('group_id', '=', g.id).execute()
        ).map((m) => m.user_id);
        // What the group was granted goes with it.
        const dropped = await tx
          .deleteFrom('security_associations')
          .where('principal_kind', '=', 'group')
          .where('principal_id', '=', g.id)
          .executeTakeFirst();
        await tx.deleteFrom('user_group_members').where('group_id', '=', g.id).execute();
        const gone = await tx.deleteFrom('user_groups').where('id', '=', g.id).executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0) {
          throw new CsError('NOT_FOUND', 'no such user group, or it is not visible to you');
        }
        await mustKeepMaster(tx);
        await bumpAuthzVersion(tx, [g.company_id]);
        await notifyChange(tx, { kind: 'user', ids });
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: g.company_id,
          operation: 'usergroup.delete',
          targetType: 'usergroup',
          targetId: g.id,
          targetName: g.name,
          outcome: 'success',
          details: { members: ids.length, associationsRemoved: Number(dropped.numDeletedRows) },
          sourceAddr: req.ip,
          at: now,
        });
        return ids;
      });
      for (const id of members) {
        ctx.sessions.forgetUser(id);
        ctx.apiKeys.forgetOwner(id);
      }
      return sendCs(req, reply, 'App_UserGroupResp', okReply());
    },
  );
}
