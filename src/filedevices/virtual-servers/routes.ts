import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { addressPort, FILE_SERVER } from '../../domain/file-server.js';
import { canonicalIp, canonicalNetmask } from '../../domain/ip-address.js';
import { checkName, nameKey } from '../../domain/names.js';
import { numberedRef, virtualServerObjectId } from '../../domain/object-id.js';
import type { Tx } from '../../store/db.js';
import { isUniqueViolation } from '../../store/directory.js';
import {
  addressOwner,
  listVirtualServers,
  type VirtualServerWithAddresses,
  virtualServerByRef,
} from '../../store/file-devices.js';
import { actorOf, callerOf, type FdCaller, seesVirtualServer } from '../caller.js';
import { FdError } from '../errors.js';
import { VirtualServerCache } from './cache.js';

const Address = {
  ipAddress: Type.String({ minLength: 1, maxLength: 64 }),
  netmask: Type.String({ minLength: 1, maxLength: 64 }),
  port: Type.String({ minLength: 1, maxLength: 32 }),
};
export const CreateVirtualServerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    nodeId: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    ...Address,
  },
  { additionalProperties: false },
);
export type CreateVirtualServerBody = Static<typeof CreateVirtualServerBody>;
export const UpdateVirtualServerBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    nodeId: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  },
  { additionalProperties: false },
);
export const AddAddressBody = Type.Object(Address, { additionalProperties: false });
const ListQuery = Type.Object({
  virtualServerId: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  name: Type.Optional(Type.String({ maxLength: 256 })),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const IpParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }), ip: Type.String({ maxLength: 64 }) });

/** The reply shape, so Fastify serializes lists with a compiled serializer (fast-json-stringify). */
const VirtualServerJson = Type.Object({
  UUID: Type.String(),
  ipAddresses: Type.Array(Type.String()),
  isEnabled: Type.Boolean(),
  name: Type.String(),
  nodeId: Type.Integer(),
  objectId: Type.String(),
  status: Type.String(),
  type: Type.String(),
  virtualServerId: Type.Integer(),
});
const ListReply = Type.Object({ virtualServers: Type.Array(VirtualServerJson) });
const OneReply = Type.Object({ virtualServer: VirtualServerJson });

/** The shape HNASFileServer reads. */
export function virtualServerJson(vs: VirtualServerWithAddresses) {
  return {
    UUID: vs.uuid,
    ipAddresses: vs.addresses,
    isEnabled: vs.is_enabled === 1,
    name: vs.name,
    nodeId: vs.node_id,
    objectId: virtualServerObjectId(vs.id),
    status: vs.is_enabled === 1 ? 'ONLINE' : 'DISABLED',
    type: 'FILE_SERVER',
    virtualServerId: vs.id,
  };
}

function checkedName(raw: string): string {
  const n = checkName(raw);
  if (!n.ok) throw new FdError('INVALID_INPUT', `name ${n.problem}`);
  return n.value;
}

function checkedNode(nodeId: number | undefined): number {
  const n = nodeId ?? 1;
  if (!(FILE_SERVER.nodes as readonly number[]).includes(n)) throw new FdError('INVALID_INPUT', `no node ${n}`);
  return n;
}

function checkedAddress(b: { ipAddress: string; netmask: string; port: string }) {
  const address = canonicalIp(b.ipAddress);
  if (!address) throw new FdError('INVALID_INPUT', 'ipAddress is not an IPv4 or IPv6 address');
  const netmask = canonicalNetmask(b.netmask, address.includes(':') ? 6 : 4);
  if (!netmask) throw new FdError('INVALID_INPUT', 'netmask is not a valid mask or prefix length');
  const port = addressPort(b.port);
  if (!port)
    throw new FdError(
      'INVALID_INPUT',
      `port ${JSON.stringify(b.port.slice(0, 32))} cannot carry virtual server addresses`,
    );
  return { address, netmask, port };
}

async function insertAddress(tx: Tx, vsId: number, a: { address: string; netmask: string; port: string }) {
  if ((await addressOwner(tx, a.address)) !== undefined)
    throw new FdError('ADDRESS_IN_USE', `${a.address} is already assigned`);
  await tx
    .insertInto('fd_virtual_server_addresses')
    .values({ address: a.address, virtual_server_id: vsId, netmask: a.netmask, port: a.port })
    .execute();
}

