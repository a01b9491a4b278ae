import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: stored accounts' `user_key` under the matching rule of
// User/AccountManagement (issue 12): a UPN `user@domain` is keyed as
// `domain\user`, and `.\user` as the local `user`. Rows written before this
// migration kept those names as they were typed; they are keyed again here.
// The rule is copied as it stood (a migration imports no app code); today's
// is `userKey` in src/domain/credentials.ts.

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this replaces
const ILL_FORMED = /[\p{Cs}\u0000]/gu;
const nameKey = (s: string) => s.replace(ILL_FORMED, '\ufffd').trim().normalize('NFC').toLowerCase().normalize('NFC');

function userKey(userName: string): string {
  const i = userName.indexOf('\\');
  let user = (i < 0 ? userName : userName.slice(i + 1)).trim().normalize('NFC');
  let domain: string | null = i < 0 ? null : userName.slice(0, i).trim().normalize('NFC');
  if (domain === '') domain = null;
  if (domain === null && i < 0) {
    const at = user.lastIndexOf('@');
    if (at > 0 && at < user.length - 1) {
      domain = user.slice(at + 1).trim();
      user = user.slice(0, at).trim();
    }
  }
  if (user === '') return '';
  if (domain !== null && domain !== '.' && domain !== '') return `${nameKey(domain)}\\${nameKey(user)}`;
  // A local name that would read otherwise (`\svc@corp`, `\a\b`) keeps a leading backslash, so a key read again is itself.
  const at = user.lastIndexOf('@');
  return (at > 0 && at < user.length - 1) || user.includes('\\') ? `\\${nameKey(user)}` : nameKey(user);
}

export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  const credentials = await db.selectFrom('credentials').select(['id', 'user_name', 'user_key']).execute();
  for (const r of credentials) {
    const key = userKey(r.user_name);
    if (key !== r.user_key) {
      await db.updateTable('credentials').set({ user_key: key }).where('id', '=', r.id).execute();
    }
  }
  const accounts = await db
    .selectFrom('entity_accounts')
    .select(['entity_id', 'kind', 'user_name', 'user_key'])
    .execute();
  for (const r of accounts) {
    const key = userKey(r.user_name);
    if (key !== r.user_key) {
      await db
        .updateTable('entity_accounts')
        .set({ user_key: key })
        .where('entity_id', '=', r.entity_id)
        .where('kind', '=', r.kind)
        .execute();
    }
  }
}
