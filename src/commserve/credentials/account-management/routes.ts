import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../../audit/log.js';
import type { AppContext } from '../../../context.js';
import type { AuthzView } from '../../../domain/authz.js';
import { userKey } from '../../../domain/credentials.js';
import { accountFailure, accountManagementLockKey, lockRemaining } from '../../../domain/lockout.js';
import { PASSWORD_RULE, passwordAcceptable } from '../../../domain/password-policy.js';
import { COMMCELL, canSeeCompany } from '../../../domain/permissions.js';
import type { Principal } from '../../../domain/principal.js';
import type { Executor } from '../../../store/db.js';
import { clearThrottle, readThrottle, writeThrottle } from '../../../store/throttle.js';
import { actorOf } from '../../actor.js';
import type { Requirement } from '../../authorize.js';
import { viewOf } from '../../authorize.js';
import { readSecret, sendCs } from '../../codec.js';
import { CS_ERRORS, CsError } from '../../errors.js';
import { readDescription, readName } from '../../names.js';
import { principalOf } from '../../plugin.js';
import { Bool, Int, toBool, toInt } from '../../schema.js';
import {
  ADMINISTRATIVE_MANAGEMENT,
  applyChange,
  auditEntity,
  type Candidate,
  type Change,
  CREDENTIAL_MANAGEMENT,
  describe,
  findCandidates,
  groupChanges,
  managesAnyCredentials,
  refusal,
  withPassword,
} from './plan.js';

// POST User/AccountManagement (seed commvault-user-account-management.txt):
// every stored account (entity-bound accounts and Credential Manager records)
// of one user name, in the companies the caller may see, gets a new user name
// and/or password at once; preview=1 answers what would change and changes
// nothing. Rights, errors and lockout: README "Account management".

const ROOT = 'GuiServer_ModifyCredsReq';

/** An empty XML attribute (`reason=""`) arrives from the parser as an empty object: it is the empty text. */
const Empty = Type.Object({}, { additionalProperties: false });
const text = (v: string | number | Record<string, never> | undefined): string | number | undefined =>
  v !== null && typeof v === 'object' ? '' : v;

const Creds = Type.Object({
  userName: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Empty])),
  password: Type.Optional(Type.Union([Type.String({ maxLength: 8192 }), Type.Number(), Empty])),
});

export const ModifyCredsReq = Type.Object({
  preview: Type.Optional(Bool()),
  reason: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Empty])),
  skipPasswordCheck: Type.Optional(Bool()),
  processinginstructioninfo: Type.Optional(Type.Unknown()),
  credsInfo: Type.Object({
    oldCredentials: Type.Optional(Creds),
    newCredentials: Type.Optional(Creds),
    associations: Type.Optional(Type.Object({ _type_: Type.Optional(Int()) })),
  }),
});
export type ModifyCredsReq = Static<typeof ModifyCredsReq>;

/** The seed's answer to an applied change (two spaces after the first sentence, as the seed has them). */
export const APPLIED_MESSAGE = 'User names/Passwords have been updated.  Consult Audit Trail for details.';

const requires = {
  each: [CREDENTIAL_MANAGEMENT, ADMINISTRATIVE_MANAGEMENT],
  of: "each matching account: its entity, or a Credential Manager record's company; skipPasswordCheck=1 also both on the account's company",
} satisfies Requirement;

interface Input {
  preview: boolean;
  skip: boolean;
  reason: string;
  oldUserName: string;
  key: string;
  oldPassword: string;
  change: Change;
}

/** The request read and checked before anything is looked up. */
export function readInput(req: FastifyRequest, b: ModifyCredsReq): Input {
  if (b.preview === undefined) throw new CsError('BAD_REQUEST', 'preview is required: 1 to preview, 0 to apply');
  const type = b.credsInfo.associations?._type_;
  if (type !== undefined && toInt(type) !== 2) {
    throw new CsError('INVALID_VALUE', 'credsInfo.associations._type_ must be 2');
  }
  const old = b.credsInfo.oldCredentials;
  const oldName = String(text(old?.userName) ?? '');
  if (oldName.trim() === '') throw new CsError('BAD_REQUEST', 'credsInfo.oldCredentials.userName is required');
  const oldUserName = readName(oldName, 'credsInfo.oldCredentials.userName', 512);
  const key = userKey(oldUserName);
  if (key === '') throw new CsError('INVALID_VALUE', 'credsInfo.oldCredentials.userName names no user');
  const skip = b.skipPasswordCheck === undefined ? false : toBool(b.skipPasswordCheck);
  const oldPassword = readSecret(req, text(old?.password), 'credsInfo.oldCredentials.password');
  if (!skip && oldPassword === '') {
    throw new CsError('BAD_REQUEST', 'credsInfo.oldCredentials.password is required unless skipPasswordCheck is 1');
  }
  const change: Change = {};
  const next = b.credsInfo.newCredentials;
  const newName = String(text(next?.userName) ?? '');
  if (newName.trim() !== '') {
    const userName = readName(newName, 'credsInfo.newCredentials.userName', 512);
    const newKey = userKey(userName);
    if (newKey === '') throw new CsError('INVALID_VALUE', 'credsInfo.newCredentials.userName names no user');
    // Another spelling of the same account keeps each stored spelling.
    if (newKey !== key) change.userName = userName;
  }
  if (next?.password !== undefined) {
    const password = readSecret(req, text(next.password), 'credsInfo.newCredentials.password');
    if (!passwordAcceptable(password)) {
      throw new CsError(
        'PASSWORD_POLICY',
        `credsInfo.newCredentials.password does not meet the policy: ${PASSWORD_RULE}`,
      );
    }
    change.password = password;
  }
  if (change.password === undefined && change.userName === undefined) {
    throw new CsError(
      'BAD_REQUEST',
      'credsInfo.newCredentials needs a password, or a userName naming another account, to change anything',
    );
  }
  return {
    preview: toBool(b.preview),
    skip,
    reason: readDescription(String(text(b.reason) ?? ''), 'reason', 1024),
    oldUserName,
    key,
    oldPassword,
    change,
  };
}

