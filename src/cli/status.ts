import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { type Config, redactDb } from '../config.js';
import type { Store } from '../store/db.js';
import { MIGRATIONS } from '../store/migrate.js';
import { COMMCELL_ID } from '../store/schema.js';
import { sealedCounts } from '../store/sealed.js';

export interface StoreStatus {
  lines: string[];
  /** Migrations this version has that the database lacks. */
  pending: string[];
}

/** `bulwark status`: what the store holds, read only. */
export async function storeStatus(store: Store, db: string): Promise<StoreStatus> {
  const rows = await (store.db as unknown as Kysely<any>).selectFrom('bulwark_migrations').select('name').execute();
  const applied = new Set(rows.map((r) => r.name as string));
  const pending = MIGRATIONS.map((m) => m.name).filter((n) => !applied.has(n));
  const lines = [`store: ${store.dialect} ${redactDb(db)}`];
  if (pending.length > 0) {
    lines.push(`migrations: ${applied.size} applied, pending: ${pending.join(', ')} (bulwark migrate applies them)`);
    return { lines, pending };
  }
  lines.push(`migrations: ${applied.size} applied, none pending (schema ${MIGRATIONS.at(-1)?.name ?? 'empty'})`);
  const commcell = await store.db.selectFrom('companies').select('id').where('id', '=', COMMCELL_ID).executeTakeFirst();
  lines.push(`administrator: ${commcell ? 'created' : 'not yet (the first bulwark serve creates it)'}`);
  const head = await store.db.selectFrom('audit_head').select('seq').executeTakeFirst();
  lines.push(`audit records: ${head?.seq ?? 0}`);
  // Data keys of the vault (src/store/vault.ts) and how many stored passwords each seals.
  const keys = await store.db.selectFrom('vault_keys').select('id').orderBy('id').execute();
  const sealed = await sealedCounts(store.db);
  const described = keys.map((k) => `${k.id} (${sealed.get(k.id) ?? 0} sealed)`);
  lines.push(`vault data keys: ${described.length ? described.join(', ') : 'none yet'}`);
  return { lines, pending };
}

/**
 * A key's id: an HMAC of a fixed label under the key, 16 hex digits. It tells
 * two nodes' keys apart (they must match) and says nothing about the key.
 */
export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('bulwark key id').digest('hex').slice(0, 16);
}

/**
 * The master key's id and where it comes from, read only: unlike `serve`,
 * status never creates the key file.
 */
export function masterKeyStatus(config: Config): string {
  if (config.masterKeyCommand) return 'master key: from BULWARK_MASTER_KEY_COMMAND (status does not run it)';
  if (config.masterKey) return `master key: ${keyId(Buffer.from(config.masterKey, 'base64'))} (BULWARK_MASTER_KEY)`;
  const file = path.resolve(config.dataDir, 'master.key');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return `master key: none at ${file} (the first bulwark serve creates it)`;
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) return `master key: ${file} does not hold base64 of 32 bytes`;
  const loose = (fs.statSync(file).mode & 0o077) !== 0;
  return `master key: ${keyId(key)} (${file}${loose ? ', readable by others: serve refuses it' : ''})`;
}

/**
 * The node at HOST:PORT, as a load balancer sees it: /readyz's answer, or
 * that nothing answers there. Over TLS the certificate is not checked (this
 * is the node's own address, and the answer is only a status).
 */
export async function nodeStatus(config: Config, timeoutMs = 2000): Promise<string> {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const scheme = config.tlsCert ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.port}/readyz`;
  try {
    const { request } = await import(`node:${scheme}`);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        url,
        { timeout: timeoutMs, rejectUnauthorized: false },
        (res: import('node:http').IncomingMessage) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (body.length < 4096) body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
    let said = '';
    try {
      const j = JSON.parse(body) as { status?: unknown; reason?: unknown };
      said = [j.status, j.reason].filter((x) => typeof x === 'string').join(': ');
    } catch {}
    return `node: ${url} answers ${status}${said ? ` (${said})` : ''}`;
  } catch (e) {
    return `node: nothing answers at ${url} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}
