import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

// Timestamps are ISO-8601 UTC strings with milliseconds ("2026-11-23T09:00:00.000Z"):
// both dialects store and sort them the same way. Flags are 0/1 integers, since
// SQLite has no boolean type.

export interface CompanyTable {
  id: Generated<number>;
  guid: string;
  name: string;
  domain_name: string;
  /** Lower-cased domain name, unique: the product treats domain names case-insensitively. */
  domain_key: string;
  description: Generated<string>;
  email_domains: Generated<string>;
  primary_contacts: Generated<string>;
  disable_backup: Generated<number>;
  disable_restore: Generated<number>;
  disable_login: Generated<number>;
  passkey_hash: string | null;
  authorize_for_restore: Generated<number>;
  allow_users_to_enable_passkey: Generated<number>;
  enable_auth_code_gen: Generated<number>;
  created_at: string;
  /** When the authorize-for-restore window closes; null: no window (migration 0004). */
  authorize_until: string | null;
}

export interface UserTable {
  id: Generated<number>;
  company_id: number;
  guid: string;
  user_name: string;
  name_key: string;
  full_name: string;
  email: string;
  password_hash: string | null;
  enabled: number;
  force_password_change: number;
  created_at: string;
  password_changed_at: string | null;
}

export interface UserGroupTable {
  id: Generated<number>;
  company_id: number;
  guid: string;
  name: string;
  name_key: string;
  description: string;
  /** Built-in groups (master, Tenant Admin, Tenant Users) cannot be renamed or deleted. */
  system_kind: string | null;
  created_at: string;
}

export interface UserGroupMemberTable {
  group_id: number;
  user_id: number;
}

export interface SessionTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  created_at: string;
  last_used_at: string;
  revoked_at: string | null;
  source_addr: string | null;
  device_id: string | null;
}

export interface LoginThrottleTable {
  /** `acct:user:<user id>`, `acct:name:<canonical name naming no user>` or `addr:<source address>` (src/domain/lockout.ts). */
  key: string;
  failures: number;
  window_started_at: string;
  locked_until: string | null;
  lock_count: number;
}

