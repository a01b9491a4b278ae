import { LRUCache } from 'lru-cache';
import { randomHex, sha256Hex } from '../crypto/secrets.js';
import type { Principal } from '../domain/principal.js';
import { notifyChange } from '../store/changes.js';
import type { Executor, Store } from '../store/db.js';

/** Tokens die after this long without use. */
export const IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** "Last used" is written at most this often per token, so reads stay reads. */
const TOUCH_INTERVAL_MS = 60 * 1000;
/**
 * How long a node trusts its cached view of a token. Revocation on this node
 * evicts at once; on PostgreSQL other nodes evict when its notification
 * arrives (src/store/changes.ts), and within this bound if it never does.
 */
const CACHE_TTL_MS = 5 * 1000;

export const TOKEN_PREFIX = 'QSDK ';

interface Cached {
  principal: Principal;
  lastUsedAt: number;
}

/** Strips the "QSDK " scheme the product puts in front of tokens, if present. */
export function tokenHashOf(header: string): string {
  const raw = header.trim();
  const bare = raw.toUpperCase().startsWith(TOKEN_PREFIX) ? raw.slice(TOKEN_PREFIX.length).trim() : raw;
  return sha256Hex(bare);
}

export class SessionService {
  // Keyed by the token's hash, never the token: a heap dump yields nothing usable.
  private readonly cache = new LRUCache<string, Cached>({ max: 10_000, ttl: CACHE_TTL_MS });

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
  ) {}

  /** Creates a session inside the caller's transaction; returns the token, shown only now. */
  async create(tx: Executor, userId: number, addr: string, deviceId: string | null): Promise<string> {
    const token = randomHex(32);
    const now = this.clock().toISOString();
    await tx
      .insertInto('sessions')
      .values({
        token_hash: sha256Hex(token),
        user_id: userId,
        created_at: now,
        last_used_at: now,
        revoked_at: null,
        source_addr: addr,
        device_id: deviceId,
      })
      .execute();
    return TOKEN_PREFIX + token;
  }

  /** The principal behind an Authtoken header value, or null when invalid, revoked or idle too long. */
  async resolve(header: string | undefined): Promise<Principal | null> {
    if (!header || header.length > 512) return null;
    const hash = tokenHashOf(header);
    const now = this.clock().getTime();
    const hit = this.cache.get(hash);
    if (hit) {
      if (now - hit.lastUsedAt > IDLE_TIMEOUT_MS) {
        this.cache.delete(hash);
        return null;
      }
      if (now - hit.lastUsedAt >= TOUCH_INTERVAL_MS) await this.touch(hit, now);
      return hit.principal;
    }
    const { db } = this.store;
    const row = await db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .innerJoin('companies as c', 'c.id', 'u.company_id')
      .select([
        's.id as sessionId',
        's.last_used_at',
        's.revoked_at',
        'u.id as userId',
        'u.user_name',
        'u.guid',
        'u.enabled',
        'c.id as companyId',
        'c.domain_name',
        'c.disable_login',
      ])
      .where('s.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null || row.enabled !== 1 || row.disable_login === 1) return null;
    const lastUsedAt = Date.parse(row.last_used_at);
    if (now - lastUsedAt > IDLE_TIMEOUT_MS) return null;
    const principal: Principal = {
      userId: row.userId,
      userName: row.user_name,
      userGuid: row.guid,
      companyId: row.companyId,
      companyDomain: row.domain_name,
      sessionId: row.sessionId,
      tokenHash: hash,
    };
    const entry: Cached = { principal, lastUsedAt };
    if (now - lastUsedAt >= TOUCH_INTERVAL_MS) await this.touch(entry, now);
    this.cache.set(hash, entry);
    return principal;
  }

  private async touch(entry: Cached, now: number): Promise<void> {
    entry.lastUsedAt = now;
    await this.store.db
      .updateTable('sessions')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', entry.principal.sessionId)
      .execute();
  }

  async revokeSession(tx: Executor, sessionId: number): Promise<void> {
    await tx
      .updateTable('sessions')
      .set({ revoked_at: this.clock().toISOString() })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .execute();
    await notifyChange(tx, { kind: 'session', ids: [sessionId] });
  }

  async revokeUser(tx: Executor, userId: number): Promise<void> {
    await tx
      .updateTable('sessions')
      .set({ revoked_at: this.clock().toISOString() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    await notifyChange(tx, { kind: 'user', ids: [userId] });
  }

  /** Drops this node's cached view after a revoking transaction commits. */
  forgetUser(userId: number): void {
    for (const [hash, entry] of this.cache.entries()) {
      if (entry.principal.userId === userId) this.cache.delete(hash);
    }
  }

  forgetToken(tokenHash: string): void {
    this.cache.delete(tokenHash);
  }

  /** Another process revoked this session (told by NOTIFY). */
  forgetSession(sessionId: number): void {
    for (const [hash, entry] of this.cache.entries()) {
      if (entry.principal.sessionId === sessionId) this.cache.delete(hash);
    }
  }
}
