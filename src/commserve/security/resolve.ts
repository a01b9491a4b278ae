import type { AuthzView, EntityRef } from '../../domain/authz.js';
import { ENTITY_TYPES, PERMISSIONS, type Permission } from '../../domain/catalogue.js';
import { canSeeCompany } from '../../domain/permissions.js';
import type { Principal } from '../../domain/principal.js';
import type { Executor } from '../../store/db.js';
import { companyByDomain, companyById, nameKey } from '../../store/directory.js';
import { CsError } from '../errors.js';
import { splitLoginName } from '../login/login.js';
import { echo } from './limits.js';

export interface ResolvedPrincipal {
  kind: 'user' | 'group';
  id: number;
  name: string;
  companyId: number;
}

export interface ResolvedRole {
  id: number;
  name: string;
  companyId: number;
  permissions: Permission[];
}

/**
 * Names and ids of one request to rows, each looked up once. Everything the
 * caller may not see answers "not found", exactly as a missing one does.
 */
export class Resolver {
  private readonly principals = new Map<string, ResolvedPrincipal>();
  private readonly roles = new Map<string, ResolvedRole>();
  private readonly companies = new Map<string, number | null>();

  constructor(
    private readonly db: Executor,
    private readonly view: AuthzView,
    private readonly caller: Principal,
  ) {}

  /** The company owning a visible, existing entity; NOT_FOUND otherwise. */
  async entityCompany(ref: EntityRef): Promise<number> {
    let company: number | null;
    if (ref.type === ENTITY_TYPES.company) {
      company = (await companyById(this.db, ref.id)) && ref.id !== 0 ? ref.id : null;
    } else {
      company = this.view.companyOf(ref);
    }
    if (company === null || !canSeeCompany(this.view, this.caller, company)) {
      throw new CsError('NOT_FOUND', `no entity of type ${ref.type} with id ${ref.id}`);
    }
    return company;
  }

  /**
   * A top-level entity named as cvpysdk names it on the principal side
   * (`{"clientName": "db01"}`): unique among what the caller can see, or an error.
   */
  async entityByName(type: number, name: string): Promise<EntityRef> {
    if (type === ENTITY_TYPES.company) {
      const company = await companyByDomain(this.db, name);
      if (!company || company.id === 0 || !canSeeCompany(this.view, this.caller, company.id)) {
        throw new CsError('NOT_FOUND', `no company ${echo(name)}`);
      }
      return { type, id: company.id };
    }
    const rows = await this.db
      .selectFrom('entities')
      .select(['id', 'company_id'])
      .where('type', '=', type)
      .where('parent_key', '=', 0)
      .where('name_key', '=', nameKey(name))
      .execute();
    const visible = rows.filter((r) => canSeeCompany(this.view, this.caller, r.company_id));
    // The caller's own company's entity wins over a same-named one elsewhere.
    const own = visible.filter((r) => r.company_id === this.caller.companyId);
    const pick = own.length === 1 ? own : visible;
    if (pick.length === 0) throw new CsError('NOT_FOUND', `no entity of type ${type} named ${echo(name)}`);
    if (pick.length > 1) throw new CsError('INVALID_VALUE', `${echo(name)} names several entities; use its id`);
    return { type, id: (pick[0] as { id: number }).id };
  }

  private async companyOfDomain(domain: string | null): Promise<number | null> {
    if (domain === null) return this.caller.companyId;
    const key = nameKey(domain);
    if (!this.companies.has(key)) this.companies.set(key, (await companyByDomain(this.db, domain))?.id ?? null);
    return this.companies.get(key) ?? null;
  }