/** The companies whose accounts the caller may learn of (all: `null`). */
function companiesSeen(view: AuthzView, p: Principal): number[] | null {
  if (view.allowed(p.userId, 'View', COMMCELL)) return null;
  return [...new Set([p.companyId, ...view.companies()])].filter((c) => canSeeCompany(view, p, c));
}

const refused = (why: string) =>
  new CsError('INSUFFICIENT_PRIVILEGES', `${CS_ERRORS.INSUFFICIENT_PRIVILEGES.message}: ${why}, which you do not hold`);

const lockedError = (seconds: number) =>
  new CsError('ACCOUNT_MANAGEMENT_LOCKED', `${CS_ERRORS.ACCOUNT_MANAGEMENT_LOCKED.message} (in ${seconds} seconds)`);

export function registerAccountManagementRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  r.post(
    '/User/AccountManagement',
    { schema: { body: ModifyCredsReq }, config: { roots: [ROOT], requires } },
    async (req, reply) => {
      const p = principalOf(req);
      const view = await viewOf(req);
      const now = ctx.clock();
      const input = readInput(req, req.body);
      // Who holds Credential Management nowhere learns nothing here, not even whether a name is stored.
      if (!managesAnyCredentials(view, p)) {
        throw refused(`changing stored accounts needs ${CREDENTIAL_MANAGEMENT} on their entities`);
      }
      const lockKey = accountManagementLockKey(p.userId);
      const lockState = await readThrottle(db, lockKey);
      const wait = lockRemaining(lockState, now);
      if (wait > 0) throw lockedError(wait);
      const scope = companiesSeen(view, p);

      /** The matching accounts the change applies to; every right is checked before any secret is opened. */
      const plan = async (ex: Executor, forUpdate: boolean) => {
        const candidates = await findCandidates(ex, input.key, scope, forUpdate);
        if (candidates.length === 0) throw new CsError('NO_ACCOUNT_MATCHED');
        for (const c of candidates) {
          const why = refusal(view, p, c, input.skip);
          if (why) throw refused(why);
        }
        const affected = input.skip ? candidates : await withPassword(ex, ctx.vault, candidates, input.oldPassword);
        return { candidates, affected };
      };

      /** A wrong old password counts toward the caller's lock, audited in the transaction that counts it. */
      const wrongPassword = async (candidates: readonly Candidate[]): Promise<never> => {
        const outcome = await db.transaction().execute(async (tx) => {
          const failure = accountFailure(await readThrottle(tx, lockKey), now);
          await writeThrottle(tx, lockKey, failure.state);
          const base = {
            actor: actorOf(p),
            targetType: 'user-account',
            targetName: input.oldUserName,
            sourceAddr: req.ip,
            at: now,
          };
          await appendAudit(tx, {
            ...base,
            operation: 'credential.account-management',
            outcome: 'failure',
            reason: 'the old password matches no stored account of that user name',
            details: { preview: input.preview, candidates: candidates.length },
          });
          if (failure.lockedNow) {
            await appendAudit(tx, {
              ...base,
              operation: 'account-management.lock',
              outcome: 'success',
              reason: 'locked after repeated wrong old passwords',
              details: { lockedUntil: failure.state.lockedUntil?.toISOString() },
            });
          }
          return failure;
        });
        if (outcome.lockedNow) {
          ctx.metrics.lockouts.inc({ kind: 'account_management' });
          throw lockedError(lockRemaining(outcome.state, now));
        }
        throw new CsError('OLD_PASSWORD_WRONG');
      };

      if (input.preview) {
        const { candidates, affected } = await plan(db, false);
        if (affected.length === 0) return wrongPassword(candidates);
        if (lockState !== null && !input.skip) await clearThrottle(db, lockKey);
        const shown = await describe(db, view, affected);
        return sendCs(req, reply, 'GuiServer_ModifyCredsResp', {
          credentialChanges: groupChanges(affected, input.change, shown),
        });
      }

      const forUpdate = ctx.store.dialect === 'postgres';
      const done = await db.transaction().execute(async (tx) => {
        const { candidates, affected } = await plan(tx, forUpdate);
        if (affected.length === 0) return { wrong: candidates };
        if (!(await applyChange(tx, await ctx.vault.sealer(tx), affected, input.change, now))) {
          throw new Error('a matched account vanished inside its transaction');
        }
        if (lockState !== null && !input.skip) await clearThrottle(tx, lockKey);
        const companies = [...new Set(affected.map((c) => c.companyId))];
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: companies.length === 1 ? companies[0] : p.companyId,
          operation: 'credential.account-management',
          targetType: 'user-account',
          targetName: input.oldUserName,
          outcome: 'success',
          reason: input.reason,
          details: {
            userName: input.oldUserName,
            ...(input.change.userName !== undefined ? { newUserName: input.change.userName } : {}),
            passwordChanged: input.change.password !== undefined,
            skipPasswordCheck: input.skip,
            count: affected.length,
            entities: affected.map(auditEntity),
          },
          sourceAddr: req.ip,
          at: now,
        });
        return { wrong: null };
      });
      if (done.wrong) return wrongPassword(done.wrong);
      return sendCs(req, reply, 'App_GenericResp', { errorMessage: APPLIED_MESSAGE, errorCode: 0 });
    },
  );
}
