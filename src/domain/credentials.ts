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
 * The key a stored account's user name is matched by: `domain\user` with each
 * part trimmed, NFC and lower-cased (src/domain/names.ts), as the platform
 * compares Windows account names. `PRODCERT\Admin`, ` prodcert\admin` and
 * `prodcert\ADMIN` are one key; `admin` (no domain) is another.
 */
export function userKey(userName: string): string {
  const { domain, user } = splitLoginName(userName);
  return domain === null ? nameKey(user) : `${nameKey(domain)}\\${nameKey(user)}`;
}

/** The associated data a Credential Manager record's secret is sealed to. */
export const credentialIdentity = (id: number) => `bulwark/credentials/${id}`;

/** The associated data an entity-bound account's secret is sealed to. */
export const entityAccountIdentity = (entityId: number, kind: AccountKind) =>
  `bulwark/entity_accounts/${entityId}/${kind}`;
