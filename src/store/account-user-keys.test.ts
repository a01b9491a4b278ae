import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, freshStore } from '../../test/harness.js';
import { userKey } from '../domain/credentials.js';
import { bootstrap } from './bootstrap.js';
import { migrate } from './migrate.js';

// Migration 0009 keys the stored user names again under today's matching
// rule: rows written before it kept `admin@prodcert` and `.\svc` as typed.

describe('migration 0009_account_user_keys', () => {
  it('re-keys UPN and local spellings, and leaves the rest as they were', async () => {
    const { store, drop } = await freshStore();
    try {
      await migrate(store);
      await bootstrap(store, ADMIN_PASSWORD, new Date());
      const at = new Date().toISOString();
      const names = ['admin@PRODCERT', '.\\Svc', 'PRODCERT\\Admin', 'plain'];
      for (const [i, name] of names.entries()) {
        await store.db
          .insertInto('credentials')
          .values({
            company_id: 0,
            name: `r${i}`,
            name_key: `r${i}`,
            record_type: 'WINDOWSACCOUNT',
            database_type: null,
            owner_user_id: null,
            user_name: name,
            // The key as 0007 wrote it: the whole name lower-cased.
            user_key: name.toLowerCase(),
            key_id: 1,
            secret: 'x',
            created_at: at,
            updated_at: at,
          })
          .execute();
      }
      await store.db
        .insertInto('entities')
        .values({
          id: 5,
          type: 3,
          company_id: 0,
          parent_id: null,
          parent_key: 0,
          name: 'c',
          name_key: 'c',
          created_at: at,
        })
        .execute();
      await store.db
        .insertInto('entity_accounts')
        .values({
          entity_id: 5,
          kind: 'clientImpersonation',
          company_id: 0,
          user_name: 'svc@corp',
          user_key: 'svc@corp',
          key_id: 1,
          secret: 'x',
          updated_at: at,
        })
        .execute();
      await sql`delete from bulwark_migrations where name = '0009_account_user_keys'`.execute(store.db);
      expect((await migrate(store)).applied).toEqual(['0009_account_user_keys']);
      const keys = await store.db.selectFrom('credentials').select(['user_name', 'user_key']).orderBy('id').execute();
      expect(keys.map((k) => k.user_key)).toEqual(['prodcert\\admin', 'svc', 'prodcert\\admin', 'plain']);
      for (const k of keys) expect(k.user_key).toBe(userKey(k.user_name));
      const account = await store.db.selectFrom('entity_accounts').select('user_key').executeTakeFirstOrThrow();
      expect(account.user_key).toBe('corp\\svc');
    } finally {
      await drop();
    }
  });
});
