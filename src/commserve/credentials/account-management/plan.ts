import { createHash, timingSafeEqual } from 'node:crypto';
import { appIdOf, appNameOf } from '../../../domain/agents.js';
import type { AuthzView, EntityInView, EntityRef } from '../../../domain/authz.js';
import { ENTITY_TYPES, type Permission } from '../../../domain/catalogue.js';
import type { AccountKind } from '../../../domain/credentials.js';
import { companyRef } from '../../../domain/permissions.js';
import type { Principal } from '../../../domain/principal.js';
import { attributesOf } from '../../../store/catalogue.js';
import {
  credentialsByUserKey,
  entityAccountsByUserKey,
  openAccount,
  openCredential,
  rewriteAccounts,
  type Sealer,
} from '../../../store/credentials.js';
import type { Executor, Tx } from '../../../store/db.js';
import type { Vault } from '../../../store/vault.js';

// What User/AccountManagement would change, found once and used both to
// answer a preview and to apply: preview equals apply by construction, and
// a property test holds the two to it.

export const CREDENTIAL_MANAGEMENT: Permission = 'Credential Management';
/** The stronger right skipPasswordCheck=1 needs, on each affected account's company (README "Account management"). */
export const ADMINISTRATIVE_MANAGEMENT: Permission = 'Administrative Management';

/** One stored account whose user name matched. */
export type Candidate =
  | {
      source: 'entity';
      entityId: number;
      kind: AccountKind;
      companyId: number;
      userName: string;
      keyId: number;
      secret: string;
    }
  | {
      source: 'credential';
      id: number;
      name: string;
      companyId: number;
      userName: string;
      keyId: number;
      secret: string;
    };

/** The entity type each kind of entity-bound account hangs on. */
export const KIND_ENTITY: Readonly<Record<AccountKind, number>> = {
  subclientUnc: ENTITY_TYPES.subclient,
  instanceImpersonation: ENTITY_TYPES.instance,
  clientImpersonation: ENTITY_TYPES.client,
};

/** Every stored account whose user-name key is `key` in these companies (all: `null`); entity-bound first. */
export async function findCandidates(
  db: Executor,
  key: string,
  companyIds: readonly number[] | null,
  forUpdate: boolean,
): Promise<Candidate[]> {
  const accounts = await entityAccountsByUserKey(db, key, companyIds, forUpdate);
  const records = await credentialsByUserKey(db, key, companyIds, forUpdate);
  return [
    ...accounts.map(
      (a): Candidate => ({
        source: 'entity',
        entityId: a.entity_id,
        kind: a.kind,
        companyId: a.company_id,
        userName: a.user_name,
        keyId: a.key_id,
        secret: a.secret,
      }),
    ),
    ...records.map(
      (r): Candidate => ({
        source: 'credential',
        id: r.id,
        name: r.name,
        companyId: r.company_id,
        userName: r.user_name,
        keyId: r.key_id,
        secret: r.secret,
      }),
    ),
  ];
}

/** Whether the caller holds Credential Management anywhere at all (else it learns nothing here). */
export function managesAnyCredentials(view: AuthzView, p: Principal): boolean {
  return view
    .holdings({ kind: 'user', id: p.userId })
    .some((g) => view.rolePermissions(g.roleId).includes(CREDENTIAL_MANAGEMENT));
}

const TYPE_WORD: Record<number, string> = {
  [ENTITY_TYPES.subclient]: 'subclient',
  [ENTITY_TYPES.instance]: 'instance',
  [ENTITY_TYPES.client]: 'client',
};

/**
 * Why the caller may not change this account, or null when it may:
 * Credential Management on the account's entity (inherited from its client,
 * client group, company or the CommCell) or, for a Credential Manager record,
 * on its owner company; with `skipPasswordCheck`, also Credential Management
 * and Administrative Management on the account's company.
 */
