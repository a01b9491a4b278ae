import { type AuditActor, appendAudit } from '../../audit/log.js';
import {
  type Access,
  accessOfLevel,
  type KeyPowers,
  type KeyType,
  minAccess,
  newApiKey,
  type UserLevel,
} from '../../domain/api-keys.js';
import { apiKeyObjectId, groupObjectId, virtualServerObjectId } from '../../domain/object-id.js';
import type { Store } from '../../store/db.js';
import { isUniqueViolation } from '../../store/directory.js';
import { type ApiKeyRow, insertApiKey } from '../../store/file-devices.js';

/** What a key is, as stored (restrictions resolved to ids). */
export interface KeySpec {
  description: string;
  isEnabled: boolean;
  rest: Access;
  soap: Access;
  keyType: KeyType;
  callIds: string[];
  groups: number[] | null;
  virtualServers: number[] | null;
  sources: string[] | null;
  expiresAt: string | null;
}

/** A new key before its body is applied: READ_ONLY over REST, no SOAP, unrestricted, enabled, never expiring. */
export const NEW_KEY: Readonly<KeySpec> = {
  description: '',
  isEnabled: true,
  rest: 'READ_ONLY',
  soap: 'NO_ACCESS',
  keyType: 'UNRESTRICTED',
  callIds: [],
  groups: null,
  virtualServers: null,
  sources: null,
  expiresAt: null,
};

const ids = (json: string | null): number[] | null => (json === null ? null : (JSON.parse(json) as number[]));

export function specOfRow(row: ApiKeyRow): KeySpec {
  return {
    description: row.description,
    isEnabled: row.is_enabled === 1,
    rest: row.rest_access as Access,
    soap: row.soap_access as Access,
    keyType: row.key_type as KeyType,
    callIds: JSON.parse(row.allowed_call_ids) as string[],
    groups: ids(row.restricted_groups),
    virtualServers: ids(row.restricted_virtual_servers),
    sources: row.allowed_sources === null ? null : (JSON.parse(row.allowed_sources) as string[]),
    expiresAt: row.expires_at,
  };
}

export function powersOf(s: KeySpec): KeyPowers {
  return {
    rest: s.rest,
    soap: s.soap,
    callIds: s.keyType === 'CALLID_RESTRICTED' ? new Set(s.callIds) : null,
    virtualServers: s.virtualServers === null ? null : new Set(s.virtualServers),
    groups: s.groups === null ? null : new Set(s.groups),
    sources: s.sources,
    expiresAt: s.expiresAt === null ? null : Date.parse(s.expiresAt),
  };
}

export function columnsOf(s: KeySpec) {
  return {
    description: s.description,
    is_enabled: s.isEnabled ? 1 : 0,
    rest_access: s.rest,
    soap_access: s.soap,
    key_type: s.keyType,
    allowed_call_ids: JSON.stringify(s.keyType === 'CALLID_RESTRICTED' ? s.callIds : []),
    restricted_groups: s.groups === null ? null : JSON.stringify(s.groups),
    restricted_virtual_servers: s.virtualServers === null ? null : JSON.stringify(s.virtualServers),
    allowed_sources: s.sources === null ? null : JSON.stringify(s.sources),
    expires_at: s.expiresAt,
  };
}

/** What the audit trail records of a key: everything but the key. */
export function auditedSpec(s: KeySpec): Record<string, unknown> {
  return {
    description: s.description,
    isEnabled: s.isEnabled,
    rest: s.rest,
    soap: s.soap,
    keyType: s.keyType,
    callIds: s.callIds,
    groups: s.groups,
    virtualServers: s.virtualServers,
    sources: s.sources,
    expiresAt: s.expiresAt,
  };
}

/**
 * Creates a key owned by `ownerId` and its audit record in one transaction;
 * returns the row and the key, which exists nowhere else from then on.
 */
export async function createApiKey(
  store: Store,
  now: Date,
  ownerId: number,
  spec: KeySpec,
  actor: AuditActor,
  sourceAddr: string,
): Promise<{ row: ApiKeyRow; key: string }> {
  for (let attempt = 0; ; attempt++) {
    const made = newApiKey();
    try {
      return await store.db.transaction().execute(async (tx) => {
        const row = {
          prefix: made.prefix,
          secret_hash: made.hash,
          owner_user_id: ownerId,
          created_at: now.toISOString(),
          ...columnsOf(spec),
        };
        const id = await insertApiKey(tx, row);
        await appendAudit(tx, {
          actor,
          operation: 'apikey.create',
          targetType: 'apikey',
          targetId: made.prefix,
          targetName: spec.description.slice(0, 200),
          outcome: 'success',
          details: { ownerUserId: ownerId, ...auditedSpec(spec) },
          sourceAddr,
          at: now,
        });
        return { row: { ...row, id, last_used_at: null }, key: made.key };
      });
    } catch (e) {
      // A prefix collision (62^10 of them): draw another.
      if (!isUniqueViolation(e) || attempt >= 3) throw e;
    }
  }
}

/** The reply shape of a key: never the key, never its hash. */
export function keyJson(
  row: ApiKeyRow,
  memberOf: readonly number[],
  ownerName: string,
  ownerLevel: UserLevel | null,
): Record<string, unknown> {
  const s = specOfRow(row);
  return {
    objectId: apiKeyObjectId(row.prefix),
    prefix: row.prefix,
    description: s.description,
    isEnabled: s.isEnabled,
    restApiAccess: s.rest,
    soapApiAccess: s.soap,
    effectiveRestApiAccess: minAccess(s.rest, accessOfLevel(ownerLevel)),
    keyType: s.keyType,
    allowedCallIds: s.keyType === 'CALLID_RESTRICTED' ? s.callIds : [],
    restrictedToApiKeyGroups: (s.groups ?? []).map(groupObjectId),
    restrictedToVirtualServers: (s.virtualServers ?? []).map(virtualServerObjectId),
    allowedSourceAddresses: s.sources ?? [],
    expiresAt: s.expiresAt,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    owner: ownerName,
    apiKeyGroups: memberOf.map(groupObjectId),
  };
}
