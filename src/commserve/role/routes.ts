import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import type { EntityRef } from '../../domain/authz.js';
import { BUILTIN_ROLES, isPermission, PERMISSIONS, type Permission } from '../../domain/catalogue.js';
import { canSeeCompany, companyRef } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import type { Executor } from '../../store/db.js';
import { isUniqueViolation, nameKey } from '../../store/directory.js';
import { COMMCELL_ID } from '../../store/schema.js';
import { actorOf, pathId } from '../actor.js';
import { inOwnCompany, onOwnCompany, type Requirement, type Target, viewOf } from '../authorize.js';
import { sendCs } from '../codec.js';
import { CsError } from '../errors.js';
import { mustChangeRole } from '../guard.js';
import { readDescription, readName } from '../names.js';
import { applyListOp, itemErrorReply, ListOpSchema, namesSomething, parseListOp } from '../operation-type.js';
import { perItem } from '../per-item.js';
import { principalOf } from '../plugin.js';
import { Bool, Int, toBool, toInt } from '../schema.js';

const PermissionItem = Type.Object({
  permissionName: Type.Optional(Type.String({ maxLength: 256 })),
  permissionId: Type.Optional(Int()),
  categoryName: Type.Optional(Type.String({ maxLength: 256 })),
});

const CategoryPermission = Type.Object({
  categoriesPermissionOperationType: Type.Optional(ListOpSchema()),
  categoriesPermissionList: Type.Optional(Type.Array(PermissionItem, { maxItems: 500 })),
});

const Flags = Type.Object({ disabled: Type.Optional(Bool()) });
const Description = Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]);
const Loose = Type.Object({}, { additionalProperties: true });

/** cvpysdk's `Roles.add` body: `{"roles":[{"role":{"roleName"},"categoryPermission":{…}}]}`. */
export const CreateRolesBody = Type.Object({
  roles: Type.Array(
    Type.Object({
      role: Type.Object({
        roleName: Type.String({ minLength: 1, maxLength: 128 }),
        flags: Type.Optional(Flags),
        description: Type.Optional(Description),
      }),
      description: Type.Optional(Description),
      categoryPermission: Type.Optional(CategoryPermission),
      securityAssociations: Type.Optional(Loose),
    }),
    { minItems: 1, maxItems: 100 },
  ),
});
export type CreateRolesBody = Static<typeof CreateRolesBody>;
type RoleItem = CreateRolesBody['roles'][number];

/** cvpysdk's `Role._update_role_props` and `modify_capability` bodies: one role, every part optional. */
export const UpdateRoleBody = Type.Object({
  roles: Type.Array(
    Type.Object({
      role: Type.Optional(
        Type.Object({
          roleName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          flags: Type.Optional(Flags),
          description: Type.Optional(Description),
        }),
      ),
      description: Type.Optional(Description),
      categoryPermission: Type.Optional(CategoryPermission),
      securityAssociations: Type.Optional(Loose),
    }),
    { minItems: 1, maxItems: 1 },
  ),
});
export type UpdateRoleBody = Static<typeof UpdateRoleBody>;

interface RoleRow {
  id: number;
  company_id: number;
  name: string;
  description: string;
  builtin: number;
}

/**
 * Which roles a caller sees (the built-in roles, and those of companies it
 * may see) and which permissions it may put in a role: only those it holds
 * itself in its company. Changing roles is the routes' declared Security
 * Management requirement.
 */
export async function roleAccess(req: FastifyRequest, p: Principal) {
  const view = await viewOf(req);
  return {
    sees: (r: Pick<RoleRow, 'builtin' | 'company_id'>) => r.builtin === 1 || canSeeCompany(view, p, r.company_id),
    /** A role may hold only what its author holds where the role lives. */
    grantable: (perm: Permission) => view.allowed(p.userId, perm, companyRef(p.companyId)),
  };
}

const permissionId = (perm: string) => (PERMISSIONS as readonly string[]).indexOf(perm) + 1;
const byCatalogue = (a: string, b: string) => permissionId(a) - permissionId(b);

/** The permission names of a list, or an INVALID_VALUE naming the first entry that is not one. */
function readPermissions(list: RoleItem['categoryPermission'], index: number): Permission[] {
  const out = new Set<Permission>();
  for (const [i, item] of (list?.categoriesPermissionList ?? []).entries()) {
    const where = `roles[${index}].categoryPermission.categoriesPermissionList[${i}]`;
    if (item.permissionName !== undefined) {
      const name = PERMISSIONS.find((x) => x.toLowerCase() === item.permissionName?.trim().toLowerCase());
      if (!name) throw new CsError('INVALID_VALUE', `${where}: no permission named ${item.permissionName}`);
      out.add(name);
    } else if (item.permissionId !== undefined) {
      const name = PERMISSIONS[toInt(item.permissionId) - 1];
      if (!name) throw new CsError('INVALID_VALUE', `${where}: no permission with id ${item.permissionId}`);
      out.add(name);
    } else if (item.categoryName !== undefined) {
      throw new CsError('INVALID_VALUE', `${where}: permission categories are not supported; name the permissions`);
    } else if (namesSomething(item)) {
      throw new CsError('INVALID_VALUE', `${where} needs permissionName or permissionId`);
    }
  }
  return [...out];
}