/** A unique-constraint race (two creates of one name or address at once) answers 409, not 500. */
async function conflictsAs409<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (isUniqueViolation(e)) throw new FdError('ALREADY_EXISTS', 'the name or address was taken meanwhile');
    throw e;
  }
}

export function registerVirtualServerRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = () => ctx.store.db;
  const cache = new VirtualServerCache(ctx.store, () => ctx.clock().getTime(), virtualServerJson);

  /** The virtual server named by the path, if the caller sees it; 404 otherwise. */
  const target = async (c: FdCaller, id: string) => {
    const vs = await virtualServerByRef(db(), numberedRef(id));
    if (!vs || !seesVirtualServer(c, vs.id)) throw new FdError('NOT_FOUND', 'no such virtual server');
    return vs;
  };

  const audited = async (
    c: FdCaller,
    ip: string,
    operation: string,
    vs: { id: number; name: string },
    work: (tx: Tx) => Promise<void>,
    details?: Record<string, unknown>,
  ) => {
    await conflictsAs409(() =>
      db()
        .transaction()
        .execute(async (tx) => {
          await work(tx);
          await appendAudit(tx, {
            actor: actorOf(c),
            operation,
            targetType: 'virtualServer',
            targetId: vs.id,
            targetName: vs.name,
            outcome: 'success',
            ...(details ? { details } : {}),
            sourceAddr: ip,
            at: ctx.clock(),
          });
        }),
    );
    cache.forget();
  };

  r.post(
    '/virtual-servers',
    { schema: { body: CreateVirtualServerBody }, config: { fd: { call: 'createVirtualServer', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      if (c.powers.virtualServers !== null) {
        throw new FdError('ACCESS_DENIED', 'a key restricted to virtual servers cannot create one');
      }
      const name = checkedName(req.body.name);
      const nodeId = checkedNode(req.body.nodeId);
      const addr = checkedAddress(req.body);
      const id = await conflictsAs409(() =>
        db()
          .transaction()
          .execute(async (tx) => {
            const taken = await tx
              .selectFrom('fd_virtual_servers')
              .select('id')
              .where('name_key', '=', nameKey(name))
              .executeTakeFirst();
            if (taken) throw new FdError('ALREADY_EXISTS', `a virtual server named ${JSON.stringify(name)} exists`);
            const row = await tx
              .insertInto('fd_virtual_servers')
              .values({
                uuid: randomUUID(),
                name,
                name_key: nameKey(name),
                node_id: nodeId,
                is_enabled: 1,
                created_at: ctx.clock().toISOString(),
              })
              .returning('id')
              .executeTakeFirstOrThrow();
            await insertAddress(tx, row.id, addr);
            await appendAudit(tx, {
              actor: actorOf(c),
              operation: 'virtualserver.create',
              targetType: 'virtualServer',
              targetId: row.id,
              targetName: name,
              outcome: 'success',
              details: { nodeId, ...addr },
              sourceAddr: req.ip,
              at: ctx.clock(),
            });
            return row.id;
          }),
      );
      cache.forget();
      const [vs] = await listVirtualServers(db(), { id });
      return reply.code(201).send({ virtualServer: virtualServerJson(vs as VirtualServerWithAddresses) });
    },
  );

  r.get(
    '/virtual-servers',
    {
      schema: { querystring: ListQuery, response: { 200: ListReply } },
      config: { fd: { call: 'listVirtualServers', write: false } },
    },
    async (req) => {
      const c = callerOf(req);
      const { virtualServerId, name } = req.query;
      const key = name === undefined ? undefined : nameKey(name);
      const virtualServers = [];
      for (const { vs, json } of await cache.all()) {
        if (
          seesVirtualServer(c, vs.id) &&
          (virtualServerId === undefined || vs.id === virtualServerId) &&
          (key === undefined || vs.name_key === key)
        )
          virtualServers.push(json);
      }
      return { virtualServers };
    },
  );

  r.get(
    '/virtual-servers/:id',
    {
      schema: { params: IdParams, response: { 200: OneReply } },
      config: { fd: { call: 'getVirtualServer', write: false } },
    },
    async (req) => {
      const c = callerOf(req);
      const ref = numberedRef(req.params.id);
      const key = ref.by === 'name' ? nameKey(ref.name) : null;
      const found = (await cache.all()).find(({ vs }) => (ref.by === 'id' ? vs.id === ref.id : vs.name_key === key));
      if (!found || !seesVirtualServer(c, found.vs.id)) throw new FdError('NOT_FOUND', 'no such virtual server');
      return { virtualServer: found.json };
    },
  );

  r.patch(
    '/virtual-servers/:id',
    {
      schema: { params: IdParams, body: UpdateVirtualServerBody },
      config: { fd: { call: 'updateVirtualServer', write: true } },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const vs = await target(c, req.params.id);
      const name = req.body.name === undefined ? vs.name : checkedName(req.body.name);
      const nodeId = req.body.nodeId === undefined ? vs.node_id : checkedNode(req.body.nodeId);
      await audited(
        c,
        req.ip,
        'virtualserver.update',
        { id: vs.id, name },
        async (tx) => {
          const taken = await tx
            .selectFrom('fd_virtual_servers')
            .select('id')
            .where('name_key', '=', nameKey(name))
            .where('id', '!=', vs.id)
            .executeTakeFirst();
          if (taken) throw new FdError('ALREADY_EXISTS', `a virtual server named ${JSON.stringify(name)} exists`);
          await tx
            .updateTable('fd_virtual_servers')
            .set({ name, name_key: nameKey(name), node_id: nodeId })
            .where('id', '=', vs.id)
            .execute();
        },
        { before: { name: vs.name, nodeId: vs.node_id }, after: { name, nodeId } },
      );
      return reply.code(204).send();
    },
  );

  r.delete(
    '/virtual-servers/:id',
    { schema: { params: IdParams }, config: { fd: { call: 'deleteVirtualServer', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const vs = await target(c, req.params.id);
      await audited(c, req.ip, 'virtualserver.delete', vs, async (tx) => {
        // Checked again under the write: an enable racing the delete does not slip between.
        const gone = await tx
          .deleteFrom('fd_virtual_servers')
          .where('id', '=', vs.id)
          .where('is_enabled', '=', 0)
          .executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0) throw new FdError('VIRTUAL_SERVER_ENABLED');
      });
      return reply.code(204).send();
    },
  );

  for (const [action, enabled] of [
    ['enable', 1],
    ['disable', 0],
  ] as const) {
    r.post(
      `/virtual-servers/:id/${action}`,
      {
        schema: { params: IdParams },
        config: { fd: { call: enabled ? 'enableVirtualServer' : 'disableVirtualServer', write: true } },
      },
      async (req, reply) => {
        const c = callerOf(req);
        const vs = await target(c, req.params.id);
        await audited(c, req.ip, `virtualserver.${action}`, vs, async (tx) => {
          await tx.updateTable('fd_virtual_servers').set({ is_enabled: enabled }).where('id', '=', vs.id).execute();
        });
        return reply.code(204).send();
      },
    );
  }

  r.post(
    '/virtual-servers/:id/ip-addresses',
    {
      schema: { params: IdParams, body: AddAddressBody },
      config: { fd: { call: 'addVirtualServerIpAddress', write: true } },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const vs = await target(c, req.params.id);
      const addr = checkedAddress(req.body);
      await audited(c, req.ip, 'virtualserver.address.add', vs, (tx) => insertAddress(tx, vs.id, addr), addr);
      return reply.code(204).send();
    },
  );

  r.delete(
    '/virtual-servers/:id/ip-addresses/:ip',
    { schema: { params: IpParams }, config: { fd: { call: 'removeVirtualServerIpAddress', write: true } } },
    async (req, reply) => {
      const c = callerOf(req);
      const vs = await target(c, req.params.id);
      const address = canonicalIp(req.params.ip);
      if (!address || !vs.addresses.includes(address)) {
        throw new FdError('NOT_FOUND', 'the virtual server has no such address');
      }
      await audited(
        c,
        req.ip,
        'virtualserver.address.remove',
        vs,
        async (tx) => {
          // Locks the server's row first: two removals at once cannot each see two addresses left.
          await tx
            .updateTable('fd_virtual_servers')
            .set((eb) => ({ node_id: eb.ref('node_id') }))
            .where('id', '=', vs.id)
            .execute();
          const left = await tx
            .selectFrom('fd_virtual_server_addresses')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('virtual_server_id', '=', vs.id)
            .executeTakeFirstOrThrow();
          if (Number(left.n) <= 1) throw new FdError('LAST_ADDRESS');
          await tx
            .deleteFrom('fd_virtual_server_addresses')
            .where('virtual_server_id', '=', vs.id)
            .where('address', '=', address)
            .execute();
        },
        { address },
      );
      return reply.code(204).send();
    },
  );
}
