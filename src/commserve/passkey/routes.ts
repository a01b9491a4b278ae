import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { hashSecret, verifySecret } from '../../crypto/passwords.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import { accountFailure, lockRemaining } from '../../domain/lockout.js';
import {
  AUTHORIZE_DEFAULT_SECONDS,
  AUTHORIZE_MAX_SECONDS,
  companyLevel,
  type PasskeyTarget,
  parsePasskeyOp,
  passkeyAcceptable,
  passkeyLockKey,
} from '../../domain/passkey.js';
import { companyRef } from '../../domain/permissions.js';
import {
  createPasskey,
  type PasskeyState,
  readPasskey,
  replacePasskey,
  setAuthorizeWindow,
} from '../../store/passkeys.js';
import { clearThrottle, readThrottle, writeThrottle } from '../../store/throttle.js';
import { actorOf, pathId } from '../actor.js';
import { onCommCell, type Requirement, type Target } from '../authorize.js';
import { readSecret, sendCs } from '../codec.js';
import { CS_ERRORS, CsError } from '../errors.js';
import { principalOf } from '../plugin.js';
import { Bool, Int, toBool, toInt } from '../schema.js';

// -- schemas -------------------------------------------------------------------

/** A secret: plain text in XML, base64 in JSON (decoded by readSecret). */
const Secret = () => Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Number()]));

export const SetPasskeyBody = Type.Object({
  currentPasskey: Secret(),
  newPasskey: Secret(),
  confirmPasskey: Secret(),
  /** CREATE=1, EDIT=2, DISABLE=3, by name or number. */
  passkeyOpType: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Integer()])),
});
export type SetPasskeyBody = Static<typeof SetPasskeyBody>;

export const AuthorizeForRestoreBody = Type.Object({
  passkey: Secret(),
  passkeySettings: Type.Optional(
    Type.Object({
      enableAuthorizeForRestore: Type.Optional(Bool()),
      passkeyExpirationInterval: Type.Optional(
        Type.Object({ toTime: Type.Optional(Type.Union([Int(), Type.Literal('')])) }),
      ),
    }),
  ),
});
export type AuthorizeForRestoreBody = Static<typeof AuthorizeForRestoreBody>;

/** `…/Passkey` takes either message: dispatched on the XML root or JSON wrapper, else on the keys present. */
export const PasskeyBody = Type.Composite([SetPasskeyBody, AuthorizeForRestoreBody]);
export type PasskeyBody = Static<typeof PasskeyBody>;

export const CommCellPropertiesBody = Type.Object({
  commCellInfo: Type.Object({
    generalInfo: Type.Object({ allowUsersToEnablePasskey: Type.Optional(Bool()) }),
  }),
});
export type CommCellPropertiesBody = Static<typeof CommCellPropertiesBody>;

const SET = 'App_SetPasskeyRequest';
const AUTHORIZE = 'App_AuthorizeForRestoreRequest';
type Message = typeof SET | typeof AUTHORIZE;

/** Which message a body is; null when it says neither. */
function messageOf(req: FastifyRequest): Message | null {
  if (req.csRoot === SET || req.csRoot === AUTHORIZE) return req.csRoot;
  if (req.routeOptions.config.roots?.length === 1) return AUTHORIZE;
  const body = (req.body ?? {}) as Record<string, unknown>;
  if ('passkey' in body || 'passkeySettings' in body) return AUTHORIZE;
  if (['passkeyOpType', 'currentPasskey', 'newPasskey', 'confirmPasskey'].some((k) => k in body)) return SET;
  return null;
}

const isTransport = (code: number) => Object.values(CS_ERRORS).some((e) => e.code === code && e.http !== 200);

/** The seeds' reply: `processinginstructioninfo.attributes{name:"exitval",value}` and `error{errorCode,errorMessage}`. */
function passkeyReply(code: number, message?: string): Record<string, unknown> {
  return {
    processinginstructioninfo: { attributes: { name: 'exitval', value: code } },
    error: message === undefined ? { errorCode: code } : { errorMessage: message, errorCode: code },
  };
}

const replyRoot = (req: FastifyRequest) =>
  messageOf(req) === AUTHORIZE ? 'App_AuthorizeForRestoreResponse' : 'App_SetPasskeyResponse';

