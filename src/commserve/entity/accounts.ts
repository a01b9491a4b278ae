import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { appIdOf, appNameOf } from '../../domain/agents.js';
import type { EntityInView } from '../../domain/authz.js';
import { ENTITY_TYPES, type Permission } from '../../domain/catalogue.js';
import type { AccountKind } from '../../domain/credentials.js';
import { accountChange } from '../../domain/entity-accounts.js';
import { attributesOf } from '../../store/catalogue.js';
import { clearEntityAccount, setEntityAccount } from '../../store/credentials.js';
import type { Executor } from '../../store/db.js';
import { accountUserName, renameEntityAccount } from '../../store/entity-accounts.js';
import { actorOf, pathId } from '../actor.js';
import { type Requirement, type Target, viewOf } from '../authorize.js';
import { readSecret, sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { readName } from '../names.js';
import { principalOf } from '../plugin.js';

// Entity-bound service accounts as cvpysdk sets and reads them: a subclient's
// `impersonateUser` (the account its UNC-path content is read with;
// FileSystemSubclient.impersonate_user), an instance's `impersonateUser`, and
// a client's `clientProps.impersonateUser`, each in the whole-body property
// update the SDK posts (POST Subclient/{id}, Instance/{id}, Client/{id}).
// Reads answer the user name only; the password is sealed in the vault to the
// entity and the kind (src/store/credentials.ts). Setting one takes the edit
// right on the entity itself (Administrative Management), as renaming does.

const MANAGE: Permission = 'Administrative Management';
const USER_NAME_MAX = 256;
const SECRET_MAX = 4096;

const pathOf =
  (type: number): Target =>
  (req) => {
    const id = pathId(req);
    return id === null ? null : { type, id };
  };
const manages = (type: number) => ({ permission: MANAGE, on: pathOf(type) }) satisfies Requirement;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;

/** The `impersonateUser` object at `path` of the body, if sent. */
function sentAccount(body: unknown, path: string[]): Obj | undefined {
  let at: unknown = body;
  for (const k of path) {
    const o = obj(at);
    if (o === undefined) {
      if (at !== undefined) throw new CsError('BAD_REQUEST', `${path.join('.')} must be an object`);
      return undefined;
    }
    at = o[k];
  }
  if (at === undefined || at === null) return undefined;
  const o = obj(at);
  if (!o) throw new CsError('BAD_REQUEST', `${path.join('.')} must be an object`);
  return o;
}

/** The user name an account's object names ('' clears), or undefined when not sent. */
function readUserName(raw: unknown, field: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string' && raw.trim() === '') return '';
  return readName(raw, field, USER_NAME_MAX);
}

/** A password (base64 in JSON, plain in XML), or undefined when not sent or empty. */
function readPassword(req: FastifyRequest, raw: unknown, field: string): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const s = readSecret(req, raw, field);
  if (s.trim() === '') throw new CsError('INVALID_VALUE', `${field} must not be blank`);
  if ([...s].length > SECRET_MAX)
    throw new CsError('INVALID_VALUE', `${field} is longer than ${SECRET_MAX} characters`);
  return s;
}

/** What a read shows of an entity's account: its user name, or `{}`. */
export async function accountOut(db: Executor, entityId: number, kind: AccountKind): Promise<{ userName?: string }> {
  const userName = await accountUserName(db, entityId, kind);
  return userName === null ? {} : { userName };
}

const updated = (req: FastifyRequest, reply: FastifyReply, root: string) =>
  sendCs(req, reply, root, { response: [{ errorCode: 0, errorString: '' }] });