export interface AuditLogTable {
  seq: number;
  at: string;
  actor_user_id: number | null;
  actor_name: string;
  company_id: number | null;
  operation: string;
  target_type: string;
  target_id: string;
  target_name: string;
  outcome: string;
  reason: string;
  details: string;
  source_addr: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface EntityTable {
  id: Generated<number>;
  type: number;
  company_id: number;
  parent_id: number | null;
  /** parent_id or 0: lets one unique index cover top-level and nested names. */
  parent_key: number;
  name: string;
  name_key: string;
  created_at: string;
}

export interface ClientGroupClientTable {
  group_id: number;
  client_id: number;
}

export interface RoleTable {
  id: Generated<number>;
  company_id: number;
  name: string;
  name_key: string;
  description: Generated<string>;
  builtin: Generated<number>;
  created_at: string;
}

export interface RolePermissionTable {
  role_id: number;
  permission: string;
}

export interface SecurityAssociationTable {
  id: Generated<number>;
  entity_type: number;
  entity_id: number;
  principal_kind: 'user' | 'group';
  principal_id: number;
  role_id: number;
  company_id: number;
  created_at: string;
}

export interface AuthzVersionTable {
  id: number;
  version: number;
}

/** Per company (0 = the CommCell, -1 = all of them): the authz version that last changed its part of the view. */
export interface AuthzPartTable {
  company_id: number;
  version: number;
}

/** What cvpysdk picks its classes by: an agent's application id (29 Linux, 33 Windows File System), a client's OS. */
export interface EntityAttributeTable {
  entity_id: number;
  app_id: number | null;
  os: string | null;
}

/** A backup job (catalogue import) or a restore job (CreateTask); times in epoch seconds. */
export interface JobTable {
  id: number;
  company_id: number;
  subclient_id: number;
  job_type: 'Backup' | 'Restore';
  backup_level: string | null;
  start_time: number;
  end_time: number;
  user_name: Generated<string>;
  /** JSON: a restore's paths and destination. */
  details: Generated<string>;
  created_at: string;
}

/** A file or folder a backup job holds; `folder` is the parent's key ("/a/b"), whatever the path's separator. */
export interface CatalogueItemTable {
  job_id: number;
  subclient_id: number;
  folder: string;
  name: string;
  path: string;
  is_folder: number;
  size: number;
  mtime: number;
  deleted: number;
}

/** The newest version of each item of a subclient's catalogue (migration 0006). */
export interface CatalogueLatestTable {
  subclient_id: number;
  folder: string;
  name: string;
  job_id: number;
  /** The end time of the job that holds this version. */
  backup_time: number;
  path: string;
  is_folder: number;
  size: number;
  mtime: number;
  deleted: number;
}

/** A client's own passkey (no row: none); it guards the client before its company's (migration 0004). */
export interface ClientPasskeyTable {
  client_id: number;
  passkey_hash: string;
  authorize_until: string | null;
  created_at: string;
}

/** A data key wrapped by the master key (migration 0007); the highest id seals new secrets. */
export interface VaultKeyTable {
  id: number;
  wrapped: string;
  created_at: string;
}

/** A Credential Manager record (migration 0007); `secret` is sealed under `key_id` (src/crypto/vault.ts). */
export interface CredentialTable {
  id: Generated<number>;
  company_id: number;
  name: string;
  name_key: string;
  /** WINDOWSACCOUNT, LINUXACCOUNT, DATABASE_ACCOUNT… (src/domain/credentials.ts). */
  record_type: string;
  database_type: string | null;
  description: Generated<string>;
  owner_user_id: number | null;
  user_name: string;
  /** Canonical user name (src/domain/credentials.ts userKey): what AccountManagement matches by. */
  user_key: string;
  key_id: number;
  secret: string;
  created_at: string;
  updated_at: string;
}

/** Who may use a credential record ("User Credential"). */
export interface CredentialUserTable {
  credential_id: number;
  principal_kind: 'user' | 'group';
  principal_id: number;
}

/** An account bound to one entity: a subclient's UNC-path user, an instance's or client's impersonation user. */
export interface EntityAccountTable {
  entity_id: number;
  kind: 'subclientUnc' | 'instanceImpersonation' | 'clientImpersonation';
  company_id: number;
  user_name: string;
  user_key: string;
  key_id: number;
  secret: string;
  updated_at: string;
}

export interface Database {
  companies: CompanyTable;
  users: UserTable;
  user_groups: UserGroupTable;
  user_group_members: UserGroupMemberTable;
  sessions: SessionTable;
  login_throttle: LoginThrottleTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  meta: MetaTable;
  entities: EntityTable;
  client_group_clients: ClientGroupClientTable;
  roles: RoleTable;
  role_permissions: RolePermissionTable;
  security_associations: SecurityAssociationTable;
  authz_version: AuthzVersionTable;
  authz_parts: AuthzPartTable;
  client_passkeys: ClientPasskeyTable;
  entity_attributes: EntityAttributeTable;
  jobs: JobTable;
  catalogue_items: CatalogueItemTable;
  catalogue_latest: CatalogueLatestTable;
  fd_api_keys: FdApiKeyTable;
  fd_api_key_groups: FdApiKeyGroupTable;
  fd_api_key_group_members: FdApiKeyGroupMemberTable;
  fd_virtual_servers: FdVirtualServerTable;
  fd_virtual_server_addresses: FdVirtualServerAddressTable;
  vault_keys: VaultKeyTable;
  credentials: CredentialTable;
  credential_users: CredentialUserTable;
  entity_accounts: EntityAccountTable;
}

export type Company = Selectable<CompanyTable>;
export type NewCompany = Insertable<CompanyTable>;
export type CompanyUpdate = Updateable<CompanyTable>;
export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserGroup = Selectable<UserGroupTable>;
export type Session = Selectable<SessionTable>;
export type AuditRow = Selectable<AuditLogTable>;

/** The CommCell is stored as company 0 so every user and group has an owner. */
export const COMMCELL_ID = 0;

// The file-devices dialect (migration 0008).

export interface FdApiKeyTable {
  id: Generated<number>;
  /** The key's public 10-character prefix, shown in lists. */
  prefix: string;
  /** SHA-256 (hex) of the whole key; the key itself is never stored. */
  secret_hash: string;
  owner_user_id: number;
  description: string;
  is_enabled: number;
  rest_access: string;
  soap_access: string;
  key_type: string;
  /** JSON array of call ids (CALLID_RESTRICTED keys). */
  allowed_call_ids: string;
  /** JSON array of group ids, or null: no restriction. */
  restricted_groups: string | null;
  /** JSON array of virtual server ids, or null: no restriction. */
  restricted_virtual_servers: string | null;
  /** JSON array of CIDRs, or null: any source address. */
  allowed_sources: string | null;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface FdApiKeyGroupTable {
  id: Generated<number>;
  name: string;
  name_key: string;
  description: string;
  created_at: string;
}

export interface FdApiKeyGroupMemberTable {
  group_id: number;
  key_id: number;
}

export interface FdVirtualServerTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  name_key: string;
  node_id: number;
  is_enabled: number;
  created_at: string;
}

export interface FdVirtualServerAddressTable {
  address: string;
  virtual_server_id: number;
  netmask: string;
  port: string;
}

export type FdApiKey = Selectable<FdApiKeyTable>;
export type FdVirtualServer = Selectable<FdVirtualServerTable>;
export type FdApiKeyGroup = Selectable<FdApiKeyGroupTable>;