const errorReply = (
  code: number,
  message: string,
  _extra: Record<string, unknown>,
  req: FastifyRequest,
): [string, Record<string, unknown>] =>
  // A transport error (no token, an unreadable body) answers as every route does.
  isTransport(code)
    ? ['App_GenericResp', { errorCode: code, errorMessage: message }]
    : [replyRoot(req), passkeyReply(code, message)];

// -- targets -------------------------------------------------------------------

/** `Company/{id}`: the company, or the CommCell for 0. */
const pathCompany: Target = (req) => {
  const id = pathId(req);
  return id === null ? null : companyRef(id);
};
const pathClient: Target = (req) => {
  const id = pathId(req);
  return id === null ? null : { type: ENTITY_TYPES.client, id };
};
const onCompany = { permission: 'Passkey Management', on: pathCompany } satisfies Requirement;
const onClient = { permission: 'Passkey Management', on: pathClient } satisfies Requirement;

// -- handlers ------------------------------------------------------------------

interface Op {
  req: FastifyRequest;
  ctx: AppContext;
  target: PasskeyTarget;
  now: Date;
}

function audit(
  op: Op,
  operation: string,
  outcome: 'success' | 'failure',
  reason?: string,
  details?: Record<string, unknown>,
) {
  const p = principalOf(op.req);
  return {
    actor: actorOf(p),
    companyId: op.req.target?.companyId ?? null,
    operation,
    targetType: op.target.level,
    targetId: op.target.id,
    targetName: op.req.target ? `${op.target.level} ${op.target.id}` : '',
    outcome,
    ...(reason === undefined ? {} : { reason }),
    ...(details === undefined ? {} : { details }),
    sourceAddr: op.req.ip,
    at: op.now,
  } as const;
}

/** Refusals already audited where they arose (a wrong passkey, with its lockout). */
const auditedAlready = new WeakSet<CsError>();

/** Runs one passkey operation: a refusal of it is audited (never with a passkey), then answered. */
async function audited<T>(op: Op, operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof CsError && !auditedAlready.has(e)) {
      await op.ctx.store.db.transaction().execute((tx) => appendAudit(tx, audit(op, operation, 'failure', e.message)));
    }
    throw e;
  }
}

/** The level's state; a company that does not exist is not found (the view knows clients, not companies' rows). */
async function stateOf(op: Op): Promise<PasskeyState> {
  const { db } = op.ctx.store;
  if (op.target.level !== 'client') {
    const row = await db.selectFrom('companies').select('id').where('id', '=', op.target.id).executeTakeFirst();
    if (!row) throw new CsError('NOT_FOUND');
  }
  return readPasskey(db, op.target);
}

/** Refuses while this user's passkey operations on this level are locked. */
async function mustNotBeLocked(op: Op): Promise<void> {
  const key = passkeyLockKey(op.target, principalOf(op.req).userId);
  const wait = lockRemaining(await readThrottle(op.ctx.store.db, key), op.now);
  if (wait > 0) {
    op.ctx.metrics.passkeyFailures.inc({ reason: 'locked' });
    throw new CsError('PASSKEY_LOCKED', `${CS_ERRORS.PASSKEY_LOCKED.message} (in ${wait} seconds)`, {
      remainingLockTime: wait,
    });
  }
}

/** Checks a passkey against the stored hash; a wrong one counts toward the lock and is audited. */
async function mustMatch(op: Op, operation: string, stored: string, given: string): Promise<void> {
  const key = passkeyLockKey(op.target, principalOf(op.req).userId);
  if (given !== '' && (await verifySecret(stored, given))) {
    await clearThrottle(op.ctx.store.db, key);
    return;
  }
  const locked = await op.ctx.store.db.transaction().execute(async (tx) => {
    const { state, lockedNow } = accountFailure(await readThrottle(tx, key), op.now);
    await writeThrottle(tx, key, state);
    const reason = lockedNow
      ? `wrong passkey; passkey operations locked for ${lockRemaining(state, op.now)} seconds`
      : 'wrong passkey';
    await appendAudit(tx, audit(op, operation, 'failure', reason));
    return lockedNow;
  });
  op.ctx.metrics.passkeyFailures.inc({ reason: 'wrong' });
  if (locked) op.ctx.metrics.lockouts.inc({ kind: 'passkey' });
  const wrong = new CsError('PASSKEY_INCORRECT');
  auditedAlready.add(wrong);
  throw wrong;
}