export function refusal(view: AuthzView, p: Principal, c: Candidate, skipPasswordCheck: boolean): string | null {
  const company = companyRef(c.companyId);
  const where = c.companyId === 0 ? 'the CommCell' : `company ${c.companyId}`;
  if (c.source === 'entity') {
    const ref: EntityRef = { type: KIND_ENTITY[c.kind], id: c.entityId };
    const label = `${TYPE_WORD[ref.type]} ${ref.id}`;
    if (!view.entity(ref) || !view.allowed(p.userId, CREDENTIAL_MANAGEMENT, ref)) {
      return `changing the account of ${label} needs ${CREDENTIAL_MANAGEMENT} on it`;
    }
  } else if (!view.allowed(p.userId, CREDENTIAL_MANAGEMENT, company)) {
    return `changing the credential record ${c.name} needs ${CREDENTIAL_MANAGEMENT} on ${where}`;
  }
  if (
    skipPasswordCheck &&
    !(
      view.allowed(p.userId, CREDENTIAL_MANAGEMENT, company) &&
      view.allowed(p.userId, ADMINISTRATIVE_MANAGEMENT, company)
    )
  ) {
    return `skipPasswordCheck needs ${CREDENTIAL_MANAGEMENT} and ${ADMINISTRATIVE_MANAGEMENT} on ${where}`;
  }
  return null;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Equal texts, compared in time independent of where they differ (fixed-length digests). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The candidates whose stored password is `oldPassword`. Every candidate is
 * opened and compared (no early exit), so the time says how many candidates
 * there are, which the caller may know anyway, not which of them matched.
 */
export async function withPassword(
  db: Executor,
  vault: Vault,
  candidates: readonly Candidate[],
  oldPassword: string,
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const c of candidates) {
    const stored =
      c.source === 'entity'
        ? await openAccount(db, vault, {
            entity_id: c.entityId,
            kind: c.kind,
            key_id: c.keyId,
            secret: c.secret,
          })
        : await openCredential(db, vault, { id: c.id, key_id: c.keyId, secret: c.secret });
    if (sameSecret(stored, oldPassword)) out.push(c);
  }
  return out;
}

/** What changes on every affected account. */
export interface Change {
  /** The new user name, when it names another account than the old one; else the stored names stay. */
  userName?: string;
  password?: string;
}

/** Writes the change to every affected account (inside the caller's one transaction); false if one vanished. */
export async function applyChange(
  tx: Tx,
  seal: Sealer,
  affected: readonly Candidate[],
  change: Change,
  at: Date,
): Promise<boolean> {
  const accounts = affected.flatMap((c) => (c.source === 'entity' ? [{ entityId: c.entityId, kind: c.kind }] : []));
  const records = affected.flatMap((c) => (c.source === 'credential' ? [c.id] : []));
  return (await rewriteAccounts(tx, seal, accounts, records, { ...change, at })) === affected.length;
}

// -- the preview: GuiServer_ModifyCredsResp -----------------------------------

/** The label of each group of changes, by account kind; the seed names the UNC path and Credential Manager ones. */
export const GROUP_LABELS: Readonly<Record<AccountKind | 'credential', { password: string; userName: string }>> = {
  subclientUnc: { password: 'UNC path user password', userName: 'UNC path user name' },
  instanceImpersonation: {
    password: 'Instance impersonation user password',
    userName: 'Instance impersonation user name',
  },
  clientImpersonation: { password: 'Client impersonation user password', userName: 'Client impersonation user name' },
  credential: { password: 'User password for [password]', userName: 'User name for [user name]' },
};
const GROUP_ORDER = ['subclientUnc', 'instanceImpersonation', 'clientImpersonation', 'credential'] as const;

export interface ChangeGroup {
  changes: string;
  entities: { entity: Array<Record<string, unknown>> } | { credEntity: Array<Record<string, unknown>> };
}

/**
 * Each affected entity as the seed shows it: a subclient with its whole chain
 * (`subclientId applicationId clientName backupsetId instanceId clientId
 * subclientName backupsetName instanceName _type_ appName`), an instance and
 * a client likewise, a Credential Manager record as `credEntity _type_=174`.
 */
