import { nameKey, splitLoginName } from './names.js';

/**
 * Stored service accounts: the record types Credential Manager knows, the
 * kinds of entity-bound account, the canonical user name they are matched by,
 * and the identity each secret is sealed to.
 */

/** Record types by the numbers cvpysdk sends (constants.Credential_Type) and the names V5 answers. */
export const RECORD_TYPES: ReadonlyArray<{ name: string; code: number | null }> = [
  { name: 'WINDOWSACCOUNT', code: 1 },
  { name: 'LINUXACCOUNT', code: 2 },
  { name: 'SSHACCOUNT', code: 3 },
  { name: 'AZUREACCOUNT', code: 4 },
  { name: 'VMWAREACCOUNT', code: 5 },
  { name: 'MICROSOFT_AZURE', code: 103 },
  { name: 'AMAZON_S3', code: null },
  { name: 'DATABASE_ACCOUNT', code: null },
];

/** The database kinds `POST V4/Credential` takes (cvpysdk's add_*_database_creds). */
export const DATABASE_TYPES = ['DB2', 'POSTGRESQL', 'MYSQL', 'ORACLE', 'SQL_SERVER', 'SAP_HANA'] as const;

/** A record type's stored name from a number or a name (any case); null when unknown. */
export function recordTypeOf(raw: unknown): string | null {
  if (typeof raw === 'number' || (typeof raw === 'string' && /^[0-9]{1,4}$/.test(raw))) {
    return RECORD_TYPES.find((t) => t.code === Number(raw))?.name ?? null;
  }
  if (typeof raw !== 'string') return null;
  const name = raw.trim().toUpperCase();
  return RECORD_TYPES.find((t) => t.name === name)?.name ?? null;
}

/** What a list shows as `recordType`: the product's number where it has one, else the name. */
export function recordTypeCode(name: string): number | string {
  return RECORD_TYPES.find((t) => t.name === name)?.code ?? name;
}

export const ACCOUNT_KINDS = ['subclientUnc', 'instanceImpersonation', 'clientImpersonation'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/**
 * The one key a stored account's user name is matched by (User/AccountManagement;
 * stored as `user_key`, indexed). Two names are one account exactly when their
 * keys are equal. Each part is trimmed, NFC and lower-cased (src/domain/names.ts),
 * as the platform compares Windows account names:
 *
 * - `DOMAIN\user` (split at the first backslash) is `domain\user`:
 *   `PRODCERT\Admin`, ` prodcert\admin` and `prodcert\ADMIN` are one key.
 * - `user@domain` (a UPN, split at the last `@`, no backslash in it) is
 *   `domain\user`: `admin@prodcert` is `prodcert\admin`. The domain is compared
 *   as written: `admin@prodcert.example.com` is `prodcert.example.com\admin`, not
 *   `prodcert\admin` (a NetBIOS name cannot be derived from a DNS name).
 * - A bare `user`, `.\user` (this machine) and `\user` are the local account
 *   `user`, which never equals any `domain\user`. An `@` at either end is part
 *   of a bare name (`@svc` is `@svc`). A local name holding an inner `@`
 *   (`\\svc@corp`, `.\\svc@corp`) is not the UPN `svc@corp`: its key keeps the
 *   leading backslash.
 *
 * An empty name, or one whose user part is empty (`prodcert\`), has the key
 * `''`, which no stored account holds and no lookup is made for.
 */
export function userKey(userName: string): string {
  let { domain, user } = splitLoginName(userName);
  if (domain === null && !userName.includes('\\')) {
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

/** The associated data a Credential Manager record's secret is sealed to. */
export const credentialIdentity = (id: number) => `bulwark/credentials/${id}`;

/** The associated data an entity-bound account's secret is sealed to. */
export const entityAccountIdentity = (entityId: number, kind: AccountKind) =>
  `bulwark/entity_accounts/${entityId}/${kind}`;
