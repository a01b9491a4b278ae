import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { hashSecret, verifySecret } from '../../crypto/passwords.js';
import { accountFailure, accountLockKey, lockRemaining } from '../../domain/lockout.js';
import { checkName } from '../../domain/names.js';
import { passwordAcceptable } from '../../domain/password-policy.js';
import { companyRef } from '../../domain/permissions.js';
import { loginName, type Principal } from '../../domain/principal.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import {
  addMember,
  companyByDomain,
  companyById,
  companyIds,
  createUser,
  groupByName,
  groupsOfUser,
  isUniqueViolation,
  listUsers,
  nameKey,
  userById,
} from '../../store/directory.js';
import type { User } from '../../store/schema.js';
import { clearThrottle, readThrottle, writeThrottle } from '../../store/throttle.js';
import { actorOf, pathId } from '../actor.js';
import { authorize, listScope, type Requirement, sees, type Target, viewOf } from '../authorize.js';
import { readSecret, sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { mustControl, mustKeepMaster } from '../guard.js';
import { splitLoginName } from '../login/login.js';
import { readDescription } from '../names.js';
import { perItem } from '../per-item.js';
import { principalOf } from '../plugin.js';
import { Bool, Int, toBool } from '../schema.js';
import { applyPrincipalAssociations, describeRemoved } from '../security/associations.js';

const Name = Type.String({ minLength: 1, maxLength: 256 });
// Booleans and numbers may arrive as strings ("true", "1"), in JSON as in XML.
const Flag = Bool();

export const CreateUsersBody = Type.Object({
  users: Type.Array(
    Type.Object({
      userEntity: Type.Object({ userName: Name }),
      email: Type.Optional(Type.String({ maxLength: 320 })),
      fullName: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
      password: Type.Optional(Type.String({ maxLength: 8192 })),
      systemGeneratePassword: Type.Optional(Flag),
      securityAssociations: Type.Optional(Type.Object({}, { additionalProperties: true })),
      associatedUserGroups: Type.Optional(
        Type.Array(Type.Object({ userGroupName: Type.Optional(Name) }), { maxItems: 100 }),
      ),
    }),
    { minItems: 1, maxItems: 100 },
  ),
});
export type CreateUsersBody = Static<typeof CreateUsersBody>;

export const UpdateUserBody = Type.Object({
  users: Type.Array(
    Type.Object({
      userEntity: Type.Optional(Type.Object({ userName: Type.Optional(Name) })),
      password: Type.Optional(Type.String({ maxLength: 8192 })),
      validationParameters: Type.Optional(
        Type.Object({
          password: Type.Optional(Type.String({ maxLength: 8192 })),
          passwordOperationType: Type.Optional(Int()),
        }),
      ),
      email: Type.Optional(Type.String({ maxLength: 320 })),
      fullName: Type.Optional(Type.String({ maxLength: 256 })),
      enableUser: Type.Optional(Flag),
      securityAssociations: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
    { minItems: 1, maxItems: 1 },
  ),
});
export type UpdateUserBody = Static<typeof UpdateUserBody>;

/** Each item of a user POST answers with errorCode and errorString; cvpysdk indexes both. */
const itemErrorReply = (code: number, message: string): [string, Record<string, unknown>] => [
  'App_UserResp',
  { response: [{ errorCode: code, errorString: message }], errorCode: code, errorMessage: message },
];

function userView(u: User & { domain_name: string }, groups: Array<{ id: number; name: string }>) {
  return {
    userEntity: { userName: loginName(u.company_id, u.domain_name, u.user_name), userId: u.id, userGUID: u.guid },
    email: u.email,
    fullName: u.full_name,
    enableUser: u.enabled === 1,
    companyId: u.company_id,
    companyName: u.domain_name,
    associatedUserGroups: groups.map((g) => ({ userGroupName: g.name, userGroupId: g.id })),
    securityAssociations: { associations: [] },
  };
}

/** The company of the user the path names, from the permission view: no query. */
const pathUser: Target = (req, view) => {
  const id = pathId(req);
  const company = id === null ? null : view.companyOfUser(id);
  return company === null ? null : companyRef(company);
};

/** A user reads and updates their own account; anyone else's takes User Management in its company. */
const manageUser = {
  permission: 'User Management',
  on: pathUser,
  unless: (req, p) => pathId(req) === p.userId,
  hidden: true,
} satisfies Requirement;

const listsUsers = { signedIn: 'lists the caller and the users of companies where it holds User Management' };

export function registerUserRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  async function visibleUsers(req: FastifyRequest) {
    const p = principalOf(req);
    const scope = await listScope(req, p, 'User Management', () => companyIds(db));
    return listUsers(db, scope.all ? undefined : { companies: scope.companies, users: [p.userId] });
  }

  r.get('/User', { config: { requires: listsUsers } }, async (req, reply) => {
    const users = await visibleUsers(req);
    return sendCs(req, reply, 'App_GetUsersResp', {
      users: users.map((u) => ({
        userEntity: { userName: loginName(u.company_id, u.domain_name, u.user_name), userId: u.id, userGUID: u.guid },
        email: u.email,
        fullName: u.full_name,
        enableUser: u.enabled === 1,
        companyName: u.domain_name,
      })),
    });
  });

  // Newer cvpysdk lists users here (users[].name, users[].id).
  r.get('/v4/user', { config: { requires: listsUsers } }, async (req, reply) => {
    const users = await visibleUsers(req);
    return sendCs(req, reply, 'App_GetUsersResp', {
      users: users.map((u) => ({
        id: u.id,
        name: loginName(u.company_id, u.domain_name, u.user_name),
        fullName: u.full_name,
        email: u.email,
        GUID: u.guid,
        company: { id: u.company_id, name: u.domain_name },
      })),
    });
  });

  r.post(
    '/User',
    {
      schema: { body: CreateUsersBody },
      config: {
        errorReply: itemErrorReply,
        requires: { each: ['User Management'], of: "each new user's company" },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      return sendCs(
        req,
        reply,
        'App_UserResp',
        await perItem(req, req.body.users, (item, i) => createOne(req, p, item, i)),
      );
    },
  );

  async function createOne(req: FastifyRequest, p: Principal, item: CreateUsersBody['users'][number], index: number) {
    const { domain, user: bare } = splitLoginName(item.userEntity.userName);
    const checked = checkName(bare);
    if (!checked.ok) throw new CsError('INVALID_VALUE', `users[${index}].userEntity.userName ${checked.problem}`);
    const userName = checked.value;
    if (/[\\/:*?"<>|]/.test(userName)) {
      throw new CsError('INVALID_VALUE', `users[${index}].userEntity.userName is not a valid user name`);
    }
    const company = domain === null ? await companyById(db, p.companyId) : await companyByDomain(db, domain);
    if (!company || !(await sees(req, p, company.id))) {
      throw new CsError('NOT_FOUND', `no company with domain name ${domain ?? p.companyDomain}`);
    }
    const companyId = company.id;
    await authorize(req, p, 'User Management', companyRef(companyId), companyId);
    const generate = item.systemGeneratePassword !== undefined && toBool(item.systemGeneratePassword);
    const password = readSecret(req, item.password, `users[${index}].password`);
    // systemGeneratePassword covers an absent password only, never a weak one that was given.
    if ((!generate || password !== '') && !passwordAcceptable(password)) throw new CsError('PASSWORD_POLICY');
    const hash = generate && password === '' ? null : await hashSecret(password);
    const groupNames = (item.associatedUserGroups ?? []).map((g) => g.userGroupName).filter((n): n is string => !!n);
    const now = ctx.clock();
    const view = await viewOf(req);
    try {
      return await db.transaction().execute(async (tx) => {
        const groupIds = [];
        for (const name of groupNames) {
          // `domain\group` names a group of that company: only the user's own company's groups qualify.
          const named = splitLoginName(name);
          const g =
            named.domain === null || nameKey(named.domain) === company.domain_key
              ? await groupByName(tx, companyId, named.user)
              : undefined;
          if (!g) throw new CsError('NOT_FOUND', `no user group named ${name} in this company`);
          // A member holds what its group holds: only someone who holds all of it may add one.
          mustControl(view, p, { kind: 'group', id: g.id, name });
          groupIds.push(g.id);
        }
        const u = await createUser(tx, {
          companyId,
          userName,
          fullName: readDescription(item.fullName ?? '', `users[${index}].fullName`),
          email: readDescription(item.email ?? '', `users[${index}].email`),
          passwordHash: hash,
          now: now.toISOString(),
        });
        for (const g of groupIds) await addMember(tx, g, u.id);
        const { named: granted } = await applyPrincipalAssociations(
          tx,
          view,
          p,
          { kind: 'user', id: u.id, name: userName, companyId },
          item.securityAssociations,
          now.toISOString(),
        );
        // A new user, its memberships and its associations are part of the permission view.
        await bumpAuthzVersion(tx, companyId !== 0 || granted === 0 ? [companyId] : 'all');
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId,
          operation: 'user.create',
          targetType: 'user',
          targetId: u.id,
          targetName: userName,
          outcome: 'success',
          details: { email: item.email ?? '', groups: groupNames, passwordSet: hash !== null, associations: granted },
          sourceAddr: req.ip,
          at: now,
        });
        // The name the user lists under (v4 `name`), which cvpysdk looks the new user up by.
        return { userName: loginName(companyId, company.domain_name, userName), userId: u.id, userGUID: u.guid };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new CsError('ALREADY_EXISTS', `a user named ${userName} already exists`);
      throw e;
    }
  }

  /** The path's user; the route's requirement has already decided the caller may see it. */
  async function visibleUser(id: number | null) {
    const u = id === null ? undefined : await userById(db, id);
    if (!u) throw new CsError('NOT_FOUND');
    const company = await db
      .selectFrom('companies')
      .select('domain_name')
      .where('id', '=', u.company_id)
      .executeTakeFirstOrThrow();
    return { ...u, domain_name: company.domain_name };
  }

  r.get('/User/:id', { config: { requires: manageUser } }, async (req, reply) => {
    const u = await visibleUser(pathId(req));
    return sendCs(req, reply, 'App_GetUserPropertiesResp', { users: [userView(u, await groupsOfUser(db, u.id))] });
  });

  r.post(
    '/User/:id',
    { schema: { body: UpdateUserBody }, config: { errorReply: itemErrorReply, requires: manageUser } },
    async (req, reply) => {
      const p = principalOf(req);
      const target = await visibleUser(pathId(req));
      const self = target.id === p.userId;
      const item = req.body.users[0] as UpdateUserBody['users'][number];
      // Changing someone (their password, whether they may log in, their
      // associations) is taking control of them: only by who holds all they hold.
      const view = await viewOf(req);
      mustControl(view, p, { kind: 'user', id: target.id, name: target.user_name });
      const changes: Record<string, unknown> = {};
      const set: Partial<{
        email: string;
        full_name: string;
        enabled: number;
        password_hash: string;
        password_changed_at: string;
      }> = {};
      if (item.email !== undefined) set.email = changes.email = readDescription(item.email, 'users[0].email');
      if (item.fullName !== undefined)
        set.full_name = changes.fullName = readDescription(item.fullName, 'users[0].fullName');
      if (item.enableUser !== undefined) {
        if (self) throw new CsError('INVALID_VALUE', 'you cannot enable or disable your own account');
        set.enabled = toBool(item.enableUser) ? 1 : 0;
        changes.enableUser = set.enabled === 1;
      }
      const now = ctx.clock();
      let passwordChanged = false;
      if (item.password !== undefined) {
        const next = readSecret(req, item.password, 'password');
        // A token alone must not be enough to take over an account: the
        // caller proves who they are with their own current password.
        const mine = readSecret(req, item.validationParameters?.password, 'validationParameters.password');
        // The same lockout as Login guards this check, or a stolen token
        // could guess the account's password here without limit.
        const acctKey = accountLockKey(p.userId);
        const wait = lockRemaining(await readThrottle(db, acctKey), now);
        if (wait > 0)
          throw new CsError('ACCOUNT_LOCKED', undefined, { isAccountLocked: true, remainingLockTime: wait });
        const me = await userById(db, p.userId);
        if (!me?.password_hash || mine === '' || !(await verifySecret(me.password_hash, mine))) {
          const locked = await db.transaction().execute(async (tx) => {
            const acct = accountFailure(await readThrottle(tx, acctKey), now);
            await writeThrottle(tx, acctKey, acct.state);
            const failure = {
              actor: actorOf(p),
              companyId: target.company_id,
              targetType: 'user',
              sourceAddr: req.ip,
              at: now,
            } as const;
            await appendAudit(tx, {
              ...failure,
              operation: 'user.password.change',
              targetId: target.id,
              targetName: target.user_name,
              outcome: 'failure',
              reason: 'validation password incorrect',
            });
            if (acct.lockedNow) {
              // Whoever holds this token is guessing: end the caller's sessions too.
              await ctx.sessions.revokeUser(tx, p.userId);
              await appendAudit(tx, {
                ...failure,
                operation: 'account.lock',
                targetId: p.userId,
                targetName: p.userName,
                outcome: 'success',
                reason: 'locked after repeated wrong validation passwords; sessions revoked',
              });
            }
            return acct.lockedNow;
          });
          if (locked) {
            ctx.sessions.forgetUser(p.userId);
            ctx.apiKeys.forgetOwner(p.userId);
            throw new CsError('ACCOUNT_LOCKED', undefined, { isAccountLocked: true });
          }
          throw new CsError('OLD_PASSWORD_WRONG');
        }
        await clearThrottle(db, acctKey);
        if (!passwordAcceptable(next)) throw new CsError('PASSWORD_POLICY');
        set.password_hash = await hashSecret(next);
        set.password_changed_at = now.toISOString();
        passwordChanged = true;
      }
      const revoke = passwordChanged || set.enabled === 0;
      await db.transaction().execute(async (tx) => {
        if (Object.keys(set).length > 0) await tx.updateTable('users').set(set).where('id', '=', target.id).execute();
        if (revoke) await ctx.sessions.revokeUser(tx, target.id);
        if (item.securityAssociations !== undefined) {
          const { named, removed } = await applyPrincipalAssociations(
            tx,
            view,
            p,
            { kind: 'user', id: target.id, name: target.user_name, companyId: target.company_id },
            item.securityAssociations,
            now.toISOString(),
          );
          Object.assign(changes, { associations: named, ...describeRemoved(view, removed) });
          await bumpAuthzVersion(tx, target.company_id !== 0 ? [target.company_id] : 'all');
        }
        // Disabling the last enabled Master would leave the CommCell without one.
        if (set.enabled === 0) await mustKeepMaster(tx);
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: target.company_id,
          operation: passwordChanged ? 'user.password.change' : 'user.update',
          targetType: 'user',
          targetId: target.id,
          targetName: target.user_name,
          outcome: 'success',
          details: { ...changes, passwordChanged, sessionsRevoked: revoke },
          sourceAddr: req.ip,
          at: now,
        });
      });
      if (revoke) {
        ctx.sessions.forgetUser(target.id);
        ctx.apiKeys.forgetOwner(target.id);
      }
      return sendCs(req, reply, 'App_UserResp', {
        response: [{ errorCode: 0, errorString: '' }],
        errorCode: 0,
        errorMessage: '',
      });
    },
  );
}