  /** `{userId|userName}` or `{userGroupId|userGroupName}`; a bare name is of the caller's company. */
  async principal(obj: Record<string, unknown>): Promise<ResolvedPrincipal> {
    const kind = obj.userGroupId !== undefined || obj.userGroupName !== undefined ? 'group' : 'user';
    const idValue = scalar(kind === 'user' ? obj.userId : obj.userGroupId);
    const nameValue = scalar(kind === 'user' ? obj.userName : obj.userGroupName);
    if (idValue === undefined && nameValue === undefined) {
      throw new CsError('INVALID_VALUE', 'userOrGroup needs userId, userName, userGroupId or userGroupName');
    }
    if (idValue === null || nameValue === null) {
      throw new CsError('INVALID_VALUE', 'a user or group is named by a string or a number');
    }
    const cacheKey = `${kind}:${idValue ?? ''}:${(nameValue ?? '').toLowerCase()}`;
    const hit = this.principals.get(cacheKey);
    if (hit) return hit;
    let row: { id: number; name: string; company_id: number } | undefined;
    if (idValue !== undefined) {
      const id = Number(idValue);
      if (Number.isInteger(id) && id >= 0 && id <= 2_147_483_647) row = await this.find(kind, { id });
    } else {
      const { domain, user } = splitLoginName(nameValue ?? '');
      const companyId = await this.companyOfDomain(domain);
      if (companyId !== null) row = await this.find(kind, { companyId, key: nameKey(user) });
    }
    if (!row || !canSeeCompany(this.view, this.caller, row.company_id)) {
      throw new CsError(
        'NOT_FOUND',
        `no ${kind === 'user' ? 'user' : 'user group'} ${echo(nameValue ?? idValue ?? '')}`,
      );
    }
    const found: ResolvedPrincipal = { kind, id: row.id, name: row.name, companyId: row.company_id };
    this.principals.set(cacheKey, found);
    return found;
  }

  private find(
    kind: 'user' | 'group',
    by: { id: number } | { companyId: number; key: string },
  ): Promise<{ id: number; name: string; company_id: number } | undefined> {
    if (kind === 'user') {
      const q = this.db.selectFrom('users').select(['id', 'user_name as name', 'company_id']);
      return (
        'id' in by ? q.where('id', '=', by.id) : q.where('company_id', '=', by.companyId).where('name_key', '=', by.key)
      ).executeTakeFirst();
    }
    const q = this.db.selectFrom('user_groups').select(['id', 'name', 'company_id']);
    return (
      'id' in by ? q.where('id', '=', by.id) : q.where('company_id', '=', by.companyId).where('name_key', '=', by.key)
    ).executeTakeFirst();
  }

  /** `{roleId|roleName}`: built-in roles, and custom roles of the caller's company. */
  async role(obj: Record<string, unknown>): Promise<ResolvedRole> {
    const roleId = scalar(obj.roleId);
    const roleName = scalar(obj.roleName);
    if (roleId === undefined && roleName === undefined) {
      throw new CsError('INVALID_VALUE', 'role needs roleId or roleName');
    }
    if (roleId === null || roleName === null)
      throw new CsError('INVALID_VALUE', 'a role is named by a string or a number');
    const cacheKey = `${roleId ?? ''}:${(roleName ?? '').toLowerCase()}`;
    const hit = this.roles.get(cacheKey);
    if (hit) return hit;
    let q = this.db.selectFrom('roles').select(['id', 'name', 'company_id', 'builtin']);
    if (roleId !== undefined) {
      const id = Number(roleId);
      q = q.where('id', '=', Number.isInteger(id) && id >= 0 && id <= 2_147_483_647 ? id : -1);
    } else {
      q = q.where('name_key', '=', nameKey(roleName ?? '')).where('company_id', 'in', [0, this.caller.companyId]);
    }
    const rows = await q.orderBy('company_id', 'desc').execute();
    // Built-in roles are everyone's; a custom role is its company's (the CommCell's, for the CommCell's).
    const row = rows.find((r) => r.builtin === 1 || canSeeCompany(this.view, this.caller, r.company_id));
    if (!row) throw new CsError('NOT_FOUND', `no role ${echo(roleName ?? roleId ?? '')}`);
    const perms = await this.db
      .selectFrom('role_permissions')
      .select('permission')
      .where('role_id', '=', row.id)
      .execute();
    const found: ResolvedRole = {
      id: row.id,
      name: row.name,
      companyId: row.company_id,
      permissions: perms
        .map((p) => p.permission)
        .filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p)),
    };
    this.roles.set(cacheKey, found);
    return found;
  }
}

/**
 * A name or id as the request gave it, as text: strings, numbers and booleans
 * (XML and loose clients send ids as strings); null for anything else (an
 * object or a list, which cannot name anything); undefined when absent or null.
 */
function scalar(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function entityLabel(ref: EntityRef): string {
  return `${ref.type}:${ref.id}`;
}
