import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import { tokenHashOf } from '../../auth/sessions.js';
import type { AppContext } from '../../context.js';
import { loginName } from '../../domain/principal.js';
import { readSecret, sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { principalOf } from '../plugin.js';
import { attemptLogin } from './login.js';

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.Optional(Type.String({ maxLength: 8192 })),
  deviceId: Type.Optional(Type.String({ maxLength: 256 })),
  mode: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 16 })])),
  clientType: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 16 })])),
  timeOut: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 16 })])),
});
export type LoginBody = Static<typeof LoginBody>;

export const RenewBody = Type.Object({
  sessionId: Type.Optional(Type.String({ maxLength: 512 })),
  deviceId: Type.Optional(Type.String({ maxLength: 256 })),
});

const LOGIN_ROOT = 'DM2ContentIndexing_CheckCredentialResp';

export function registerLoginRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/Login',
    {
      schema: { body: LoginBody },
      config: {
        public: true,
        roots: ['DM2ContentIndexing_CheckCredentialReq'],
        // cvpysdk reads errList[0].errLogMessage, then isAccountLocked / remainingLockTime.
        errorReply: (code, message, extra) => [
          LOGIN_ROOT,
          { errList: [{ errorCode: code, errLogMessage: message }], isAccountLocked: false, ...extra },
        ],
      },
    },
    async (req, reply) => {
      const body = req.body;
      const password = readSecret(req, body.password, 'password');
      const { token, user, company } = await attemptLogin(ctx, req, body.username, password, body.deviceId ?? null);
      return sendCs(req, reply, LOGIN_ROOT, {
        token,
        userName: loginName(company.id, company.domain_name, user.user_name),
        userGUID: user.guid,
        aliasName: String(user.id),
        smtpAddress: user.email,
        providerType: 1,
        isAccountLocked: false,
        loginAttempts: 0,
        remainingLockTime: 0,
        forcePasswordChange: user.force_password_change === 1,
        ownerOrganization: { providerId: company.id, GUID: company.guid, providerDomainName: company.domain_name },
      });
    },
  );

  const aboutSelf = { requires: { signedIn: 'acts on, and answers about, the caller only' } };

  r.post('/Logout', { config: aboutSelf }, async (req, reply) => {
    const p = principalOf(req);
    await ctx.store.db.transaction().execute(async (tx) => {
      await ctx.sessions.revokeSession(tx, p.sessionId);
      await appendAudit(tx, {
        actor: { userId: p.userId, name: loginName(p.companyId, p.companyDomain, p.userName), companyId: p.companyId },
        operation: 'logout',
        targetType: 'user',
        targetId: p.userId,
        targetName: p.userName,
        outcome: 'success',
        sourceAddr: req.ip,
        at: ctx.clock(),
      });
    });
    ctx.sessions.forgetToken(p.tokenHash);
    return sendCs(req, reply, 'App_GenericResp', { errorCode: 0, errorMessage: 'User logged out' });
  });

  const whoAmI = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const p = principalOf(req);
    return sendCs(req, reply, 'CvEntities_ProcessingInstructionInfo', {
      user: {
        userName: loginName(p.companyId, p.companyDomain, p.userName),
        userId: p.userId,
        userGUID: p.userGuid,
        providerId: p.companyId,
        providerDomainName: p.companyDomain,
      },
    });
  };
  r.get('/WhoAmI', { config: aboutSelf }, whoAmI);
  r.post('/WhoAmI', { config: aboutSelf }, whoAmI);

  r.post(
    '/RenewLoginToken',
    {
      schema: { body: RenewBody },
      config: {
        public: true,
        // cvpysdk reads error.errLogMessage when no token comes back.
        errorReply: (code, message) => [
          'App_RenewLoginTokenResp',
          { error: { errorCode: code, errLogMessage: message } },
        ],
      },
    },
    async (req, reply) => {
      const presented = req.body.sessionId || (req.headers.authtoken as string | undefined);
      const p = await ctx.sessions.resolve(presented);
      if (!p) throw new CsError('NOT_AUTHENTICATED');
      // The header, when sent, must name the same session: one token cannot renew another's.
      const header = req.headers.authtoken as string | undefined;
      if (header && tokenHashOf(header) !== p.tokenHash) throw new CsError('NOT_AUTHENTICATED');
      const token = await ctx.store.db.transaction().execute(async (tx) => {
        await ctx.sessions.revokeSession(tx, p.sessionId);
        const t = await ctx.sessions.create(tx, p.userId, req.ip, req.body.deviceId ?? null);
        await appendAudit(tx, {
          actor: {
            userId: p.userId,
            name: loginName(p.companyId, p.companyDomain, p.userName),
            companyId: p.companyId,
          },
          operation: 'token.renew',
          targetType: 'user',
          targetId: p.userId,
          targetName: p.userName,
          outcome: 'success',
          sourceAddr: req.ip,
          at: ctx.clock(),
        });
        return t;
      });
      ctx.sessions.forgetToken(p.tokenHash);
      return sendCs(req, reply, 'App_RenewLoginTokenResp', { token });
    },
  );
}
