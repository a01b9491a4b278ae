import fs from 'node:fs';
import path from 'node:path';
import { type AuditActor, appendAudit } from '../audit/log.js';
import type { Config } from '../config.js';
import { hashSecret } from '../crypto/passwords.js';
import { ENTITY_TYPES } from '../domain/catalogue.js';
import { anySubclient, importCatalogue } from '../import/catalogue.js';
import { createEntityFromSpec } from '../import/entities.js';
import { bumpAuthzVersion, grant } from '../store/authz.js';
import { bootstrap, generatePassword } from '../store/bootstrap.js';
import type { Store, Tx } from '../store/db.js';
import { addMember, createCompany, createGroup, createUser } from '../store/directory.js';
import { migrate } from '../store/migrate.js';
import { createPasskey } from '../store/passkeys.js';
import { COMMCELL_ID } from '../store/schema.js';
import { CliError, EXIT } from './errors.js';
import { ADMIN_PASSWORD_FILE } from './serve.js';

/** Where the demo's users' passwords and the passkey go: a 0600 file in the data dir, like admin's. */
export const DEMO_PASSWORDS_FILE = 'demo-passwords';

const ACTOR: AuditActor = { userId: null, name: 'bulwark demo', companyId: null };

interface DemoCompany {
  name: string;
  domain: string;
  admin: string;
  operator: string;
  passkey: boolean;
  clients: Array<{ name: string; os: 'Linux' | 'Windows' }>;
}

const COMPANIES: DemoCompany[] = [
  {
    name: 'Acme Corporation',
    domain: 'acme',
    admin: 'alice',
    operator: 'oscar',
    passkey: true,
    clients: [
      { name: 'acme-web01', os: 'Linux' },
      { name: 'acme-fs01', os: 'Windows' },
    ],
  },
  {
    name: 'Globex Corporation',
    domain: 'globex',
    admin: 'grace',
    operator: 'gus',
    passkey: false,
    clients: [
      { name: 'globex-db01', os: 'Linux' },
      { name: 'globex-dc01', os: 'Windows' },
    ],
  },
];

/** The demo's clock: its backups ran in the days before 1 December 2026, 01:00 UTC. */
const DAY = 86_400;
const FIRST_BACKUP = Date.UTC(2026, 10, 28, 1, 0, 0) / 1000;

function filesOf(
  os: 'Linux' | 'Windows',
  day: number,
): Array<{ path: string; size: number; modificationTime: number }> {
  const t = FIRST_BACKUP + day * DAY - 3600;
  if (os === 'Linux') {
    const full = [
      { path: '/etc/hosts', size: 220, modificationTime: t - 30 * DAY },
      { path: '/etc/nginx/nginx.conf', size: 2_412, modificationTime: t - 10 * DAY },
      { path: '/var/www/index.html', size: 5_120, modificationTime: t - 2 * DAY },
      { path: '/var/www/report.pdf', size: 1_048_576, modificationTime: t - DAY },
    ];
    return day === 0 ? full : [{ path: '/var/www/index.html', size: 5_380 + day, modificationTime: t }];
  }
  const full = [
    { path: 'C:\\Users\\Public\\notes.txt', size: 812, modificationTime: t - 20 * DAY },
    { path: 'C:\\Data\\budget.xlsx', size: 48_213, modificationTime: t - 3 * DAY },
    { path: 'C:\\Data\\contracts\\2026.docx', size: 120_044, modificationTime: t - DAY },
  ];
  return day === 0 ? full : [{ path: 'C:\\Data\\budget.xlsx', size: 48_900 + day, modificationTime: t }];
}

export interface DemoLogin {
  login: string;
  role: string;
}

export interface DemoResult {
  logins: DemoLogin[];
  passwordsFile: string;
  adminPasswordFile: string | null;
  companies: number;
  entities: number;
  jobs: number;
  files: number;
}

