import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteInfo } from '../src/app.js';
import { appendAudit } from '../src/audit/log.js';
import { ENTITY_TYPES } from '../src/domain/catalogue.js';
import { bumpAuthzVersion } from '../src/store/authz.js';
import { addEntities } from './estate.js';
import { ADMIN_PASSWORD, BASE, b64, makeTenant, routesOf, startApp, type TestApp } from './harness.js';

// The rule "every reply in XML is well-formed XML" (issue 9), proven by
// parsing: every CommServe route, found at build time as the security table
// finds them, is driven with Accept: application/xml by the CommCell admin
// over an estate holding true booleans and awkward names (markup, tabs and
// line breaks, C0 controls, U+FFFE), with good ids and bodies, bad ids, bad
// bodies and no token; each reply must parse with a strict XML parser.

/** Every C0 control a database text column holds (PostgreSQL refuses NUL), and the noncharacters. */
const CONTROLS = '\u0001\u0008\u000b\u000c\u001b\u001f\ufffe\uffff';
const AWKWARD = `a&b <c> "d" 'e'\tf\ng\rh${CONTROLS}i`;
/** What an XML reply carries for AWKWARD: the same, with what XML 1.0 cannot hold as U+FFFD. */
const AWKWARD_IN_XML = `a&b <c> "d" 'e'\tf\ng\rh${'\ufffd'.repeat(8)}i`;

let t: TestApp;
let admin: string;
let routes: RouteInfo[];
const ids = {
  user: 0,
  group: 0,
  role: 0,
  company: 0,
  client: 101,
  plan: 102,
  clientGroup: 103,
  spare: 104,
  backupSet: 107,
  subclient: 108,
  job: 109,
  credential: 1,
};

