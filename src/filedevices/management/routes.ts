import type { FastifyInstance } from 'fastify';
import { levelOf } from '../../auth/access-level.js';
import type { AppContext } from '../../context.js';
import { encodeObjectId } from '../../domain/object-id.js';
import { loginName } from '../../domain/principal.js';
import { listUsers } from '../../store/directory.js';
import { callerOf } from '../caller.js';

export function registerManagementRoutes(app: FastifyInstance, ctx: AppContext): void {
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
    async () => {
      const view = await ctx.authz.current();
      const users = [];
      for (const u of await listUsers(ctx.store.db, { companies: [0], users: [] })) {
        const level = levelOf(view, u.id);
        if (level === null) continue;
        users.push({
          objectId: encodeObjectId([u.id]),
          userId: u.id,
          name: loginName(u.company_id, u.domain_name, u.user_name),
          fullName: u.full_name,
          accessLevel: level,
          isEnabled: u.enabled === 1,
        });
      }
      return { users };
    },
  );
}
