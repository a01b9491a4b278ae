import { bumpAuthzVersion } from '../src/store/authz.js';
import type { Store } from '../src/store/db.js';

/**
 * Puts entities straight into the store for tests of routes that need a tree
 * (the import API has its own tests). Ids are chosen by the caller.
 */
export async function addEntities(
  store: Store,
  rows: Array<{ id: number; type: number; companyId: number; parentId?: number | null; name: string }>,
  clientGroups: Array<[group: number, client: number]> = [],
): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    for (const r of rows) {
      await tx
        .insertInto('entities')
        .values({
          id: r.id,
          type: r.type,
          company_id: r.companyId,
          parent_id: r.parentId ?? null,
          parent_key: r.parentId ?? 0,
          name: r.name,
          name_key: r.name.toLowerCase(),
          created_at: new Date().toISOString(),
        })
        .execute();
    }
    for (const [group_id, client_id] of clientGroups) {
      await tx.insertInto('client_group_clients').values({ group_id, client_id }).execute();
    }
    // The companies of the new entities, and of the client groups given memberships (which may be older).
    const companies = new Set(rows.map((r) => r.companyId));
    const groups = clientGroups.map(([group]) => group);
    if (groups.length > 0) {
      const owners = await tx.selectFrom('entities').select('company_id').where('id', 'in', groups).execute();
      for (const o of owners) companies.add(o.company_id);
    }
    await bumpAuthzVersion(tx, companies);
  });
}