export function registerAccountRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { db } = ctx.store;

  /** Applies the account sent at `path` (if any) to the path's entity, with its audit record, in one transaction. */
  async function apply(req: FastifyRequest, kind: AccountKind, path: string[]): Promise<void> {
    const view = await viewOf(req);
    const e = view.entity(req.target?.ref as NonNullable<typeof req.target>['ref']);
    if (!e) throw new CsError('NOT_FOUND', `no entity with id ${req.target?.ref.id}`);
    const sent = sentAccount(req.body, path);
    if (!sent) return;
    const at = path.join('.');
    const userName = readUserName(sent.userName, `${at}.userName`);
    const password = readPassword(req, sent.password, `${at}.password`);
    const p = principalOf(req);
    const now = ctx.clock();
    await db.transaction().execute(async (tx) => {
      const current = await accountUserName(tx, e.id, kind);
      const ch = accountChange(current, userName, password);
      if (ch.op === 'refuse') throw new CsError('INVALID_VALUE', `${at}: ${ch.problem}`);
      if (ch.op === 'none') return;
      if (ch.op === 'set') {
        await setEntityAccount(tx, ctx.vault, {
          entityId: e.id,
          kind,
          companyId: e.companyId,
          userName: ch.userName,
          password: ch.password,
          at: now,
        });
      } else if (ch.op === 'rename') {
        await renameEntityAccount(tx, { entityId: e.id, kind, userName: ch.userName, at: now });
      } else {
        await clearEntityAccount(tx, e.id, kind);
      }
      await appendAudit(tx, {
        actor: actorOf(p),
        companyId: e.companyId,
        operation: ch.op === 'clear' ? 'entity.account.clear' : 'entity.account.set',
        targetType: String(e.type),
        targetId: e.id,
        targetName: e.name,
        outcome: 'success',
        details: {
          kind,
          userName: { from: current, to: ch.op === 'clear' ? null : ch.userName },
          passwordChanged: ch.op === 'set',
        },
        sourceAddr: req.ip,
        at: now,
      });
    });
  }

  app.post('/Subclient/:id', { config: { requires: manages(ENTITY_TYPES.subclient) } }, async (req, reply) => {
    await apply(req, 'subclientUnc', ['subClientProperties', 'impersonateUser']);
    return updated(req, reply, 'App_UpdateSubClientPropertiesResponse');
  });

  app.post('/Instance/:id', { config: { requires: manages(ENTITY_TYPES.instance) } }, async (req, reply) => {
    await apply(req, 'instanceImpersonation', ['instanceProperties', 'impersonateUser']);
    return updated(req, reply, 'App_UpdateInstancePropertiesResponse');
  });

  app.post('/Client/:id', { config: { requires: manages(ENTITY_TYPES.client) } }, async (req, reply) => {
    await apply(req, 'clientImpersonation', ['clientProperties', 'clientProps', 'impersonateUser']);
    return updated(req, reply, 'App_SetClientPropertiesResponse');
  });

  // cvpysdk's Instance reads its properties here (Instance/{id}?association/entity/clientId=…).
  app.get(
    '/Instance/:id',
    { config: { requires: { permission: 'View', on: pathOf(ENTITY_TYPES.instance) } } },
    async (req, reply) => {
      const view = await viewOf(req);
      const i = view.entity(req.target?.ref as NonNullable<typeof req.target>['ref']);
      const up = (type: number, id: number | null): EntityInView | null =>
        id === null ? null : view.entity({ type, id });
      const agent = i && up(ENTITY_TYPES.agent, i.parentId);
      const client = agent && up(ENTITY_TYPES.client, agent.parentId);
      if (!i || !agent || !client) {
        return sendCs(req, reply, 'App_GetInstancePropertiesResponse', { instanceProperties: [] });
      }
      const attrs = await attributesOf(db, [client.id, agent.id]);
      const appId = appIdOf(attrs.get(agent.id)?.appId, agent.name, attrs.get(client.id)?.os ?? null);
      return sendCs(req, reply, 'App_GetInstancePropertiesResponse', {
        instanceProperties: [
          {
            instance: {
              clientId: client.id,
              clientName: client.name,
              applicationId: appId,
              appName: appNameOf(appId, agent.name),
              instanceId: i.id,
              instanceName: i.name,
              _type_: ENTITY_TYPES.instance,
            },
            instanceActivityControl: {
              activityControlOptions: [1, 2, 16].map((activityType) => ({ activityType, enableActivityType: true })),
            },
            impersonateUser: await accountOut(db, i.id, 'instanceImpersonation'),
          },
        ],
      });
    },
  );
}
