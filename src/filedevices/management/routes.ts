import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { levelOf } from '../../auth/access-level.js';
import type { AppContext } from '../../context.js';
import type { UserLevel } from '../../domain/api-keys.js';
import { nameKey } from '../../domain/names.js';
import { encodeObjectId, numberedRef } from '../../domain/object-id.js';
import { loginName } from '../../domain/principal.js';
import { listUsers } from '../../store/directory.js';
import type { User } from '../../store/schema.js';
import { callerOf } from '../caller.js';
import { FdError } from '../errors.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

function userJson(u: User & { domain_name: string }, level: UserLevel) {
  return {
    objectId: encodeObjectId([u.id]),
    userId: u.id,
    name: loginName(u.company_id, u.domain_name, u.user_name),
    fullName: u.full_name,
    accessLevel: level,
    isEnabled: u.enabled === 1,
  };
}

export function registerManagementRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** The CommCell's users holding a level, with it (tenant users never hold one). */
  const managementUsers = async () => {
    const view = await ctx.authz.current();
    const out: Array<{ user: User & { domain_name: string }; level: UserLevel }> = [];
    for (const u of await listUsers(ctx.store.db, { companies: [0], users: [] })) {
      const level = levelOf(view, u.id);
      if (level !== null) out.push({ user: u, level });
    }
    return out;
  };

  // The caller's own access: a user's level, or a key's effective access and the level of its owner.
  app.get(
    '/file-devices/management/access-level',
    { config: { fd: { call: 'getAccessLevel', write: false } } },
    async (req) => {
      const c = callerOf(req);
      return {
        accessLevel: c.level,
        restApiAccess: c.access,
        soapApiAccess: c.powers.soap,
        user: c.userName,
        ...(c.key ? { apiKeyPrefix: c.key.prefix } : {}),
      };
    },
  );

  // Management users: the Bulwark users holding a file-devices access level (src/auth/access-level.ts).
  app.get(
    '/file-devices/management/users',
    { config: { fd: { call: 'listManagementUsers', write: false } } },
    async () => ({ users: (await managementUsers()).map((m) => userJson(m.user, m.level)) }),
  );

  // One management user by object id, user id or name; a user without a level is no management user (404).
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/file-devices/management/users/:id',
      { schema: { params: IdParams }, config: { fd: { call: 'getManagementUser', write: false } } },
      async (req) => {
        const ref = numberedRef(req.params.id);
        const key = ref.by === 'name' ? nameKey(ref.name) : null;
        const found = (await managementUsers()).find((m) =>
          ref.by === 'id' ? m.user.id === ref.id : key !== null && nameKey(m.user.user_name) === key,
        );
        if (!found) throw new FdError('NOT_FOUND', 'no such management user');
        return { user: userJson(found.user, found.level) };
      },
    );
}