export async function describe(
  db: Executor,
  view: AuthzView,
  affected: readonly Candidate[],
): Promise<Map<Candidate, Record<string, unknown>>> {
  const up = (type: number, id: number | null | undefined) =>
    id === null || id === undefined ? null : view.entity({ type, id });
  const chains = new Map<
    Candidate,
    { s: EntityInView | null; b: EntityInView | null; i: EntityInView | null; a: EntityInView | null; c: EntityInView }
  >();
  for (const x of affected) {
    if (x.source !== 'entity') continue;
    const self = up(KIND_ENTITY[x.kind], x.entityId);
    if (!self) continue;
    const s = x.kind === 'subclientUnc' ? self : null;
    const b = s ? up(ENTITY_TYPES.backupSet, s.parentId) : null;
    const i = x.kind === 'instanceImpersonation' ? self : b ? up(ENTITY_TYPES.instance, b.parentId) : null;
    const a = i ? up(ENTITY_TYPES.agent, i.parentId) : null;
    const c = x.kind === 'clientImpersonation' ? self : a ? up(ENTITY_TYPES.client, a.parentId) : null;
    if (c) chains.set(x, { s, b, i, a, c });
  }
  // One read of the agents' and clients' attributes for all of them.
  const ids = new Set<number>();
  for (const ch of chains.values()) {
    ids.add(ch.c.id);
    if (ch.a) ids.add(ch.a.id);
  }
  const attrs = await attributesOf(db, [...ids]);
  const out = new Map<Candidate, Record<string, unknown>>();
  for (const x of affected) {
    if (x.source === 'credential') {
      out.set(x, { _type_: 174, credentialId: x.id, credentialName: x.name });
      continue;
    }
    const ch = chains.get(x);
    const type = KIND_ENTITY[x.kind];
    if (!ch) {
      out.set(x, { ...(type === ENTITY_TYPES.subclient ? { subclientId: x.entityId } : {}), _type_: type });
      continue;
    }
    const appId = ch.a ? appIdOf(attrs.get(ch.a.id)?.appId, ch.a.name, attrs.get(ch.c.id)?.os) : null;
    const app = ch.a && appId !== null ? { applicationId: appId, appName: appNameOf(appId, ch.a.name) } : null;
    if (x.kind === 'subclientUnc' && ch.s && ch.b && ch.i && app) {
      out.set(x, {
        subclientId: ch.s.id,
        applicationId: app.applicationId,
        clientName: ch.c.name,
        backupsetId: ch.b.id,
        instanceId: ch.i.id,
        clientId: ch.c.id,
        subclientName: ch.s.name,
        backupsetName: ch.b.name,
        instanceName: ch.i.name,
        _type_: ENTITY_TYPES.subclient,
        appName: app.appName,
      });
    } else if (x.kind === 'instanceImpersonation' && ch.i && app) {
      out.set(x, {
        instanceId: ch.i.id,
        applicationId: app.applicationId,
        clientName: ch.c.name,
        clientId: ch.c.id,
        instanceName: ch.i.name,
        _type_: ENTITY_TYPES.instance,
        appName: app.appName,
      });
    } else {
      out.set(x, { clientId: ch.c.id, clientName: ch.c.name, _type_: ENTITY_TYPES.client });
    }
  }
  return out;
}

/** The preview's groups: every password change by kind, then every user-name change by kind; empty groups left out. */
export function groupChanges(
  affected: readonly Candidate[],
  change: Change,
  shown: ReadonlyMap<Candidate, Record<string, unknown>>,
): ChangeGroup[] {
  const groups: ChangeGroup[] = [];
  const fields = [
    ...(change.password !== undefined ? (['password'] as const) : []),
    ...(change.userName !== undefined ? (['userName'] as const) : []),
  ];
  for (const field of fields) {
    for (const kind of GROUP_ORDER) {
      const members = affected.filter((c) => (c.source === 'credential' ? 'credential' : c.kind) === kind);
      if (members.length === 0) continue;
      const items = members.map((c) => shown.get(c) as Record<string, unknown>);
      groups.push({
        changes: GROUP_LABELS[kind][field],
        entities: kind === 'credential' ? { credEntity: items } : { entity: items },
      });
    }
  }
  return groups;
}

/** How an affected account is named in the audit record (never a password). */
export function auditEntity(c: Candidate): Record<string, unknown> {
  return c.source === 'entity'
    ? { type: TYPE_WORD[KIND_ENTITY[c.kind]], id: c.entityId, account: c.kind, companyId: c.companyId }
    : { type: 'credential', id: c.id, name: c.name, companyId: c.companyId };
}
