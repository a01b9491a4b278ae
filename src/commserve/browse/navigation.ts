import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { appIdOf, appNameOf } from '../../domain/agents.js';
import type { AuthzView, EntityInView } from '../../domain/authz.js';
import { ENTITY_TYPES } from '../../domain/catalogue.js';
import type { Principal } from '../../domain/principal.js';
import { attributesOf } from '../../store/catalogue.js';
import type { Executor } from '../../store/db.js';
import { pathId } from '../actor.js';
import { type Requirement, type Target, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { accountOut } from '../entity/accounts.js';
import { principalOf } from '../plugin.js';

// The product's navigation down to a subclient, as cvpysdk reads it
// (client.py, agent.py, instance.py, backupset.py, subclient.py):
// GET Agent?clientId=, Instance?clientId=, Backupset?clientId=, Backupset/{id},
// Subclient?clientId=&applicationId=, Subclient/{id}. Each needs View on the
// entity it names (the client for the lists) and lists only the entities
// beneath it that the caller holds View on.

export const ClientQuery = Type.Object({
  clientId: Type.Optional(Type.String({ maxLength: 20 })),
  applicationId: Type.Optional(Type.String({ maxLength: 20 })),
});
export type ClientQuery = Static<typeof ClientQuery>;

const digits = (v: unknown): number | null =>
  typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : typeof v === 'number' ? v : null;

/** The client a list names by `?clientId=`. */
const queryClient: Target = (req) => {
  const id = digits((req.query as ClientQuery).clientId);
  return id === null ? null : { type: ENTITY_TYPES.client, id };
};
const pathOf =
  (type: number): Target =>
  (req) => {
    const id = pathId(req);
    return id === null ? null : { type, id };
  };

const seesClient = { permission: 'View', on: queryClient } satisfies Requirement;

/** One subclient's chain, with what cvpysdk names each level by. */
export interface Chain {
  client: EntityInView;
  os: string | null;
  agent: EntityInView;
  appId: number;
  appName: string;
  instance: EntityInView;
  backupSet: EntityInView;
}

/** Each level of a client's tree (agents, instances, backup sets, subclients) the caller may View, from the view. */
async function treeOf(db: Executor, view: AuthzView, p: Principal, clientId: number) {
  const client = view.entity({ type: ENTITY_TYPES.client, id: clientId });
  if (!client) return null;
  const rows = await db
    .selectFrom('entities as a')
    .leftJoin('entities as i', 'i.parent_id', 'a.id')
    .leftJoin('entities as b', 'b.parent_id', 'i.id')
    .leftJoin('entities as s', 's.parent_id', 'b.id')
    .select(['a.id as agent', 'i.id as instance', 'b.id as backupSet', 's.id as subclient'])
    .where('a.parent_id', '=', clientId)
    .where('a.type', '=', ENTITY_TYPES.agent)
    .orderBy('a.id')
    .orderBy('i.id')
    .orderBy('b.id')
    .orderBy('s.id')
    .execute();
  const agentIds = [...new Set(rows.map((r) => r.agent))];
  const attrs = await attributesOf(db, [clientId, ...agentIds]);
  const os = attrs.get(clientId)?.os ?? null;
  const seen = new Set<number>();
  const visible = (type: number, id: number | null) => {
    if (id === null) return null;
    const e = view.entity({ type, id });
    return e && view.allowed(p.userId, 'View', { type, id }) ? e : null;
  };
  const out = {
    agents: [] as Chain[],
    instances: [] as Chain[],
    backupSets: [] as Chain[],
    subclients: [] as Array<Chain & { subclient: EntityInView }>,
  };
  for (const r of rows) {
    const agent = view.entity({ type: ENTITY_TYPES.agent, id: r.agent });
    if (!agent) continue;
    const appId = appIdOf(attrs.get(agent.id)?.appId, agent.name, os);
    const base = { client, os, agent, appId, appName: appNameOf(appId, agent.name) };
    const once = (id: number, push: () => void) => {
      if (!seen.has(id)) {
        seen.add(id);
        push();
      }
    };
    if (visible(ENTITY_TYPES.agent, r.agent)) once(r.agent, () => out.agents.push(base as Chain));
    const instance = r.instance === null ? null : view.entity({ type: ENTITY_TYPES.instance, id: r.instance });
    if (!instance) continue;
    if (visible(ENTITY_TYPES.instance, instance.id))
      once(instance.id, () => out.instances.push({ ...base, instance } as Chain));
    const backupSet = r.backupSet === null ? null : view.entity({ type: ENTITY_TYPES.backupSet, id: r.backupSet });
    if (!backupSet) continue;
    if (visible(ENTITY_TYPES.backupSet, backupSet.id))
      once(backupSet.id, () => out.backupSets.push({ ...base, instance, backupSet }));
    const subclient = visible(ENTITY_TYPES.subclient, r.subclient);
    if (subclient) once(subclient.id, () => out.subclients.push({ ...base, instance, backupSet, subclient }));
  }
  return out;
}

/** The chain above one entity (a backup set or a subclient), from the view. */
export async function chainAbove(db: Executor, view: AuthzView, e: EntityInView): Promise<Chain | null> {
  const up = (type: number, id: number | null) => (id === null ? null : view.entity({ type, id }));
  const backupSet = e.type === ENTITY_TYPES.subclient ? up(ENTITY_TYPES.backupSet, e.parentId) : e;
  const instance = backupSet && up(ENTITY_TYPES.instance, backupSet.parentId);
  const agent = instance && up(ENTITY_TYPES.agent, instance.parentId);
  const client = agent && up(ENTITY_TYPES.client, agent.parentId);
  if (!backupSet || !instance || !agent || !client) return null;
  const attrs = await attributesOf(db, [client.id, agent.id]);
  const os = attrs.get(client.id)?.os ?? null;
  const appId = appIdOf(attrs.get(agent.id)?.appId, agent.name, os);
  return { client, os, agent, appId, appName: appNameOf(appId, agent.name), instance, backupSet };
}

const activity = () => ({
  activityControlOptions: [1, 2, 16].map((activityType) => ({ activityType, enableActivityType: true })),
});

const idaEntity = (c: Chain) => ({
  clientId: c.client.id,
  clientName: c.client.name,
  applicationId: c.appId,
  appName: c.appName,
});
const instanceEntity = (c: Chain) => ({
  ...idaEntity(c),
  instanceId: c.instance.id,
  instanceName: c.instance.name,
});
export const backupSetEntity = (c: Chain) => ({
  ...instanceEntity(c),
  backupsetId: c.backupSet.id,
  backupsetName: c.backupSet.name,
  _type_: ENTITY_TYPES.backupSet,
});
export const subClientEntity = (c: Chain, s: EntityInView) => ({
  ...backupSetEntity(c),
  subclientId: s.id,
  subclientName: s.name,
  _type_: ENTITY_TYPES.subclient,
});

const backupsetProperties = (c: Chain) => ({
  backupSetEntity: backupSetEntity(c),
  commonBackupSet: {
    isDefaultBackupSet: c.backupSet.name.toLowerCase() === 'defaultbackupset',
    onDemandBackupset: false,
  },
  planEntity: {},
});
const subclientProperties = (c: Chain, s: EntityInView) => ({
  subClientEntity: subClientEntity(c, s),
  commonProperties: { isDefaultSubclient: s.name.toLowerCase() === 'default', enableBackup: true },
});

/** What cvpysdk's Client reads from GET Client/{id} beyond the entity: OS, port, time zone, activity control. */
export async function clientDetails(db: Executor, clientId: number) {
  const os = (await attributesOf(db, [clientId])).get(clientId)?.os ?? null;
  const windows = os === 'Windows';
  return {
    client: {
      osInfo: {
        Type: windows ? 'Windows' : 'Unix',
        SubType: windows ? 'Server' : 'Linux',
        OsDisplayInfo: { ProcessorType: 'x64', OSName: os ?? 'Linux' },
      },
      cvdPort: 8400,
      TimeZone: { TimeZoneName: 'UTC' },
      versionInfo: {},
    },
    clientProps: {
      activityControl: { EnableDataRecovery: true, EnableDataManagement: true, EnableOnlineContentIndex: false },
      clientActivityControl: activity(),
      EnableSnapBackups: false,
      // cvpysdk's Client.update_properties pops this key from the properties it
      // read before posting them back, and raises KeyError when it is missing.
      CVS3BucketName: '',
    },
  };
}

export function registerNavigationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { db } = ctx.store;
  const tree = async (req: FastifyRequest) => {
    const clientId = req.target?.ref.id as number;
    return treeOf(db, await viewOf(req), principalOf(req), clientId);
  };
  const wantApp = (req: FastifyRequest) => digits((req.query as ClientQuery).applicationId);

  // cvpysdk's Clients reads virtualization access nodes on every refresh; Bulwark keeps none.
  app.get(
    '/VSAClientAndClientGroupList',
    { config: { requires: { signedIn: 'answers an empty list: Bulwark keeps no virtualization access nodes' } } },
    async (req, reply) => sendCs(req, reply, 'App_VSAClientAndClientGroupListResp', { clients: [], groups: [] }),
  );

  // cvpysdk's Commcell reads this before a restore (its time zone, the CommServe's name).
  app.get(
    '/CommServ',
    { config: { requires: { signedIn: "the CommServe's name, version and time zone, the same for everyone" } } },
    async (req, reply) =>
      sendCs(req, reply, 'App_GetCommServResp', {
        commcell: { commCellName: 'bulwark', commCellId: 2, csGUID: '00000000-0000-0000-0000-000000000000' },
        hostName: 'bulwark',
        csTimeZone: { TimeZoneName: 'UTC' },
        timeZone: '(UTC) Coordinated Universal Time',
        currentSPVersion: 32,
        csVersionInfo: '11.32.0',
        releaseName: 'Bulwark',
      }),
  );

  // cvpysdk's backup sets and subclients read their schedules when made; Bulwark keeps none.
  app.get(
    '/Schedules',
    { config: { requires: { signedIn: 'answers an empty list: Bulwark keeps no schedules' } } },
    async (req, reply) => sendCs(req, reply, 'TMMsg_TaskDetailResp', { taskDetail: [] }),
  );

  app.get('/Agent', { schema: { querystring: ClientQuery }, config: { requires: seesClient } }, async (req, reply) => {
    const t = await tree(req);
    const app = wantApp(req);
    return sendCs(req, reply, 'App_GetAgentPropertiesResponse', {
      agentProperties: (t?.agents ?? [])
        .filter((c) => app === null || c.appId === app)
        .map((c) => ({ idaEntity: { ...idaEntity(c), _type_: ENTITY_TYPES.agent }, idaActivityControl: activity() })),
    });
  });

  app.get(
    '/Instance',
    { schema: { querystring: ClientQuery }, config: { requires: seesClient } },
    async (req, reply) => {
      const t = await tree(req);
      const app = wantApp(req);
      return sendCs(req, reply, 'App_GetInstancePropertiesResponse', {
        instanceProperties: (t?.instances ?? [])
          .filter((c) => app === null || c.appId === app)
          .map((c) => ({
            instance: { ...instanceEntity(c), _type_: ENTITY_TYPES.instance },
            instanceActivityControl: activity(),
          })),
      });
    },
  );

  app.get(
    '/Backupset',
    { schema: { querystring: ClientQuery }, config: { requires: seesClient } },
    async (req, reply) => {
      const t = await tree(req);
      const app = wantApp(req);
      return sendCs(req, reply, 'App_GetBackupsetPropertiesResponse', {
        backupsetProperties: (t?.backupSets ?? [])
          .filter((c) => app === null || c.appId === app)
          .map(backupsetProperties),
      });
    },
  );

  app.get(
    '/Backupset/:id',
    { config: { requires: { permission: 'View', on: pathOf(ENTITY_TYPES.backupSet) } } },
    async (req, reply) => {
      const view = await viewOf(req);
      const e = view.entity(req.target?.ref as NonNullable<typeof req.target>['ref']);
      const c = e && (await chainAbove(db, view, e));
      return sendCs(req, reply, 'App_GetBackupsetPropertiesResponse', {
        backupsetProperties: c ? [backupsetProperties(c)] : [],
      });
    },
  );

  app.get(
    '/Subclient',
    { schema: { querystring: ClientQuery }, config: { requires: seesClient } },
    async (req, reply) => {
      const t = await tree(req);
      const app = wantApp(req);
      return sendCs(req, reply, 'App_GetSubClientPropertiesResponse', {
        subClientProperties: (t?.subclients ?? [])
          .filter((c) => app === null || c.appId === app)
          .map((c) => subclientProperties(c, c.subclient)),
      });
    },
  );

  app.get(
    '/Subclient/:id',
    { config: { requires: { permission: 'View', on: pathOf(ENTITY_TYPES.subclient) } } },
    async (req, reply) => {
      const view = await viewOf(req);
      const s = view.entity(req.target?.ref as NonNullable<typeof req.target>['ref']);
      const c = s && (await chainAbove(db, view, s));
      return sendCs(req, reply, 'App_GetSubClientPropertiesResponse', {
        subClientProperties:
          c && s
            ? [
                {
                  ...subclientProperties(c, s),
                  fsSubClientProp: { isDDBSubclient: false },
                  content: [],
                  // The UNC-path account's user name, never its password (src/commserve/entity/accounts.ts).
                  impersonateUser: await accountOut(db, s.id, 'subclientUnc'),
                  proxyClient: {},
                  planEntity: {},
                },
              ]
            : [],
      });
    },
  );
}