/** A strict parse: saxes throws on anything that is not well-formed XML 1.0 (with namespaces). */
function parseStrict(xml: string): Array<{ name: string; attributes: Record<string, string> }> {
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

async function json(method: string, path: string, body: unknown, token = admin) {
  const res = await t.call(method, path, token, body);
  expect(res.statusCode, `${method} ${path}: ${res.body}`).toBe(200);
  return res.json();
}

beforeAll(async () => {
  t = await startApp();
  admin = await t.login();
  routes = await routesOf(t);

  // The estate, made through the API with names it accepts, then given the
  // awkward ones in the store (the routes may refuse them on input; replies
  // must be safe whatever the store holds).
  const acme = await makeTenant(t, admin, 'acme');
  ids.company = acme.companyId;
  const user = await json('POST', '/User', {
    users: [{ userEntity: { userName: 'awkward' }, email: 'awk@example.com', password: b64('Awkward-Passw0rd!') }],
  });
  ids.user = user.response[0].entity.userId;
  const group = await json('POST', '/UserGroup', {
    groups: [{ userGroupEntity: { userGroupName: 'awkward-group' }, users: [{ userName: 'awkward' }] }],
  });
  ids.group = group.response[0].entity.userGroupId;
  const role = await json('POST', '/Role', {
    roles: [
      {
        role: { roleName: 'awkward-role' },
        categoryPermission: { categoriesPermissionList: [{ permissionName: 'View' }] },
      },
    ],
  });
  ids.role = role.response[0].entity.roleId;
  await addEntities(
    t.store,
    [
      { id: ids.client, type: ENTITY_TYPES.client, companyId: 0, name: `client ${AWKWARD}` },
      { id: ids.plan, type: ENTITY_TYPES.plan, companyId: 0, name: `plan ${AWKWARD}` },
      { id: ids.clientGroup, type: ENTITY_TYPES.clientGroup, companyId: 0, name: `group ${AWKWARD}` },
      { id: ids.spare, type: ENTITY_TYPES.client, companyId: 0, name: `spare ${AWKWARD}` },
      { id: 105, type: ENTITY_TYPES.agent, companyId: 0, parentId: ids.client, name: `agent ${AWKWARD}` },
      { id: 106, type: ENTITY_TYPES.instance, companyId: 0, parentId: 105, name: `instance ${AWKWARD}` },
      { id: ids.backupSet, type: ENTITY_TYPES.backupSet, companyId: 0, parentId: 106, name: `set ${AWKWARD}` },
      {
        id: ids.subclient,
        type: ENTITY_TYPES.subclient,
        companyId: 0,
        parentId: ids.backupSet,
        name: `sub ${AWKWARD}`,
      },
    ],
    [[ids.clientGroup, ids.client]],
  );
  await t.store.db
    .insertInto('jobs')
    .values({
      id: ids.job,
      company_id: 0,
      subclient_id: ids.subclient,
      job_type: 'Backup',
      backup_level: 'Full',
      start_time: 1,
      end_time: 2,
      created_at: new Date().toISOString(),
    })
    .execute();
  await t.store.db
    .insertInto('catalogue_items')
    .values({
      job_id: ids.job,
      subclient_id: ids.subclient,
      folder: '/',
      name: AWKWARD,
      path: `/${AWKWARD}`,
      is_folder: 0,
      size: 1,
      mtime: 1,
      deleted: 0,
    })
    .execute();
  await json('POST', '/Security', {
    entityAssociated: { entity: [{ clientId: ids.client }] },
    securityAssociations: {
      associationsOperationType: 'ADD',
      associations: [
        { userOrGroup: [{ userId: ids.user }], properties: { role: { roleId: ids.role } } },
        { userOrGroup: [{ userGroupId: ids.group }], properties: { role: { roleId: ids.role } } },
      ],
    },
  });
  await json('POST', '/Commcell/Credentials', {
    credentialRecordInfo: [
      {
        recordType: 1,
        description: AWKWARD,
        credentialRecord: { credentialName: 'cred one' },
        record: { userName: 'dom\\svc', password: b64('Stored-Passw0rd') },
      },
    ],
  });
  const db = t.store.db;
  await db.transaction().execute(async (tx) => {
    await tx
      .updateTable('users')
      .set({ full_name: AWKWARD, email: `awk${CONTROLS}@example.com`, user_name: `awkward${CONTROLS}` })
      .where('id', '=', ids.user)
      .execute();
    await tx
      .updateTable('user_groups')
      .set({ name: `awkward-group ${AWKWARD}`, description: AWKWARD })
      .where('id', '=', ids.group)
      .execute();
    await tx
      .updateTable('roles')
      .set({ name: `awkward-role ${AWKWARD}`, description: AWKWARD })
      .where('id', '=', ids.role)
      .execute();
    await tx
      .updateTable('companies')
      .set({ name: `Acme ${AWKWARD}`, description: AWKWARD })
      .where('id', '=', ids.company)
      .execute();
    await appendAudit(tx, {
      actor: { userId: ids.user, name: `awkward${CONTROLS}`, companyId: 0 },
      operation: 'test.awkward',
      targetType: 'user',
      targetId: ids.user,
      targetName: AWKWARD,
      outcome: 'success',
      reason: AWKWARD,
      details: {
        flag: true,
        off: false,
        'a key': AWKWARD,
        '1st': 1,
        '#text': 'x',
        nested: { ok: true, list: [1, 'two'] },
      },
      at: t.clock.now(),
    });
    await bumpAuthzVersion(tx, 'all');
  });
});
afterAll(async () => {
  await t.close();
});

const key = (r: RouteInfo) => `${r.method} ${r.url.slice(BASE.length)}`;

/** A good value for each path parameter, by route. */
function goodUrl(r: RouteInfo): string {
  const path = r.url.slice(BASE.length);
  const byParam = (name: string): string => {
    if (path.startsWith('/User/')) return String(ids.user);
    if (path.startsWith('/UserGroup/')) return String(ids.group);
    if (path.startsWith('/Role/')) return String(ids.role);
    if (path.startsWith('/Organization/')) return String(ids.company);
    if (path.startsWith('/Company/')) return String(ids.company);
    if (path.startsWith('/Client/')) return String(ids.client);
    if (path.startsWith('/Plan/')) return String(ids.plan);
    if (path.startsWith('/ClientGroup/')) return String(ids.clientGroup);
    if (path.startsWith('/Backupset/')) return String(ids.backupSet);
    if (path.startsWith('/Subclient/')) return String(ids.subclient);
    if (path.startsWith('/Instance/')) return '106';
    if (path.startsWith('/Job/')) return String(ids.job);
    if (path.startsWith('/CommCell/Credentials/') || path.startsWith('/V5/credential/')) return String(ids.credential);
    if (path.startsWith('/Entities/')) return name === 'type' ? 'client' : String(ids.spare);
    if (path.startsWith('/Security/')) return name === 'entityType' ? String(ENTITY_TYPES.client) : String(ids.client);
    throw new Error(`no good value for ${name} in ${path}`);
  };
  return r.url.replace(/:(\w+)/g, (_, name: string) => byParam(name));
}

const GOOD_QUERY: Record<string, string> = {
  'GET /Security/Explain': `?userId=${'{user}'}&entityType=${ENTITY_TYPES.client}&entityId=${'{client}'}&permission=View`,
  'GET /Entities': '?limit=1000',
  'GET /AuditTrail': '?limit=1000',
  'PUT /Organization': `?organizationId=${'{company}'}`,
};

const XML_LOGIN = `<DM2ContentIndexing_CheckCredentialReq username="admin" password="${ADMIN_PASSWORD}"/>`;

/**
 * Good bodies (JSON unless a string), by route; the rest get {}. A probe
 * carries awkward text the route may refuse: its reply is checked all the same.
 */
function goodBodies(k: string, freshToken: string): Array<{ body: unknown; type?: string; probe?: boolean }> {
  const awk = (s: string) => `${s} & <x> "q"\t`;
  switch (k) {
    case 'POST /Login':
      return [
        { body: XML_LOGIN, type: 'application/xml' },
        { body: { mode: 4, username: 'admin', password: b64(ADMIN_PASSWORD) } },
        { body: { mode: 4, username: `x${CONTROLS}\ud800y`, password: b64('wrong') }, probe: true },
      ];
    case 'POST /DoBrowse':
      return [{ body: { opType: 0, entity: { subclientId: ids.subclient }, paths: [{ path: '/' }] } }];
    case 'POST /CreateTask':
      return [
        {
          body: {
            taskInfo: {
              associations: [{ subclientId: ids.subclient }],
              subTasks: [{ options: { restoreOptions: { fileOption: { sourceItem: [`/${AWKWARD}`] } } } }],
            },
          },
        },
      ];
    case 'POST /Catalogue/Import':
      return [
        {
          type: 'application/x-ndjson',
          body: JSON.stringify({
            subclientId: ids.subclient,
            backupLevel: 'Full',
            startTime: 1,
            endTime: 2,
            files: [{ path: `/in/${awk('file')}`, size: 1, modificationTime: 1 }],
          }),
        },
      ];
    case 'POST /RenewLoginToken':
      return [{ body: { sessionId: freshToken } }];
    case 'POST /WhoAmI':
      return [{ body: '', type: 'application/xml' }];
    case 'POST /Organization':
      return ['beta', `gamma${CONTROLS}`].map((d) => ({
        probe: d !== 'beta',
        body: {
          organizationInfo: {
            organization: {
              connectName: awk(`${d} Inc`),
              emailDomainNames: [`${d}.example`],
              shortName: { domainName: d },
            },
            organizationProperties: { primaryContacts: [{ fullName: awk('Boss'), email: `boss@${d}.example` }] },
          },
        },
      }));
    case 'POST /User':
      return ['newbie', `bad${CONTROLS}`].map((userName) => ({
        probe: userName !== 'newbie',
        body: {
          users: [
            {
              userEntity: { userName },
              email: 'n@example.com',
              fullName: awk('New'),
              password: b64('Newbie-Passw0rd!'),
            },
          ],
        },
      }));
    case 'POST /User/:id':
      return [{ body: { users: [{ fullName: awk('Renamed'), email: 'renamed@example.com' }] } }];
    case 'POST /UserGroup':
      return [{ body: { groups: [{ userGroupEntity: { userGroupName: awk('g2') }, description: AWKWARD }] } }];
    case 'POST /UserGroup/:id':
      return [{ body: { groups: [{ description: awk('changed') }] } }];
    case 'POST /Role':
      return [
        {
          body: {
            roles: [
              {
                role: { roleName: awk('r2') },
                categoryPermission: { categoriesPermissionList: [{ permissionName: 'View' }] },
              },
            ],
          },
        },
        {
          probe: true,
          body: {
            roles: [
              {
                role: { roleName: 'r3' },
                categoryPermission: { categoriesPermissionList: [{ permissionName: `no${CONTROLS}` }] },
              },
            ],
          },
        },
      ];
    case 'POST /Role/:id':
      return [{ body: { roles: [{ description: awk('changed') }] } }];
    case 'POST /Security':
      return [
        {
          probe: true,
          body: {
            entityAssociated: { entity: [{ clientId: ids.client }] },
            securityAssociations: {
              associationsOperationType: 'ADD',
              associations: [
                { userOrGroup: [{ userName: `nobody${CONTROLS}` }], properties: { role: { roleId: ids.role } } },
              ],
            },
          },
        },
      ];
    case 'POST /Entities':
      return [
        { body: { type: 'client', name: awk('new') } },
        { body: { type: `bogus${CONTROLS}`, name: 'x' }, probe: true },
      ];
    case 'POST /Entities/Import':
      return [
        {
          body: `${JSON.stringify({ type: 'plan', name: awk('imported') })}\n${JSON.stringify({ type: `bogus${CONTROLS}`, name: 'x' })}\n`,
          type: 'application/x-ndjson',
        },
      ];
    case 'POST /Company/:id/Passkey':
    case 'POST /Client/:id/Passkey':
      return [
        { body: '<App_SetPasskeyRequest currentPasskey="RESTAPI!12" passkeyOpType="1"/>', type: 'application/xml' },
        {
          body: `<App_AuthorizeForRestoreRequest passkey="RESTAPI!12"><passkeySettings enableAuthorizeForRestore="1"><passkeyExpirationInterval toTime="1800"/></passkeySettings></App_AuthorizeForRestoreRequest>`,
          type: 'application/xml',
        },
        { body: { passkey: b64('wrong & <x>'), passkeySettings: { enableAuthorizeForRestore: true } }, probe: true },
      ];
    case 'POST /Company/:id/AuthRestore':
      return [{ body: { passkeySettings: { enableAuthorizeForRestore: 0 } } }];
    case 'PUT /Organization':
    case 'PUT /Organization/:id':
      return [
        { body: { organizationInfo: { organization: { description: awk('changed') } } } },
        { body: { organizationInfo: { organization: { emailDomainNames: [awk('x')] } } }, probe: true },
      ];
    case 'PUT /Commcell/properties':
      return [{ body: { commCellInfo: { generalInfo: { allowUsersToEnablePasskey: true } } } }];
    case 'POST /Entities/:type/:id':
      return [{ body: { name: awk('renamed') } }];
    case 'POST /Subclient/:id':
      return [
        {
          body: {
            subClientProperties: { impersonateUser: { userName: awk('dom\\unc'), password: b64('Unc-Pw & <x>') } },
          },
        },
        {
          body: '<App_UpdateSubClientPropertiesRequest><subClientProperties><impersonateUser userName="dom\\x" password="Plain &lt;pw&gt;"/></subClientProperties></App_UpdateSubClientPropertiesRequest>',
          type: 'application/xml',
        },
      ];
    case 'POST /Instance/:id':
      return [
        { body: { instanceProperties: { impersonateUser: { userName: awk('dom\\inst'), password: b64('Pw-1') } } } },
      ];
    case 'POST /Client/:id':
      return [
        {
          body: {
            clientProperties: { clientProps: { impersonateUser: { userName: awk('dom\\c'), password: b64('Pw-1') } } },
          },
        },
      ];
    case 'POST /CommCell/Credentials':
      return [
        {
          body: `<App_CreateCredentialReq><credentialRecordInfo recordType="2" description="a &amp; b"><credentialRecord credentialName="xml cred"/><record userName="root" password="Plain &lt;pw&gt;"/></credentialRecordInfo></App_CreateCredentialReq>`,
          type: 'application/xml',
        },
      ];
    case 'PUT /CommCell/Credentials':
      return [
        {
          body: {
            credentialRecordInfo: [
              {
                credentialRecord: { credentialId: ids.credential },
                description: awk('changed'),
                record: { userName: 'dom\\svc2' },
              },
            ],
          },
        },
      ];
    case 'POST /CommCell/Credentials/action/delete':
      return [{ body: { credentialRecordInfo: [{ credentialRecord: { credentialName: 'xml cred' } }] } }];
    case 'POST /User/AccountManagement':
      return [
        {
          body: `<GuiServer_ModifyCredsReq preview="1" reason="a &amp; b" skipPasswordCheck="1"><credsInfo><oldCredentials userName="dom\\svc"/><newCredentials password="New &lt;pw&gt; 1"/></credsInfo></GuiServer_ModifyCredsReq>`,
          type: 'application/xml',
        },
      ];
    case 'POST /V4/Credential':
      return [
        {
          body: {
            accountType: 'DATABASE_ACCOUNT',
            databaseCredentialType: 'MYSQL',
            name: awk('db'),
            username: 'root',
            password: b64('Db-Passw0rd'),
          },
          probe: true,
        },
      ];
    default:
      return [{ body: {} }];
  }
}

/** Bodies no route takes. */
const BAD_BODIES: Array<{ body: string; type: string }> = [
  { body: '{', type: 'application/json' },
  { body: '[]', type: 'application/json' },
  { body: '{"users":"x","groups":7,"roles":null,"name":[],"type":{}}', type: 'application/json' },
  { body: '<x', type: 'application/xml' },
  { body: '<NoSuchMessage a="1"/>', type: 'application/xml' },
  { body: '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', type: 'application/xml' },
  { body: 'plain', type: 'text/plain' },
];

const BAD_IDS = ['abc', '999999', '1e20', '-1', 'x%01y'];

interface Sent {
  what: string;
  res: LightMyRequestResponse;
}

async function send(what: string, opts: InjectOptions, token: string | null = admin): Promise<Sent> {
  const res = await t.inject({
    ...opts,
    headers: { accept: 'application/xml', ...(token ? { authtoken: token } : {}), ...(opts.headers ?? {}) },
  });
  return { what, res };
}

function withBody(method: string, url: string, body: unknown, type = 'application/json'): InjectOptions {
  if (method === 'GET' || method === 'DELETE') return { method: method as 'GET', url };
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return { method: method as 'POST', url, payload, headers: { 'content-type': type } };
}

describe('every reply in XML is well-formed XML', () => {
  it('a true is written as an attribute value, and awkward names arrive as they are stored (U+FFFD for what XML cannot hold)', async () => {
    const get = async (path: string) => {
      const res = await send(path, { method: 'GET', url: `${BASE}${path}` });
      expect(res.res.statusCode, res.res.body).toBe(200);
      return parseStrict(res.res.body);
    };
    const user = (await get(`/User/${ids.user}`)).find((e) => e.name === 'users');
    expect(user?.attributes.enableUser).toBe('true');
    expect(user?.attributes.fullName).toBe(AWKWARD_IN_XML);
    const list = await get('/User');
    expect(list.filter((e) => e.name === 'users').every((e) => e.attributes.enableUser === 'true')).toBe(true);
    const client = (await get(`/Client/${ids.client}`)).find((e) => e.name === 'clientEntity');
    expect(client?.attributes.clientName).toBe(`client ${AWKWARD_IN_XML}`);
    const explain = (
      await get(
        `/Security/Explain?userId=${ids.user}&entityType=${ENTITY_TYPES.client}&entityId=${ids.client}&permission=View`,
      )
    )[0];
    expect(explain?.attributes.allowed).toBe('true');
    const audit = await get('/AuditTrail?operation=test.awkward');
    const record = audit.find((e) => e.name === 'auditTrail');
    expect(record?.attributes.reason).toBe(AWKWARD_IN_XML);
    const details = audit.find((e) => e.name === 'details');
    expect(details?.attributes).toMatchObject({
      flag: 'true',
      off: 'false',
      a_key: AWKWARD_IN_XML,
      _1st: '1',
      _text: 'x',
    });
    // JSON carries the same text exactly.
    const asJson = await t.call('GET', `/User/${ids.user}`, admin);
    expect(asJson.json().users[0].fullName).toBe(AWKWARD);
  });

  it('for every CommServe route: good ids and bodies, bad ids, bad bodies, no token', async () => {
    const cs = routes.filter((r) => r.url.startsWith(`${BASE}/`) || r.url === BASE);
    expect(cs.length).toBeGreaterThan(30);
    const sent: Sent[] = [];
    const covered = new Set<string>();
    const fill = (s: string) =>
      s
        .replace('{user}', String(ids.user))
        .replace('{client}', String(ids.client))
        .replace('{company}', String(ids.company));
    const fresh = () => t.login();

    // Destructive routes last: deleting the estate, and logging out.
    const order = (r: RouteInfo) => (r.method === 'DELETE' ? 2 : key(r) === 'POST /Logout' ? 1 : 0);
    for (const r of [...cs].sort((a, b) => order(a) - order(b))) {
      const k = key(r);
      covered.add(k);
      const url = goodUrl(r);
      // Logout and RenewLoginToken revoke the token they are given, whatever the body.
      const spends = k === 'POST /Logout' || k === 'POST /RenewLoginToken';
      const token = async () => (spends ? await fresh() : admin);
      // No token (public routes answer anyway).
      sent.push(await send(`${k} without a token`, withBody(r.method, url, {}), null));
      // Bad ids.
      if (r.url.includes(':')) {
        for (const bad of BAD_IDS) {
          const badUrl = r.url.replace(/:(\w+)/g, bad);
          sent.push(await send(`${k} with id ${bad}`, withBody(r.method, badUrl, {}), await token()));
        }
      }
      // Bad bodies.
      if (r.method === 'POST') {
        for (const b of BAD_BODIES) {
          sent.push(await send(`${k} with ${b.body}`, withBody(r.method, url, b.body, b.type), await token()));
        }
      }
      // Bad paging.
      if (r.method === 'GET') {
        sent.push(await send(`${k} with bad paging`, withBody('GET', `${url}?offset=-1&limit=1e20`, {})));
      }
      // Good requests.
      const query = GOOD_QUERY[k] ? fill(GOOD_QUERY[k]) : '';
      const spent = await fresh();
      for (const { body, type, probe } of goodBodies(k, spent)) {
        sent.push(
          await send(
            `${k} ${probe ? 'probe' : 'good'}`,
            withBody(r.method, `${url}${query}`, body, type),
            spends ? spent : admin,
          ),
        );
      }
    }

    expect([...covered].sort()).toEqual(cs.map(key).sort());
    const failures: string[] = [];
    for (const { what, res } of sent) {
      const type = String(res.headers['content-type'] ?? '');
      if (!type.startsWith('application/xml')) {
        failures.push(`${what}: ${res.statusCode} ${type} ${res.body.slice(0, 200)}`);
        continue;
      }
      try {
        parseStrict(res.body);
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message}\n${res.body.slice(0, 500)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(sent.filter((s) => s.res.statusCode >= 500).map((s) => s.what)).toEqual([]);
    // The good requests reached their handlers: every one answered 200.
    const good = sent.filter((s) => s.what.endsWith(' good'));
    expect(good.filter((s) => s.res.statusCode !== 200).map((s) => `${s.what}: ${s.res.body}`)).toEqual([]);
    expect(good.length).toBeGreaterThanOrEqual(cs.length);
    expect(sent.length).toBeGreaterThan(250);
  }, 120_000);
});
