import { appendAudit } from '../audit/log.js';
import { findAccount } from '../auth/password-check.js';
import { ACCESS_LEVELS, type Access, KEY_TYPES, type KeyType, UNBOUNDED } from '../domain/api-keys.js';
import { apiKeyObjectId, apiKeyRef } from '../domain/object-id.js';
import { loginName } from '../domain/principal.js';
import { createApiKey, type KeySpec, NEW_KEY } from '../filedevices/api-keys/keys.js';
import { applyBody } from '../filedevices/api-keys/routes.js';
import type { FdCaller } from '../filedevices/caller.js';
import { FdError } from '../filedevices/errors.js';
import type { Store } from '../store/db.js';
import { listUsers } from '../store/directory.js';
import { apiKeyByPrefix, deleteApiKey, listApiKeys } from '../store/file-devices.js';
import { CliError } from './errors.js';

const ACTOR = (what: string) => ({ userId: null, name: `bulwark apikey ${what}`, companyId: null });

export interface CreateKeyOptions {
  owner: string;
  description?: string;
  access?: string;
  soapAccess?: string;
  keyType?: string;
  callIds?: string[];
  virtualServers?: string[];
  groups?: string[];
  sources?: string[];
  expires?: string;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (value === undefined) return undefined;
  const v = value.toUpperCase() as T;
  if (!allowed.includes(v)) throw new CliError(`${what} must be one of ${allowed.join(', ')}`);
  return v;
}

/**
 * `bulwark apikey create`: a key for `owner` made by the operator, through
 * the same checks as POST api-keys (the operator stands above every ceiling;
 * the key is still capped by its owner's access level at each use).
 */
export async function createKeyCli(
  store: Store,
  o: CreateKeyOptions,
): Promise<{ key: string; prefix: string; objectId: string }> {
  const { account } = await findAccount(store.db, o.owner);
  if (!account) throw new CliError(`no user ${o.owner}`);
  const operator: FdCaller = {
    via: 'user',
    userId: account.user.id,
    userName: 'bulwark apikey create',
    companyId: 0,
    level: 'SUPERVISOR',
    access: 'FULL_CONTROL',
    powers: UNBOUNDED,
    key: null,
  };
  const now = new Date();
  let spec: KeySpec;
  try {
    const rest = oneOf<Access>(o.access, ACCESS_LEVELS, '--access');
    const soap = oneOf<Access>(o.soapAccess, ACCESS_LEVELS, '--soap-access');
    const keyType = oneOf<KeyType>(o.keyType, KEY_TYPES, '--type');
    spec = await applyBody(
      store.db,
      operator,
      NEW_KEY,
      {
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(rest ? { restApiAccess: rest } : {}),
        ...(soap ? { soapApiAccess: soap } : {}),
        ...(keyType ? { keyType } : {}),
        ...(o.callIds ? { allowedCallIds: o.callIds } : {}),
        ...(o.virtualServers ? { restrictedToVirtualServers: o.virtualServers } : {}),
        ...(o.groups ? { restrictedToApiKeyGroups: o.groups } : {}),
        ...(o.sources ? { allowedSourceAddresses: o.sources } : {}),
        ...(o.expires ? { expiresAt: o.expires } : {}),
      },
      now,
    );
  } catch (e) {
    if (e instanceof FdError) throw new CliError(e.detail ?? e.message);
    throw e;
  }
  const { row, key } = await createApiKey(store, now, account.user.id, spec, ACTOR('create'), '');
  return { key, prefix: row.prefix, objectId: apiKeyObjectId(row.prefix) };
}

/** `bulwark apikey list`: one line a key (never the key). */
export async function listKeysCli(store: Store): Promise<string[]> {
  const rows = await listApiKeys(store.db);
  const owners = await listUsers(store.db, { companies: [], users: [...new Set(rows.map((r) => r.owner_user_id))] });
  const byId = new Map(owners.map((u) => [u.id, loginName(u.company_id, u.domain_name, u.user_name)]));
  return rows.map((r) =>
    [
      r.prefix,
      byId.get(r.owner_user_id) ?? '?',
      r.rest_access,
      r.key_type,
      r.is_enabled === 1 ? 'enabled' : 'disabled',
      `expires=${r.expires_at ?? 'never'}`,
      `lastUsed=${r.last_used_at ?? 'never'}`,
      JSON.stringify(r.description),
    ].join('\t'),
  );
}

/** `bulwark apikey revoke <prefix|objectId>`: deletes the key; every node refuses it within 5 s. */
export async function revokeKeyCli(store: Store, ref: string): Promise<string> {
  const r = apiKeyRef(ref);
  const row = r.by === 'prefix' ? await apiKeyByPrefix(store.db, r.prefix) : undefined;
  if (!row) throw new CliError(`no API key ${ref}`);
  await store.db.transaction().execute(async (tx) => {
    await deleteApiKey(tx, row.id);
    await appendAudit(tx, {
      actor: ACTOR('revoke'),
      operation: 'apikey.delete',
      targetType: 'apikey',
      targetId: row.prefix,
      targetName: row.description.slice(0, 200),
      outcome: 'success',
      at: new Date(),
    });
  });
  return row.prefix;
}