/** Anything beyond what `serve` creates on a new database (the CommCell, master, admin). */
async function holdsData(store: Store): Promise<boolean> {
  const company = await store.db.selectFrom('companies').select('id').where('id', '<>', COMMCELL_ID).limit(1).execute();
  const entity = await store.db.selectFrom('entities').select('id').limit(1).execute();
  const user = await store.db
    .selectFrom('users')
    .select('id')
    .where('company_id', '<>', COMMCELL_ID)
    .limit(1)
    .execute();
  const job = await store.db.selectFrom('jobs').select('id').limit(1).execute();
  return company.length + entity.length + user.length + job.length > 0;
}

function keepSecretFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
}

async function demoCompany(tx: Tx, c: DemoCompany, at: string, now: Date) {
  // As POST Organization makes a company: Tenant Admin (role Tenant Admin on the company) and Tenant Users.
  const company = await createCompany(tx, {
    name: c.name,
    domainName: c.domain,
    description: 'bulwark demo',
    emailDomains: [`${c.domain}.example`],
    at,
  });
  await appendAudit(tx, {
    actor: ACTOR,
    companyId: company.id,
    operation: 'company.create',
    targetType: 'company',
    targetId: company.id,
    targetName: c.domain,
    outcome: 'success',
    details: { connectName: c.name, demo: true },
    at: now,
  });
  return { id: company.id, adminGroup: company.adminGroup };
}

/**
 * `bulwark demo`: a new store gets the CommCell and admin as `serve` makes
 * them, then two companies with users, clients, a client group, File System
 * agents, backup sets, subclients and a catalogue of jobs; acme has a passkey.
 * Refuses (exit 2) a store that holds anything beyond the bootstrap.
 */