async function setPasskey(op: Op, body: SetPasskeyBody): Promise<void> {
  const { req } = op;
  const { db } = op.ctx.store;
  const kind = parsePasskeyOp(body.passkeyOpType);
  if (kind === null) {
    throw new CsError('BAD_REQUEST', 'passkeyOpType must be CREATE (1), EDIT (2) or DISABLE (3)');
  }
  const operation = { CREATE: 'passkey.create', EDIT: 'passkey.edit', DISABLE: 'passkey.remove' }[kind];
  await audited(op, operation, async () => {
    const current = readSecret(req, body.currentPasskey, 'currentPasskey');
    const fresh = readSecret(req, body.newPasskey, 'newPasskey');
    const confirm = readSecret(req, body.confirmPasskey, 'confirmPasskey');
    if (kind !== 'DISABLE') {
      // The documented create sends the new passkey as currentPasskey alone; cvpysdk sends new + confirm.
      const next = kind === 'CREATE' && fresh === '' ? current : fresh;
      if (kind === 'EDIT' && fresh === '') throw new CsError('BAD_REQUEST', 'newPasskey is required');
      if ((kind === 'EDIT' || fresh !== '' || confirm !== '') && next !== confirm)
        throw new CsError('PASSKEY_MISMATCH');
      if (!passkeyAcceptable(next)) throw new CsError('PASSKEY_POLICY');
      const state = await stateOf(op);
      if (kind === 'CREATE') {
        if (state.hash !== null) throw new CsError('PASSKEY_EXISTS');
        await mustNotBeLocked(op);
        const hash = await hashSecret(next);
        await db.transaction().execute(async (tx) => {
          if (!(await createPasskey(tx, op.target, hash, op.now))) throw new CsError('PASSKEY_EXISTS');
          await appendAudit(tx, audit(op, operation, 'success'));
        });
        return;
      }
      if (state.hash === null) throw new CsError('PASSKEY_NOT_SET');
      await mustNotBeLocked(op);
      await mustMatch(op, operation, state.hash, current);
      const hash = await hashSecret(next);
      await db.transaction().execute(async (tx) => {
        if (!(await replacePasskey(tx, op.target, state.hash as string, hash))) throw new CsError('PASSKEY_INCORRECT');
        await appendAudit(tx, audit(op, operation, 'success'));
      });
      return;
    }
    const state = await stateOf(op);
    if (state.hash === null) throw new CsError('PASSKEY_NOT_SET');
    await mustNotBeLocked(op);
    await mustMatch(op, operation, state.hash, current);
    await db.transaction().execute(async (tx) => {
      if (!(await replacePasskey(tx, op.target, state.hash as string, null))) throw new CsError('PASSKEY_INCORRECT');
      await appendAudit(tx, audit(op, operation, 'success'));
    });
  });
}

async function authorizeForRestore(op: Op, body: AuthorizeForRestoreBody): Promise<void> {
  const { req } = op;
  const settings = body.passkeySettings;
  if (settings?.enableAuthorizeForRestore === undefined) {
    throw new CsError('BAD_REQUEST', 'passkeySettings.enableAuthorizeForRestore is required');
  }
  const enable = toBool(settings.enableAuthorizeForRestore);
  const operation = enable ? 'passkey.authorize' : 'passkey.unauthorize';
  await audited(op, operation, async () => {
    const raw = settings.passkeyExpirationInterval?.toTime;
    const seconds = raw === undefined || raw === '' ? AUTHORIZE_DEFAULT_SECONDS : toInt(raw);
    if (enable && !(seconds >= 1 && seconds <= AUTHORIZE_MAX_SECONDS)) {
      throw new CsError(
        'INVALID_VALUE',
        `passkeySettings.passkeyExpirationInterval.toTime must be 1 to ${AUTHORIZE_MAX_SECONDS} seconds`,
      );
    }
    const given = readSecret(req, body.passkey, 'passkey');
    const state = await stateOf(op);
    if (state.hash === null) throw new CsError('PASSKEY_NOT_SET');
    // Closing the window needs no passkey (the seed sends none); one given must be right.
    if (enable || given !== '') {
      await mustNotBeLocked(op);
      await mustMatch(op, operation, state.hash, given);
    }
    const until = enable ? new Date(op.now.getTime() + seconds * 1000) : null;
    await op.ctx.store.db.transaction().execute(async (tx) => {
      if (!(await setAuthorizeWindow(tx, op.target, until))) throw new CsError('PASSKEY_NOT_SET');
      await appendAudit(
        tx,
        audit(op, operation, 'success', undefined, enable ? { toTime: seconds, until: until?.toISOString() } : {}),
      );
    });
  });
}

