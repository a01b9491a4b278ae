import { LRUCache } from 'lru-cache';
import { type Access, checkKeyFormat, type KeyPowers, type KeyType, keyHash } from '../domain/api-keys.js';
import { addressAllowed } from '../domain/cidr.js';
import type { Store } from '../store/db.js';
import { apiKeyByHash, touchApiKey } from '../store/file-devices.js';

/**
 * How long a node trusts its cached view of a key (and of its owner's
 * enabled state). Disabling or deleting a key, or disabling its owner or
 * changing the owner's password or groups, evicts it at once on the node that
 * did it; every other node within this bound. The owner's access level is
 * not cached here: it is read from the permission view at each request
 * (src/filedevices/auth.ts), so a demotion counts from the next request.
 */
export const KEY_CACHE_TTL_MS = 5_000;
/** Keys cached per process; past it the least recently used goes. */
export const KEY_CACHE_MAX = 10_000;
/** "Last used" is written at most this often per key, so reads stay reads. */
const TOUCH_INTERVAL_MS = 60_000;

export interface ResolvedKey {
  id: number;
  prefix: string;
  keyType: KeyType;
  enabled: boolean;
  /** The key's own powers, before its owner's cap. */
  powers: KeyPowers;
  owner: { userId: number; name: string; companyId: number; usable: boolean };
  lastUsedAt: number | null;
  /** When this node read it (the injected clock, so tests can move past the bound). */
  loadedAt: number;
}

export type KeyRefusal = 'malformed' | 'unknown' | 'disabled' | 'expired' | 'source' | 'owner-disabled';

const parseSet = (json: string | null): Set<number> | null =>
  json === null ? null : new Set((JSON.parse(json) as number[]).map(Number));

/** Loads and caches API keys by the SHA-256 of the key: the key itself is never kept. */
export class ApiKeyService {
  private readonly cache = new LRUCache<string, ResolvedKey>({ max: KEY_CACHE_MAX, ttl: KEY_CACHE_TTL_MS });

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
  ) {}

  /**
   * The key behind an `X-Api-Key` value, or why it is refused. A value
   * whose checksum fails never reaches the store.
   */
  async resolve(
    presented: string,
    sourceAddr: string,
  ): Promise<{ ok: true; key: ResolvedKey } | { ok: false; why: KeyRefusal; prefix: string | null }> {
    if (presented.length !== 54) return { ok: false, why: 'malformed', prefix: null };
    // The hash first: a cached hash came from a stored key, whose checksum held when it was
    // made, so only a miss pays for the format and checksum check before the store is asked.
    const hash = keyHash(presented);
    const now = this.clock().getTime();
    let key = this.cache.get(hash);
    if (key && now - key.loadedAt >= KEY_CACHE_TTL_MS) key = undefined;
    const prefix = key ? key.prefix : checkKeyFormat(presented);
    if (prefix === null) return { ok: false, why: 'malformed', prefix: null };
    if (!key) {
      key = await this.load(hash, now);
      if (!key) return { ok: false, why: 'unknown', prefix };
      this.cache.set(hash, key);
    }
    if (!key.enabled) return { ok: false, why: 'disabled', prefix };
    if (key.powers.expiresAt !== null && now >= key.powers.expiresAt) return { ok: false, why: 'expired', prefix };
    if (key.powers.sources !== null && !addressAllowed(sourceAddr, key.powers.sources)) {
      return { ok: false, why: 'source', prefix };
    }
    if (!key.owner.usable) return { ok: false, why: 'owner-disabled', prefix };
    if (key.lastUsedAt === null || now - key.lastUsedAt >= TOUCH_INTERVAL_MS) {
      key.lastUsedAt = now;
      await touchApiKey(this.store.db, key.id, new Date(now).toISOString());
    }
    return { ok: true, key };
  }

  private async load(hash: string, now: number): Promise<ResolvedKey | undefined> {
    const row = await apiKeyByHash(this.store.db, hash);
    if (!row) return undefined;
    return {
      id: row.id,
      prefix: row.prefix,
      keyType: row.key_type as KeyType,
      enabled: row.is_enabled === 1,
      powers: {
        rest: row.rest_access as Access,
        soap: row.soap_access as Access,
        callIds: row.key_type === 'CALLID_RESTRICTED' ? new Set(JSON.parse(row.allowed_call_ids) as string[]) : null,
        virtualServers: parseSet(row.restricted_virtual_servers),
        groups: parseSet(row.restricted_groups),
        sources: row.allowed_sources === null ? null : (JSON.parse(row.allowed_sources) as string[]),
        expiresAt: row.expires_at === null ? null : Date.parse(row.expires_at),
      },
      owner: {
        userId: row.owner_user_id,
        name: row.owner_company_id === 0 ? row.user_name : `${row.domain_name}\\${row.user_name}`,
        companyId: row.owner_company_id,
        usable: row.owner_enabled === 1 && row.disable_login !== 1,
      },
      lastUsedAt: row.last_used_at === null ? null : Date.parse(row.last_used_at),
      loadedAt: now,
    };
  }

  /** Drops this node's cached view of a key after a transaction changing it commits. */
  forget(keyId: number): void {
    for (const [hash, k] of this.cache.entries()) if (k.id === keyId) this.cache.delete(hash);
  }

  /**
   * Drops this node's cached keys of a user whose standing just changed
   * (disabled, password or group membership changed), beside its sessions.
   */
  forgetOwner(userId: number): void {
    for (const [hash, k] of this.cache.entries()) if (k.owner.userId === userId) this.cache.delete(hash);
  }

  get cached(): number {
    return this.cache.size;
  }
}