export async function loadDemo(store: Store, config: Config, now = new Date()): Promise<DemoResult> {
  await migrate(store);
  if (config.masterKey === null) fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const adminFile = path.resolve(config.dataDir, ADMIN_PASSWORD_FILE);
  const boot = await bootstrap(store, config.adminPassword, now, {
    keepGenerated: (password) => keepSecretFile(adminFile, `${password}\n`),
  });
  if (await holdsData(store)) {
    throw new CliError(
      'the store already holds companies, users, entities or jobs: bulwark demo loads only into a new store (pick another BULWARK_DB)',
      EXIT.USAGE,
    );
  }
  const at = now.toISOString();
  const secrets: string[] = [];
  const logins: DemoLogin[] = [];
  const subclients: Array<{ id: number; os: 'Linux' | 'Windows' }> = [];
  let entities = 0;

  await store.db.transaction().execute(async (tx) => {
    for (const c of COMPANIES) {
      const company = await demoCompany(tx, c, at, now);
      const usersGroup = await createGroup(tx, company.id, 'Operators', 'operators', at, 'restore operators (demo)');
      for (const [userName, role] of [
        [c.admin, 'tenant admin'],
        [c.operator, 'restore operator'],
      ] as const) {
        const password = generatePassword();
        const u = await createUser(tx, {
          companyId: company.id,
          userName,
          fullName: `${userName[0]?.toUpperCase()}${userName.slice(1)} (demo)`,
          email: `${userName}@${c.domain}.example`,
          passwordHash: await hashSecret(password),
          now: at,
        });
        await addMember(tx, role === 'tenant admin' ? company.adminGroup : usersGroup, u.id);
        await appendAudit(tx, {
          actor: ACTOR,
          companyId: company.id,
          operation: 'user.create',
          targetType: 'user',
          targetId: u.id,
          targetName: `${c.domain}\\${userName}`,
          outcome: 'success',
          details: { demo: true, role },
          at: now,
        });
        logins.push({ login: `${c.domain}\\${userName}`, role });
        secrets.push(`${c.domain}\\${userName} ${password}`);
      }

      const create = async (value: Record<string, unknown>) => {
        const r = await createEntityFromSpec(tx, store.dialect, value, {
          actor: ACTOR,
          clock: () => now,
          defaultCompanyId: company.id,
          access: (id) => (id === company.id ? 'write' : 'hidden'),
        });
        if (!r.ok) throw new Error(`demo entity ${JSON.stringify(value)}: ${r.error.message}`);
        entities++;
        return r.result;
      };
      const group = await create({ type: 'clientGroup', name: `${c.domain}-servers`, company: c.domain });
      for (const client of c.clients) {
        await create({
          type: 'client',
          name: client.name,
          company: c.domain,
          os: client.os,
          clientGroups: [`${c.domain}-servers`],
        });
        const agent = { type: 'client', name: client.name };
        await create({
          type: 'agent',
          name: 'File System',
          company: c.domain,
          appId: client.os === 'Linux' ? 29 : 33,
          parent: agent,
        });
        const fsAgent = { type: 'agent', name: 'File System', parent: agent };
        await create({ type: 'instance', name: 'DefaultInstanceName', company: c.domain, parent: fsAgent });
        const instance = { type: 'instance', name: 'DefaultInstanceName', parent: fsAgent };
        await create({ type: 'backupSet', name: 'defaultBackupSet', company: c.domain, parent: instance });
        const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
        const sc = await create({ type: 'subclient', name: 'default', company: c.domain, parent: backupSet });
        subclients.push({ id: sc.entityId, os: client.os });
      }
      // The operators may browse and restore everything in the company's client group.
      await grant(
        tx,
        {
          entityType: ENTITY_TYPES.clientGroup,
          entityId: group.entityId,
          principalKind: 'group',
          principalId: usersGroup,
          roleId: 4,
          companyId: company.id,
        },
        at,
      );
      if (c.passkey) {
        const passkey = generatePassword().slice(0, 24);
        await createPasskey(tx, { level: 'company', id: company.id }, await hashSecret(passkey), now);
        await appendAudit(tx, {
          actor: ACTOR,
          companyId: company.id,
          operation: 'passkey.create',
          targetType: 'company',
          targetId: company.id,
          targetName: c.domain,
          outcome: 'success',
          details: { demo: true },
          at: now,
        });
        secrets.push(`${c.domain} passkey ${passkey}`);
      }
    }
    await bumpAuthzVersion(tx, 'all');
    await appendAudit(tx, {
      actor: ACTOR,
      companyId: COMMCELL_ID,
      operation: 'entity.import',
      targetType: 'entities',
      outcome: 'success',
      details: { demo: true, entities, companies: COMPANIES.length },
      at: now,
    });
  });

  // The catalogue through its importer (its own transaction): a Full, then two Incrementals, per subclient.
  const lines: string[] = [];
  for (const sc of subclients) {
    for (let day = 0; day < 3; day++) {
      const start = FIRST_BACKUP + day * DAY;
      lines.push(
        JSON.stringify({
          subclientId: sc.id,
          backupLevel: day === 0 ? 'Full' : 'Incremental',
          startTime: start,
          endTime: start + 600,
          files: filesOf(sc.os, day),
        }),
      );
    }
  }
  const catalogue = await importCatalogue(
    store,
    (async function* () {
      for (const text of lines) yield { text };
    })(),
    {
      actor: ACTOR,
      clock: () => now,
      auditCompanyId: COMMCELL_ID,
      subclient: anySubclient,
      source: 'bulwark demo',
    },
  );
  if (!catalogue.committed) throw new Error(`the demo catalogue was refused (${catalogue.errors} lines)`);

  const passwordsFile = path.resolve(config.dataDir, DEMO_PASSWORDS_FILE);
  keepSecretFile(passwordsFile, `${secrets.join('\n')}\n`);
  return {
    logins,
    passwordsFile,
    adminPasswordFile: boot.generatedPassword ? adminFile : null,
    companies: COMPANIES.length,
    entities,
    jobs: catalogue.jobs,
    files: catalogue.files,
  };
}