/** A role name: a valid name (`src/domain/names.ts`) of at most 128 characters. */
const readRoleName = (raw: string, field: string): string => readName(raw, field, 128);

function checkUnsupported(
  item: { securityAssociations?: Record<string, unknown>; role?: { flags?: Static<typeof Flags> } },
  index: number,
): void {
  if (item.role?.flags?.disabled !== undefined && toBool(item.role.flags.disabled)) {
    throw new CsError('INVALID_VALUE', `roles[${index}].role.flags.disabled: roles cannot be disabled`);
  }
  // Sharing a role (associations on the role itself) is not supported yet; saying so beats ignoring it.
  if (namesSomething(item.securityAssociations?.associations)) {
    throw new CsError('INVALID_VALUE', `roles[${index}].securityAssociations: associations on roles are not supported`);
  }
}

/**
 * Another role the new name would be confused with: one of the same company,
 * a built-in one, and for a CommCell role any role at all (the CommCell
 * administrator sees every company's).
 */
async function nameTaken(db: Executor, companyId: number, name: string, exceptId?: number): Promise<boolean> {
  let q = db.selectFrom('roles').select('id').where('name_key', '=', nameKey(name));
  if (companyId !== COMMCELL_ID) {
    q = q.where((eb) => eb.or([eb('company_id', '=', companyId), eb('builtin', '=', 1)]));
  }
  if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

/** The entities on which a role is associated, each once. */
async function associatedOn(db: Executor, roleId: number): Promise<EntityRef[]> {
  const rows = await db
    .selectFrom('security_associations')
    .select(['entity_type', 'entity_id'])
    .distinct()
    .where('role_id', '=', roleId)
    .execute();
  return rows.map((r) => ({ type: r.entity_type, id: r.entity_id }));
}

async function permissionsOf(db: Executor, roleIds: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(roleIds.map((id) => [id, []]));
  if (roleIds.length === 0) return out;
  const rows = await db
    .selectFrom('role_permissions')
    .select(['role_id', 'permission'])
    .where('role_id', 'in', roleIds)
    .execute();
  for (const r of rows) out.get(r.role_id)?.push(r.permission);
  for (const list of out.values()) list.sort(byCatalogue);
  return out;
}

function roleView(r: RoleRow & { domain_name: string }, permissions: string[]) {
  return {
    role: {
      roleId: r.id,
      roleName: r.name,
      flags: { disabled: false },
      entityInfo: {
        companyId: r.company_id,
        companyName: r.company_id === COMMCELL_ID ? '' : r.domain_name,
      },
    },
    // The built-in roles' descriptions live in the catalogue (migration 0002 stored none).
    description: (r.builtin === 1 && BUILTIN_ROLES.find((b) => b.id === r.id)?.description) || r.description,
    categoryPermission: {
      categoriesPermissionList: permissions.map((name) => ({ permissionName: name, permissionId: permissionId(name) })),
    },
  };
}

const okReply = (entity?: Record<string, unknown>) => ({
  response: [{ errorCode: 0, errorString: '', ...(entity ? { entity } : {}) }],
  errorCode: 0,
  errorMessage: '',
});

/**
 * The company of the role the path names. Built-in roles belong to every
 * company alike, so they stand in the caller's own.
 */
const pathRole: Target = async (req, _view, ctx) => {
  const id = pathId(req);
  const row =
    id === null
      ? undefined
      : await ctx.store.db
          .selectFrom('roles')
          .select(['company_id', 'builtin'])
          .where('id', '=', id)
          .executeTakeFirst();
  if (!row) return null;
  return companyRef(row.builtin === 1 ? (req.principal as Principal).companyId : row.company_id);
};
const seeRole = { permission: 'View', on: pathRole, unless: inOwnCompany } satisfies Requirement;
const manageRole = { permission: 'Security Management', on: pathRole } satisfies Requirement;
const listsRoles = { signedIn: 'lists the built-in roles and those of companies the caller may see' };

export function registerRoleRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx.store;

  const roleRows = () =>
    db
      .selectFrom('roles')
      .innerJoin('companies', 'companies.id', 'roles.company_id')
      .select([
        'roles.id',
        'roles.company_id',
        'roles.name',
        'roles.description',
        'roles.builtin',
        'companies.domain_name',
      ]);

  /** The path's role; the route's requirement has already decided the caller may see it. */
  async function visibleRole(id: number | null) {
    const row = id === null ? undefined : await roleRows().where('roles.id', '=', id).executeTakeFirst();
    if (!row) throw new CsError('NOT_FOUND', 'no such role, or it is not visible to you');
    return row;
  }

  r.get('/Security/Roles', { config: { requires: listsRoles } }, async (req, reply) => {
    const access = await roleAccess(req, principalOf(req));
    const rows = (await roleRows().orderBy('roles.id').execute()).filter(access.sees);
    const perms = await permissionsOf(
      db,
      rows.map((x) => x.id),
    );
    return sendCs(req, reply, 'App_GetRolesResponse', {
      roleProperties: rows.map((x) => roleView(x, perms.get(x.id) ?? [])),
    });
  });

  r.get(
    '/Security/Permissions',
    { config: { requires: { signedIn: 'the catalogue is the same for everyone' } } },
    async (req, reply) => {
      return sendCs(req, reply, 'App_GetPermissionsResponse', {
        permissions: PERMISSIONS.map((name, i) => ({ permissionId: i + 1, permissionName: name })),
      });
    },
  );

  r.get('/Role/:id', { config: { requires: seeRole } }, async (req, reply) => {
    const row = await visibleRole(pathId(req));
    const perms = await permissionsOf(db, [row.id]);
    return sendCs(req, reply, 'App_GetRolePropertiesResponse', {
      roleProperties: [roleView(row, perms.get(row.id) ?? [])],
    });
  });

  r.post(
    '/Role',
    {
      schema: { body: CreateRolesBody },
      config: {
        errorReply: itemErrorReply('App_RoleResp'),
        // A new role belongs to the caller's company.
        requires: { permission: 'Security Management', on: onOwnCompany },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const access = await roleAccess(req, p);
      const companyId = p.companyId;
      // Nothing is created when any role would carry a permission the caller may not hand out.
      for (const [i, item] of req.body.roles.entries()) {
        let perms: Permission[];
        try {
          perms = readPermissions(item.categoryPermission, i);
        } catch {
          continue; // answered per item below
        }
        if (perms.some((x) => !access.grantable(x))) throw new CsError('INSUFFICIENT_PRIVILEGES');
      }
      return sendCs(
        req,
        reply,
        'App_RoleResp',
        await perItem(req, req.body.roles, (item, i) => createOne(req, p, companyId, item, i)),
      );
    },
  );

  async function createOne(req: FastifyRequest, p: Principal, companyId: number, item: RoleItem, i: number) {
    const name = readRoleName(item.role.roleName, `roles[${i}].role.roleName`);
    checkUnsupported(item, i);
    const op = parseListOp(
      item.categoryPermission?.categoriesPermissionOperationType,
      `roles[${i}].categoryPermission.categoriesPermissionOperationType`,
      'ADD',
    );
    if (op === 'DELETE') {
      throw new CsError('INVALID_VALUE', `roles[${i}]: a new role cannot be created with a DELETE of permissions`);
    }
    const perms = op === 'NONE' ? [] : readPermissions(item.categoryPermission, i);
    if (perms.length === 0) throw new CsError('INVALID_VALUE', `roles[${i}]: a role needs at least one permission`);
    const description = readDescription(item.description ?? item.role.description, `roles[${i}].description`) ?? '';
    const now = ctx.clock();
    try {
      return await db.transaction().execute(async (tx) => {
        if (await nameTaken(tx, companyId, name)) {
          throw new CsError('ALREADY_EXISTS', `a role named ${name} already exists`);
        }
        const row = await tx
          .insertInto('roles')
          .values({
            company_id: companyId,
            name,
            name_key: nameKey(name),
            description,
            builtin: 0,
            created_at: now.toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx
          .insertInto('role_permissions')
          .values(perms.map((permission) => ({ role_id: row.id, permission })))
          .execute();
        await bumpAuthzVersion(tx, [companyId]);
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId,
          operation: 'role.create',
          targetType: 'role',
          targetId: row.id,
          targetName: name,
          outcome: 'success',
          details: { permissions: [...perms].sort(byCatalogue), description },
          sourceAddr: req.ip,
          at: now,
        });
        return { roleId: row.id, roleName: name };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new CsError('ALREADY_EXISTS', `a role named ${name} already exists`);
      throw e;
    }
  }

  r.post(
    '/Role/:id',
    {
      schema: { body: UpdateRoleBody },
      config: { errorReply: itemErrorReply('App_RoleResp'), requires: manageRole },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const row = await visibleRole(pathId(req));
      const access = await roleAccess(req, p);
      if (row.builtin === 1) throw new CsError('INVALID_VALUE', 'built-in roles cannot be changed');
      const item = req.body.roles[0] as UpdateRoleBody['roles'][number];
      checkUnsupported(item, 0);
      const name =
        item.role?.roleName === undefined ? row.name : readRoleName(item.role.roleName, 'roles[0].role.roleName');
      const description =
        readDescription(item.description ?? item.role?.description, 'roles[0].description') ?? undefined;
      const op = parseListOp(
        item.categoryPermission?.categoriesPermissionOperationType,
        'roles[0].categoryPermission.categoriesPermissionOperationType',
        'OVERWRITE',
      );
      const given = item.categoryPermission?.categoriesPermissionList
        ? readPermissions(item.categoryPermission, 0)
        : null;
      const now = ctx.clock();
      const view = await viewOf(req);
      const entity = await db.transaction().execute(async (tx) => {
        const before = (await permissionsOf(tx, [row.id])).get(row.id) ?? [];
        const after = given === null ? new Set(before) : applyListOp<string>(op, before, given);
        const added = [...after].filter((x) => !before.includes(x)).sort(byCatalogue);
        const removed = before.filter((x) => !after.has(x));
        if (added.some((x) => !isPermission(x) || !access.grantable(x))) throw new CsError('INSUFFICIENT_PRIVILEGES');
        if (after.size === 0) throw new CsError('INVALID_VALUE', 'a role needs at least one permission');
        // What every holder of the role holds changes wherever it is associated: adding and
        // removing a permission both need it held there.
        const changed = [...added, ...removed].filter(isPermission);
        if (changed.length > 0) mustChangeRole(view, p, await associatedOn(tx, row.id), changed, row.name);
        const renamed = name !== row.name;
        if (renamed && (await nameTaken(tx, row.company_id, name, row.id))) {
          throw new CsError('ALREADY_EXISTS', `a role named ${name} already exists`);
        }
        const set: { name?: string; name_key?: string; description?: string } = {};
        if (renamed) Object.assign(set, { name, name_key: nameKey(name) });
        if (description !== undefined && description !== null) set.description = description;
        if (Object.keys(set).length > 0) await tx.updateTable('roles').set(set).where('id', '=', row.id).execute();
        if (removed.length > 0) {
          await tx
            .deleteFrom('role_permissions')
            .where('role_id', '=', row.id)
            .where('permission', 'in', removed)
            .execute();
        }
        if (added.length > 0) {
          await tx
            .insertInto('role_permissions')
            .values(added.map((permission) => ({ role_id: row.id, permission })))
            .execute();
        }
        await bumpAuthzVersion(tx, [row.company_id]);
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: row.company_id,
          operation: 'role.update',
          targetType: 'role',
          targetId: row.id,
          targetName: name,
          outcome: 'success',
          details: {
            ...(renamed ? { renamedFrom: row.name } : {}),
            ...(set.description !== undefined ? { description: set.description } : {}),
            permissionsAdded: added,
            permissionsRemoved: removed,
          },
          sourceAddr: req.ip,
          at: now,
        });
        return { roleId: row.id, roleName: name };
      });
      return sendCs(req, reply, 'App_RoleResp', okReply(entity));
    },
  );

  r.delete(
    '/Role/:id',
    { config: { errorReply: itemErrorReply('App_RoleResp'), requires: manageRole } },
    async (req, reply) => {
      const p = principalOf(req);
      const row = await visibleRole(pathId(req));
      if (row.builtin === 1) throw new CsError('INVALID_VALUE', 'built-in roles cannot be deleted');
      const now = ctx.clock();
      const view = await viewOf(req);
      await db.transaction().execute(async (tx) => {
        // Deleting takes the whole role away from every holder: only by who holds it wherever it is associated.
        const held = ((await permissionsOf(tx, [row.id])).get(row.id) ?? []).filter(isPermission);
        mustChangeRole(view, p, await associatedOn(tx, row.id), held, row.name);
        // The role's associations go with it: deleting a role takes away what it granted.
        const dropped = await tx.deleteFrom('security_associations').where('role_id', '=', row.id).executeTakeFirst();
        await tx.deleteFrom('role_permissions').where('role_id', '=', row.id).execute();
        const gone = await tx.deleteFrom('roles').where('id', '=', row.id).executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0)
          throw new CsError('NOT_FOUND', 'no such role, or it is not visible to you');
        await bumpAuthzVersion(tx, [row.company_id]);
        await appendAudit(tx, {
          actor: actorOf(p),
          companyId: row.company_id,
          operation: 'role.delete',
          targetType: 'role',
          targetId: row.id,
          targetName: row.name,
          outcome: 'success',
          details: { associationsRemoved: Number(dropped.numDeletedRows) },
          sourceAddr: req.ip,
          at: now,
        });
      });
      return sendCs(req, reply, 'App_RoleResp', okReply());
    },
  );
}
