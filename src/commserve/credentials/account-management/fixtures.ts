import { SaxesParser } from 'saxes';
import { addEntities } from '../../../../test/estate.js';
import type { TestApp } from '../../../../test/harness.js';
import { ENTITY_TYPES } from '../../../domain/catalogue.js';
import type { AccountKind } from '../../../domain/credentials.js';
import {
  credentialById,
  entityAccounts,
  insertCredential,
  openAccount,
  openCredential,
  setEntityAccount,
} from '../../../store/credentials.js';

// Estates of stored accounts for the AccountManagement tests: entities put
// straight into the store, accounts through the repository functions.

/** One client's chain down to a subclient, with ids chosen by the caller (`base`…`base+4`, or as given). */
export interface ChainIds {
  client: number;
  agent: number;
  instance: number;
  backupSet: number;
  subclient: number;
}

export async function addChain(
  t: TestApp,
  companyId: number,
  ids: ChainIds,
  names: { client: string; backupSet?: string; os?: 'Windows' | 'Linux' },
): Promise<ChainIds> {
  await addEntities(t.store, [
    { id: ids.client, type: ENTITY_TYPES.client, companyId, name: names.client },
    { id: ids.agent, type: ENTITY_TYPES.agent, companyId, parentId: ids.client, name: 'File System' },
    { id: ids.instance, type: ENTITY_TYPES.instance, companyId, parentId: ids.agent, name: 'DefaultInstanceName' },
    {
      id: ids.backupSet,
      type: ENTITY_TYPES.backupSet,
      companyId,
      parentId: ids.instance,
      name: names.backupSet ?? 'defaultBackupSet',
    },
    { id: ids.subclient, type: ENTITY_TYPES.subclient, companyId, parentId: ids.backupSet, name: 'default' },
  ]);
  await t.store.db
    .insertInto('entity_attributes')
    .values({ entity_id: ids.client, app_id: null, os: names.os ?? 'Windows' })
    .execute();
  return ids;
}

/** A chain at `base`, `base+1`, … */
export const chainAt = (base: number): ChainIds => ({
  client: base,
  agent: base + 1,
  instance: base + 2,
  backupSet: base + 3,
  subclient: base + 4,
});

export async function setAccount(
  t: TestApp,
  entityId: number,
  kind: AccountKind,
  companyId: number,
  userName: string,
  password: string,
): Promise<void> {
  await t.store.db
    .transaction()
    .execute((tx) =>
      setEntityAccount(tx, t.ctx.vault, { entityId, kind, companyId, userName, password, at: new Date() }),
    );
}

export async function addRecord(
  t: TestApp,
  companyId: number,
  name: string,
  userName: string,
  password: string,
): Promise<number> {
  const id = await t.store.db.transaction().execute((tx) =>
    insertCredential(tx, t.ctx.vault, {
      companyId,
      name,
      recordType: 'WINDOWSACCOUNT',
      databaseType: null,
      description: '',
      ownerUserId: null,
      userName,
      password,
      at: new Date(),
    }),
  );
  if (id === null) throw new Error(`record ${name} exists`);
  return id;
}

/** An entity-bound account as stored: its user name and its password, opened. */
export async function accountOf(t: TestApp, entityId: number, kind: AccountKind) {
  const row = (await entityAccounts(t.store.db, entityId)).find((a) => a.kind === kind);
  if (!row) return null;
  return { userName: row.user_name, password: await openAccount(t.store.db, t.ctx.vault, row) };
}

export async function recordOf(t: TestApp, id: number) {
  const row = await credentialById(t.store.db, id);
  if (!row) return null;
  return { userName: row.user_name, password: await openCredential(t.store.db, t.ctx.vault, row) };
}

/** Every stored account, keyed `e:<entity>:<kind>` or `c:<id>`, with its user name and opened password. */
export async function snapshot(t: TestApp): Promise<Map<string, { userName: string; password: string }>> {
  const out = new Map<string, { userName: string; password: string }>();
  const accounts = await t.store.db
    .selectFrom('entity_accounts')
    .select(['entity_id', 'kind', 'user_name', 'key_id', 'secret'])
    .execute();
  for (const a of accounts) {
    const row = { ...a, entity_id: Number(a.entity_id), key_id: Number(a.key_id) };
    out.set(`e:${row.entity_id}:${row.kind}`, {
      userName: row.user_name,
      password: await openAccount(t.store.db, t.ctx.vault, row),
    });
  }
  const records = await t.store.db.selectFrom('credentials').select(['id', 'user_name', 'key_id', 'secret']).execute();
  for (const r of records) {
    const row = { ...r, id: Number(r.id), key_id: Number(r.key_id) };
    out.set(`c:${row.id}`, { userName: row.user_name, password: await openCredential(t.store.db, t.ctx.vault, row) });
  }
  return out;
}

/** A strict parse (saxes throws on anything not well-formed XML 1.0); the elements with their attributes. */
export function parseStrict(xml: string): Array<{ name: string; attributes: Record<string, string> }> {
  const elements: Array<{ name: string; attributes: Record<string, string> }> = [];
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const [k, a] of Object.entries(tag.attributes)) attributes[k] = typeof a === 'string' ? a : a.value;
    elements.push({ name: tag.name, attributes });
  });
  parser.write(xml).close();
  return elements;
}