async function dispatch(
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: AppContext,
  target: PasskeyTarget,
): Promise<FastifyReply> {
  const op: Op = { req, ctx, target, now: ctx.clock() };
  const message = messageOf(req);
  if (message === null) {
    throw new CsError('BAD_REQUEST', `the body must be an ${SET} or an ${AUTHORIZE}`);
  }
  if (message === SET) await setPasskey(op, req.body as SetPasskeyBody);
  else await authorizeForRestore(op, req.body as AuthorizeForRestoreBody);
  return sendCs(req, reply, replyRoot(req), passkeyReply(0));
}

const companyTarget = (req: FastifyRequest) => companyLevel(pathId(req) as number);
const clientTarget = (req: FastifyRequest): PasskeyTarget => ({ level: 'client', id: pathId(req) as number });

export function registerPasskeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;
  const both = { roots: [SET, AUTHORIZE], errorReply };

  r.post(
    '/Company/:id/Passkey',
    { schema: { body: PasskeyBody }, config: { requires: onCompany, ...both } },
    (req, reply) => dispatch(req, reply, ctx, companyTarget(req)),
  );
  r.post(
    '/Company/:id/AuthRestore',
    { schema: { body: AuthorizeForRestoreBody }, config: { requires: onCompany, roots: [AUTHORIZE], errorReply } },
    (req, reply) => dispatch(req, reply, ctx, companyTarget(req)),
  );
  r.post(
    '/Client/:id/Passkey',
    { schema: { body: PasskeyBody }, config: { requires: onClient, ...both } },
    (req, reply) => dispatch(req, reply, ctx, clientTarget(req)),
  );

  // cvpysdk's Commcell.allow_users_to_enable_passkey (PUT) and the properties it reads (GET).
  r.get(
    '/Commcell/properties',
    { config: { requires: { permission: 'View', on: onCommCell } } },
    async (req, reply) => {
      const row = await db
        .selectFrom('companies')
        .select('allow_users_to_enable_passkey')
        .where('id', '=', 0)
        .executeTakeFirst();
      return sendCs(req, reply, 'App_GetCommCellPropertiesResp', {
        commCellInfo: {
          generalInfo: {
            allowUsersToEnablePasskey: row?.allow_users_to_enable_passkey === 1,
            enableTwoFactorAuthentication: false,
            enablePrivacy: false,
            twoFactorAuthenticationInfo: { mode: 0 },
          },
        },
      });
    },
  );
  r.put(
    '/Commcell/properties',
    {
      schema: { body: CommCellPropertiesBody },
      config: {
        requires: { permission: 'Passkey Management', on: onCommCell },
        roots: ['App_SetCommCellPropertiesReq'],
        errorReply: (code, message) => [
          'App_GenericResp',
          { response: [{ errorCode: code, errorMessage: message }], errorCode: code, errorMessage: message },
        ],
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const general = req.body.commCellInfo.generalInfo as Record<string, unknown>;
      const others = Object.keys(general).filter((k) => k !== 'allowUsersToEnablePasskey');
      if (others.length > 0 || general.allowUsersToEnablePasskey === undefined) {
        throw new CsError('INVALID_VALUE', 'only commCellInfo.generalInfo.allowUsersToEnablePasskey can be set here');
      }
      const allow = toBool(req.body.commCellInfo.generalInfo.allowUsersToEnablePasskey as boolean);
      const now = ctx.clock();
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('companies')
          .set({ allow_users_to_enable_passkey: allow ? 1 : 0 })
          .where('id', '=', 0)
          .execute();
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: 0,
          operation: 'commcell.properties',
          targetType: 'commcell',
          targetId: 0,
          outcome: 'success',
          details: { allowUsersToEnablePasskey: allow },
          sourceAddr: req.ip,
          at: now,
        });
      });
      return sendCs(req, reply, 'App_GenericResp', { response: [{ errorCode: 0 }] });
    },
  );
}
