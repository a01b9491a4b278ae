import { describe, expect, it } from 'vitest';
import { BASE, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { readAuthzVersion } from '../../store/authz.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

type Line = Record<string, unknown> | string;
const ndjson = (lines: Line[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

const importRaw = (token: string, body: string, query = '', headers: Record<string, string> = {}) =>
  t.inject({
    method: 'POST',
    url: `${BASE}/Entities/Import${query}`,
    headers: { authtoken: token, 'content-type': 'application/x-ndjson', accept: 'application/json', ...headers },
    payload: body,
  });

interface ImportReply {
  imported: number;
  results: Array<{ line: number; entityType: number; entityId: number }>;
  errors: Array<{ line: number; message: string }>;
}

async function importOk(token: string, lines: Line[], query = ''): Promise<ImportReply> {
  const res = await importRaw(token, ndjson(lines), query);
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as ImportReply;
  expect(body.errors, res.body).toEqual([]);
  return body;
}

async function importBad(token: string, lines: Line[], query = ''): Promise<ImportReply> {
  const res = await importRaw(token, ndjson(lines), query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as ImportReply;
}

const countEntities = async () =>
  Number(
    (
      await t.store.db
        .selectFrom('entities')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const auditOf = (operation: string) =>
  t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', operation).orderBy('seq').execute();

const entities = async (token: string, query: string) => {
  const res = await t.call('GET', `/Entities?${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    entities: Array<{ entityType: number; entityId: number; name: string; companyId: number; parentId: number }>;
    total: number;
  };
};

/** One of every kind: two client groups, a client in both, its chain down to a subclient, and the top-level kinds. */
const ESTATE: Line[] = [
  { type: 'clientGroup', name: 'Servers' },
  { type: 'clientGroup', name: 'Linux' },
  { type: 'client', name: 'db01', clientGroups: ['Servers', 'linux'] },
  { type: 'agent', name: 'File System', parent: { type: 'client', name: 'db01' } },
  { type: 'instance', name: 'DefaultInstanceName', parent: { type: 'agent', name: 'File System' } },
  { type: 'backupSet', name: 'defaultBackupSet', parent: { type: 'instance', name: 'DefaultInstanceName' } },
  { type: 'subclient', name: 'default', parent: { type: 'backupSet', name: 'defaultBackupSet' } },
  { type: 'plan', name: 'Gold' },
  { type: 'storagePolicy', name: 'SP-Disk' },
  { type: 'schedulePolicy', name: 'Nightly' },
  { type: 'alert', name: 'Job failed' },
  { type: 'workflow', name: 'Approve restore' },
];
const ESTATE_TYPES = [28, 28, 3, 4, 5, 6, 7, 158, 17, 35, 64, 83];

describe('POST Entities/Import', () => {
  it('imports one of every kind with the product type numbers, and the product-shaped reads return them', async () => {
    const before = await readAuthzVersion(t.store.db);
    const body = await importOk(admin, ESTATE);
    expect(body.imported).toBe(12);
    expect(body.results.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(body.results.map((r) => r.entityType)).toEqual(ESTATE_TYPES);
    const id = (line: number) => body.results[line - 1]?.entityId as number;
    expect(new Set(body.results.map((r) => r.entityId)).size).toBe(12);
    expect(await readAuthzVersion(t.store.db)).toBeGreaterThan(before);

    const clients = (await t.call('GET', '/Client', admin)).json();
    expect(clients).toEqual({
      clientProperties: [
        { client: { clientEntity: { clientId: id(3), clientName: 'db01', displayName: 'db01', hostName: 'db01' } } },
      ],
    });
    const client = (await t.call('GET', `/Client/${id(3)}`, admin)).json().clientProperties[0];
    expect(client.client.clientEntity).toMatchObject({ clientId: id(3), clientName: 'db01' });
    expect(client.clientGroups).toEqual([
      { clientGroupId: id(1), clientGroupName: 'Servers' },
      { clientGroupId: id(2), clientGroupName: 'Linux' },
    ]);

    expect((await t.call('GET', '/ClientGroup', admin)).json()).toEqual({
      groups: [
        { Id: id(1), name: 'Servers' },
        { Id: id(2), name: 'Linux' },
      ],
    });
    expect((await t.call('GET', `/ClientGroup/${id(2)}`, admin)).json()).toEqual({
      clientGroupDetail: {
        clientGroup: { clientGroupId: id(2), clientGroupName: 'Linux' },
        associatedClients: [{ clientId: id(3), clientName: 'db01' }],
      },
    });
    expect((await t.call('GET', '/Plan', admin)).json()).toEqual({
      plans: [{ plan: { planId: id(8), planName: 'Gold' } }],
    });
    expect((await t.call('GET', `/Plan/${id(8)}`, admin)).json().plan.summary.plan).toEqual({
      planId: id(8),
      planName: 'Gold',
    });

    // The generic list, for every kind, by name or number.
    const kinds = [
      'clientGroup',
      'clientGroup',
      'client',
      'agent',
      'instance',
      'backupSet',
      'subclient',
      'plan',
      'storagePolicy',
      'schedulePolicy',
      'alert',
      'workflow',
    ];
    for (const [i, kind] of kinds.entries()) {
      if (i === 1) continue;
      const list = await entities(admin, `type=${kind}`);
      expect(
        list.entities.map((e) => e.entityType),
        kind,
      ).toEqual(kind === 'clientGroup' ? [28, 28] : [ESTATE_TYPES[i]]);
      expect((await entities(admin, `type=${ESTATE_TYPES[i]}`)).total).toBe(list.total);
    }
    const sub = (await entities(admin, 'type=subclient')).entities[0];
    expect(sub).toEqual({ entityType: 7, entityId: id(7), name: 'default', companyId: 0, parentId: id(6) });
    const agent = (await entities(admin, 'type=agent')).entities[0];
    expect(agent?.parentId).toBe(id(3));
    expect((await entities(admin, '')).total).toBe(12);
  });

  it('writes one audit record for the import, with counts per type and no per-line noise', async () => {
    await importOk(admin, ESTATE);
    const records = await auditOf('entity.import');
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({ outcome: 'success', actor_name: 'admin', company_id: 0, target_type: 'entities' });
    expect(JSON.parse(r.details)).toMatchObject({
      created: 12,
      lines: '1-12',
      partial: false,
      byType: { clientGroup: 2, client: 1, agent: 1, subclient: 1, plan: 1, workflow: 1 },
    });
  });

  it('ignores blank lines (they still count as lines) and takes CRLF line ends', async () => {
    const body = [
      '',
      JSON.stringify({ type: 'plan', name: 'A' }),
      '   ',
      '',
      JSON.stringify({ type: 'plan', name: 'B' }),
      '',
    ];
    const res = await importRaw(admin, body.join('\r\n'));
    const reply = res.json() as ImportReply;
    expect(reply).toMatchObject({ imported: 2, errors: [] });
    expect(reply.results.map((r) => r.line)).toEqual([2, 5]);
    // Only blank lines: nothing to do, nothing audited.
    expect((await importRaw(admin, '\n\n  \n')).json()).toEqual({ imported: 0, results: [], errors: [] });
    expect(await auditOf('entity.import')).toHaveLength(1);
  });

  it('names are unique per parent, case-insensitively; the same name under another parent is fine', async () => {
    await importOk(admin, [
      { type: 'client', name: 'c1' },
      { type: 'client', name: 'c2' },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'c1' } },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'C2' } },
      { type: 'plan', name: 'c1' },
    ]);
    expect((await entities(admin, 'type=agent')).total).toBe(2);
  });

  it('a bare parent name that matches several is ambiguous; naming its parent too resolves it', async () => {
    const base: Line[] = [
      { type: 'client', name: 'c1' },
      { type: 'client', name: 'c2' },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'c1' } },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'c2' } },
    ];
    const bad = await importBad(admin, [
      ...base,
      { type: 'instance', name: 'default', parent: { type: 'agent', name: 'File System' } },
    ]);
    expect(bad.imported).toBe(0);
    expect(bad.errors).toEqual([{ line: 5, message: expect.stringMatching(/ambiguous/) }]);
    const ok = await importOk(admin, [
      ...base,
      {
        type: 'instance',
        name: 'default',
        parent: { type: 'agent', name: 'File System', parent: { type: 'client', name: 'c2' } },
      },
      {
        type: 'backupSet',
        name: 'bs',
        parent: {
          type: 'instance',
          name: 'default',
          parent: { type: 'agent', name: 'file system', parent: { type: 'client', name: 'c2' } },
        },
      },
    ]);
    const agents = (await entities(admin, 'type=agent')).entities;
    const instance = (await entities(admin, 'type=instance')).entities[0];
    expect(instance?.parentId).toBe(agents[1]?.entityId);
    expect(ok.imported).toBe(6);
  });

  const ERROR_CASES: Array<[string, Line[], number, RegExp]> = [
    ['unknown type', [{ type: 'server', name: 'x' }], 1, /unknown type "server"/],
    ['missing type', [{ name: 'x' }], 1, /type is missing/],
    ['missing name', [{ type: 'client' }], 1, /name is missing/],
    ['blank name', [{ type: 'client', name: '   ' }], 1, /name is empty/],
    ['a name that is not text', [{ type: 'client', name: 42 }], 1, /name is not text/],
    [
      'unknown parent',
      [{ type: 'agent', name: 'File System', parent: { type: 'client', name: 'nope' } }],
      1,
      /unknown parent client "nope"/,
    ],
    [
      'wrong parent kind',
      [
        { type: 'client', name: 'c1' },
        { type: 'instance', name: 'i', parent: { type: 'client', name: 'c1' } },
      ],
      2,
      /wrong parent type client: the parent of an instance is an agent/,
    ],
    ['a nested kind without its parent', [{ type: 'subclient', name: 's' }], 1, /needs a parent: its backup set/],
    [
      'a top-level kind with a parent',
      [
        { type: 'client', name: 'c1' },
        { type: 'plan', name: 'p', parent: { type: 'client', name: 'c1' } },
      ],
      2,
      /a plan has no parent/,
    ],
    [
      'duplicate name under the same parent',
      [
        { type: 'client', name: 'c1' },
        { type: 'client', name: 'C1' },
      ],
      2,
      /a client named "C1" already exists/,
    ],
    [
      'duplicate leaf under the same parent',
      [
        { type: 'client', name: 'c1' },
        { type: 'agent', name: 'a', parent: { type: 'client', name: 'c1' } },
        { type: 'instance', name: 'i', parent: { type: 'agent', name: 'a' } },
        { type: 'backupSet', name: 'b', parent: { type: 'instance', name: 'i' } },
        { type: 'subclient', name: 's', parent: { type: 'backupSet', name: 'b' } },
        { type: 'subclient', name: 's', parent: { type: 'backupSet', name: 'b' } },
      ],
      6,
      /a subclient named "s" already exists under its backup set/,
    ],
    [
      'duplicate top-level leaf',
      [
        { type: 'plan', name: 'Gold' },
        { type: 'plan', name: 'gold' },
      ],
      2,
      /a plan named "gold" already exists/,
    ],
    ['unknown company', [{ type: 'client', name: 'c1', company: 'nosuch' }], 1, /unknown company "nosuch"/],
    ['unknown client group', [{ type: 'client', name: 'c1', clientGroups: ['g9'] }], 1, /unknown client group "g9"/],
    [
      'client groups on another kind',
      [
        { type: 'clientGroup', name: 'g' },
        { type: 'plan', name: 'p', clientGroups: ['g'] },
      ],
      2,
      /only a client has clientGroups/,
    ],
    ['malformed JSON', ['{"type":"client","name":"c1"'], 1, /not valid JSON/],
    ['a line that is not an object', ['[1,2,3]'], 1, /must be a JSON object/],
  ];

  for (const [what, lines, line, message] of ERROR_CASES) {
    it(`refuses a line: ${what} (and imports nothing)`, async () => {
      const reply = await importBad(admin, [...lines, { type: 'plan', name: 'after' }]);
      expect(reply.imported).toBe(0);
      expect(reply.results).toEqual([]);
      expect(reply.errors).toEqual([{ line, message: expect.stringMatching(message) }]);
      expect(await countEntities()).toBe(0);
    });
  }

  it('refuses a duplicate of an entity imported before, of each sort', async () => {
    await importOk(admin, ESTATE);
    const again = await importBad(admin, [
      { type: 'clientGroup', name: 'SERVERS' },
      { type: 'client', name: 'db01' },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'db01' } },
      { type: 'subclient', name: 'default', parent: { type: 'backupSet', name: 'defaultBackupSet' } },
      { type: 'plan', name: 'Gold' },
      { type: 'subclient', name: 'new one', parent: { type: 'backupSet', name: 'defaultBackupSet' } },
    ]);
    expect(again.imported).toBe(0);
    expect(again.errors.map((e) => e.line)).toEqual([1, 2, 3, 4, 5]);
    for (const e of again.errors) expect(e.message).toMatch(/already exists/);
    expect(await countEntities()).toBe(12);
  });

  it('adds to an existing estate: parents found among older rows, by bare name or by path', async () => {
    const first = await importOk(admin, ESTATE);
    const second = await importOk(admin, [
      { type: 'client', name: 'db02', clientGroups: ['Servers'] },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'db02' } },
      { type: 'agent', name: 'SQL Server', parent: { type: 'client', name: 'db01' } },
      { type: 'instance', name: 'MSSQL', parent: { type: 'agent', name: 'SQL Server' } },
      {
        type: 'subclient',
        name: 'logs',
        parent: {
          type: 'backupSet',
          name: 'defaultBackupSet',
          parent: {
            type: 'instance',
            name: 'DefaultInstanceName',
            parent: { type: 'agent', name: 'File System', parent: { type: 'client', name: 'db01' } },
          },
        },
      },
    ]);
    expect(second.imported).toBe(5);
    // "File System" is now under two clients: a bare reference is ambiguous.
    const bad = await importBad(admin, [
      { type: 'instance', name: 'x', parent: { type: 'agent', name: 'File System' } },
    ]);
    expect(bad.errors[0]?.message).toMatch(/ambiguous/);
    const group = (await t.call('GET', `/ClientGroup/${first.results[0]?.entityId}`, admin)).json();
    expect(group.clientGroupDetail.associatedClients.map((c: { clientName: string }) => c.clientName)).toEqual([
      'db01',
      'db02',
    ]);
  });

  it('is one transaction: one bad line and nothing is imported, only a failure is audited', async () => {
    const version = await readAuthzVersion(t.store.db);
    const reply = await importBad(admin, [
      { type: 'clientGroup', name: 'g' },
      { type: 'client', name: 'c1', clientGroups: ['g'] },
      { type: 'agent', name: 'a', parent: { type: 'client', name: 'c1' } },
      { type: 'agent', name: 'b', parent: { type: 'client', name: 'missing' } },
      { type: 'plan', name: 'p' },
    ]);
    expect(reply).toEqual({
      imported: 0,
      results: [],
      errors: [{ line: 4, message: 'unknown parent client "missing"' }],
    });
    expect(await countEntities()).toBe(0);
    expect(await t.store.db.selectFrom('client_group_clients').selectAll().execute()).toEqual([]);
    expect(await readAuthzVersion(t.store.db)).toBe(version);
    const records = await auditOf('entity.import');
    expect(records.map((r) => r.outcome)).toEqual(['failure']);
    expect(records[0]?.reason).toMatch(/1 bad line/);
    expect((await t.call('GET', '/Client', admin)).json()).toEqual({ clientProperties: [] });
  });

  it('?partial=1 commits the good lines and lists the bad ones (a bad parent fails its children too)', async () => {
    const res = await importRaw(
      admin,
      ndjson([
        { type: 'client', name: 'c1' },
        { type: 'client', name: 'c1' },
        'not json',
        { type: 'agent', name: 'a', parent: { type: 'client', name: 'c1' } },
        { type: 'client', name: 'bad\u0001name' },
        { type: 'agent', name: 'a2', parent: { type: 'client', name: 'bad\u0001name' } },
        { type: 'plan', name: 'p' },
        { type: 'plan', name: 'P' },
      ]),
      '?partial=1',
    );
    const reply = res.json() as ImportReply;
    expect(reply.imported).toBe(3);
    expect(reply.results.map((r) => [r.line, r.entityType])).toEqual([
      [1, 3],
      [4, 4],
      [7, 158],
    ]);
    expect(reply.errors.map((e) => e.line)).toEqual([2, 3, 5, 6, 8]);
    expect(await countEntities()).toBe(3);
    const records = await auditOf('entity.import');
    expect(records.map((r) => r.outcome)).toEqual(['success']);
    expect(JSON.parse(records[0]!.details)).toMatchObject({ created: 3, partial: true });
    // partial=true and partial=0 read as booleans.
    const off = await importBad(admin, [{ type: 'plan', name: 'q' }, 'x'], '?partial=0');
    expect(off.imported).toBe(0);
  });

  it('handles thousands of lines across insert batches, children naming parents in earlier batches', async () => {
    const lines: Line[] = [{ type: 'clientGroup', name: 'all' }];
    for (let c = 0; c < 300; c++) {
      lines.push({ type: 'client', name: `client-${c}`, clientGroups: ['all'] });
      const client = { type: 'client', name: `client-${c}` };
      const agent = { type: 'agent', name: 'File System', parent: client };
      const instance = { type: 'instance', name: 'default', parent: agent };
      const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
      lines.push(agent, instance, backupSet);
      for (let s = 0; s < 3; s++) lines.push({ type: 'subclient', name: `sub-${s}`, parent: backupSet });
    }
    // Parents created far earlier (other batches) by bare name.
    for (let c = 0; c < 300; c += 50)
      lines.push({ type: 'agent', name: `Oracle-${c}`, parent: { type: 'client', name: `client-${c}` } });
    const reply = await importOk(admin, lines);
    expect(reply.imported).toBe(lines.length);
    expect((await entities(admin, 'type=subclient&limit=1')).total).toBe(900);
    const group = (await t.call('GET', '/ClientGroup', admin)).json().groups[0];
    const members = (await t.call('GET', `/ClientGroup/${group.Id}`, admin)).json();
    expect(members.clientGroupDetail.associatedClients).toHaveLength(300);

    // The same in partial mode commits batch by batch, one audit record per batch.
    const plans = Array.from({ length: 2500 }, (_, i) => ({ type: 'plan', name: `plan-${i}` }));
    const partial = await importOk(admin, plans, '?partial=true');
    expect(partial.imported).toBe(2500);
    expect((await auditOf('entity.import')).length).toBe(1 + 3);
  });

  it('answers in XML when asked', async () => {
    const res = await importRaw(admin, ndjson([{ type: 'client', name: 'c1' }, 'bad']), '?partial=1', {
      accept: 'application/xml',
    });
    expect(res.headers['content-type']).toMatch(/application\/xml/);
    expect(res.body).toMatch(/<EntityImportResp imported="1">/);
    expect(res.body).toMatch(/<results line="1" entityType="3" entityId="\d+"\/>/);
    expect(res.body).toMatch(/<errors line="2" message="the line is not valid JSON"\/>/);
  });

  it('takes only application/x-ndjson, and that content type only on this route family', async () => {
    const json = await t.call('POST', '/Entities/Import', admin, { type: 'client', name: 'c1' });
    expect(json.statusCode).toBe(415);
    expect(json.json().errorCode).toBe(1006);
    const xml = await t.call('POST', '/Entities/Import', admin, '<a/>', { 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    const text = await t.call('POST', '/Entities/Import', admin, 'x', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    const elsewhere = await t.call('POST', '/User', admin, '{"users":[]}', { 'content-type': 'application/x-ndjson' });
    expect(elsewhere.statusCode).toBe(415);
    expect(await countEntities()).toBe(0);
  });

  it('a 10 MB import is 413 under the default 1 MiB body limit', async () => {
    const line = `${JSON.stringify({ type: 'plan', name: 'x'.repeat(200) })}\n`;
    const big = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
    const res = await importRaw(admin, big);
    expect(res.statusCode).toBe(413);
    expect(res.json().errorCode).toBe(1005);
    expect(await countEntities()).toBe(0);
    // Just under the limit is fine.
    const plans = Array.from({ length: 9000 }, (_, i) => ({ type: 'plan', name: `p-${i}` }));
    const ok = await importRaw(admin, ndjson(plans));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().imported).toBe(9000);
  });

  it('needs an Authtoken', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `${BASE}/Entities/Import`,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson([{ type: 'plan', name: 'p' }]),
    });
    expect(res.statusCode).toBe(401);
    expect(await countEntities()).toBe(0);
  });
});

describe('POST Entities, rename and delete', () => {
  const create = (token: string, body: unknown, headers: Record<string, string> = {}) =>
    t.call('POST', '/Entities', token, body, headers);

  it('creates one entity from an import-shaped JSON or XML body, audited, bumping the authz version', async () => {
    await importOk(admin, [{ type: 'clientGroup', name: 'g1' }]);
    const version = await readAuthzVersion(t.store.db);
    const res = await create(admin, { type: 'client', name: 'c1', clientGroups: ['g1'] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      errorCode: 0,
      entity: { entityType: 3, entityId: expect.any(Number), name: 'c1', companyId: 0, parentId: 0 },
    });
    expect(await readAuthzVersion(t.store.db)).toBeGreaterThan(version);
    const records = await auditOf('entity.create');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      target_id: String(body.entity.entityId),
      target_name: 'c1',
      outcome: 'success',
    });

    const xml = await create(
      admin,
      '<Entity type="agent" name="File System"><parent type="client" name="c1"/></Entity>',
      { 'content-type': 'application/xml', accept: 'application/xml' },
    );
    expect(xml.statusCode).toBe(200);
    expect(xml.body).toMatch(/<EntityResp errorCode="0"[^>]*><entity entityType="4" entityId="\d+" name="File System"/);
    const client = (await t.call('GET', `/Client/${body.entity.entityId}`, admin)).json().clientProperties[0];
    expect(client.clientGroups).toEqual([{ clientGroupId: expect.any(Number), clientGroupName: 'g1' }]);
    // Types by number, as text in XML or a number in JSON.
    const plan = await create(admin, '<Entity type="158" name="Silver"/>', { 'content-type': 'application/xml' });
    expect(plan.json().entity).toMatchObject({ entityType: 158, name: 'Silver' });
    expect((await create(admin, { type: 17, name: 'SP' })).json().entity.entityType).toBe(17);
    expect((await importOk(admin, [{ type: 64, name: 'A1' }])).results[0]?.entityType).toBe(64);
  });

  it('answers each refusal with its error code', async () => {
    await importOk(admin, [{ type: 'client', name: 'c1' }]);
    const cases: Array<[unknown, number]> = [
      [{ type: 'client', name: 'C1' }, 1201],
      [{ type: 'agent', name: 'a', parent: { type: 'client', name: 'none' } }, 1200],
      [{ type: 'client', name: 'c2', company: 'nosuch' }, 1200],
      [{ type: 'client', name: 'c2', clientGroups: ['none'] }, 1200],
      [{ type: 'server', name: 'x' }, 1204],
      [{ type: 'agent', name: 'a', parent: { type: 'plan', name: 'p' } }, 1204],
    ];
    for (const [bad, code] of cases) {
      const res = await create(admin, bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(200);
      expect(res.json().errorCode, JSON.stringify(bad)).toBe(code);
    }
    const missing = await create(admin, { type: 'client' });
    expect(missing.statusCode).toBe(400);
    expect(await countEntities()).toBe(1);
    expect(await auditOf('entity.create')).toEqual([]);
  });

  it('renames, with the name unique under the same parent; audited', async () => {
    const r = await importOk(admin, [
      { type: 'client', name: 'c1' },
      { type: 'client', name: 'c2' },
      { type: 'plan', name: 'p1' },
    ]);
    const [c1, c2, p1] = r.results.map((x) => x.entityId);
    const version = await readAuthzVersion(t.store.db);
    const res = await t.call('POST', `/Entities/client/${c1}`, admin, { name: 'db01' });
    expect(res.json()).toMatchObject({ errorCode: 0, entity: { entityId: c1, name: 'db01', entityType: 3 } });
    expect(
      (await t.call('GET', `/Client/${c1}`, admin)).json().clientProperties[0].client.clientEntity.clientName,
    ).toBe('db01');
    expect(await readAuthzVersion(t.store.db)).toBeGreaterThan(version);
    expect(JSON.parse((await auditOf('entity.rename'))[0]!.details)).toEqual({ from: 'c1', to: 'db01' });
    // By type number too.
    expect((await t.call('POST', `/Entities/158/${p1}`, admin, { name: 'Gold' })).json().errorCode).toBe(0);
    expect((await t.call('POST', `/Entities/client/${c2}`, admin, { name: 'DB01' })).json().errorCode).toBe(1201);
    // A plan's name may equal a client's.
    expect((await t.call('POST', `/Entities/plan/${p1}`, admin, { name: 'db01' })).json().errorCode).toBe(0);
    // The type in the path must be the entity's.
    expect((await t.call('POST', `/Entities/plan/${c2}`, admin, { name: 'x' })).json().errorCode).toBe(1200);
    expect((await t.call('POST', `/Entities/nosuch/${c2}`, admin, { name: 'x' })).json().errorCode).toBe(1200);
    expect((await t.call('POST', '/Entities/client/999999', admin, { name: 'x' })).json().errorCode).toBe(1200);
    expect((await t.call('POST', `/Entities/client/${c2}`, admin, { name: ' ' })).json().errorCode).toBe(1204);
  });

  it('deletes with everything beneath, memberships and associations; audited', async () => {
    const r = await importOk(admin, [...ESTATE, { type: 'client', name: 'db02', clientGroups: ['Servers'] }]);
    const id = (line: number) => r.results[line - 1]?.entityId as number;
    await t.store.db
      .insertInto('security_associations')
      .values({
        entity_type: 7,
        entity_id: id(7),
        principal_kind: 'user',
        principal_id: 1,
        role_id: 5,
        company_id: 0,
        created_at: new Date().toISOString(),
      })
      .execute();
    const version = await readAuthzVersion(t.store.db);
    const res = await t.call('DELETE', `/Entities/client/${id(3)}`, admin);
    expect(res.json()).toEqual({ errorCode: 0, errorMessage: '', removed: 5 });
    expect(await countEntities()).toBe(13 - 5);
    expect(await readAuthzVersion(t.store.db)).toBeGreaterThan(version);
    for (const [kind, line] of [
      ['agent', 4],
      ['subclient', 7],
    ] as const) {
      expect((await t.call('DELETE', `/Entities/${kind}/${id(line)}`, admin)).json().errorCode).toBe(1200);
    }
    expect((await t.call('GET', `/Client/${id(3)}`, admin)).json().errorCode).toBe(1200);
    const group = (await t.call('GET', `/ClientGroup/${id(1)}`, admin)).json();
    expect(group.clientGroupDetail.associatedClients).toEqual([{ clientId: id(13), clientName: 'db02' }]);
    expect(
      await t.store.db.selectFrom('security_associations').selectAll().where('entity_id', '=', id(7)).execute(),
    ).toEqual([]);
    const rec = (await auditOf('entity.delete'))[0]!;
    expect(rec).toMatchObject({ target_type: '3', target_id: String(id(3)), target_name: 'db01' });
    expect(JSON.parse(rec.details)).toEqual({ entitiesRemoved: 5, associationsRemoved: 1 });
    // A client group goes with its memberships only; the client stays.
    expect((await t.call('DELETE', `/Entities/clientGroup/${id(1)}`, admin)).json().removed).toBe(1);
    expect((await t.call('GET', `/Client/${id(13)}`, admin)).json().clientProperties[0].clientGroups).toEqual([]);
  });
});

describe('GET Entities', () => {
  it('pages, filters by type, and refuses an unknown type', async () => {
    await importOk(
      admin,
      Array.from({ length: 25 }, (_, i) => ({ type: i % 2 ? 'plan' : 'alert', name: `e${i}` })),
    );
    const page = await entities(admin, 'type=plan&offset=5&limit=3');
    expect(page.total).toBe(12);
    expect(page.entities.map((e) => e.name)).toEqual(['e11', 'e13', 'e15']);
    expect((await entities(admin, 'limit=1000')).entities).toHaveLength(25);
    expect((await t.call('GET', '/Entities?type=server', admin)).json().errorCode).toBe(1204);
    expect((await t.call('GET', '/Entities?limit=5000', admin)).statusCode).toBe(400);
    // An empty list is a named empty list.
    expect(await entities(admin, 'type=workflow')).toEqual({ entities: [], total: 0 });
    expect((await t.call('GET', '/ClientGroup', admin)).json()).toEqual({ groups: [] });
    expect((await t.call('GET', '/Plan?offset=10&limit=2', admin)).json().plans).toHaveLength(2);
  });

  it('answers in XML when asked', async () => {
    const r = await importOk(admin, ESTATE);
    const get = (path: string) => t.call('GET', path, admin, undefined, { accept: 'application/xml' });
    expect((await get('/Client')).body).toMatch(
      /<clientProperties><client><clientEntity clientId="\d+" clientName="db01" displayName="db01"/,
    );
    expect((await get(`/ClientGroup/${r.results[0]?.entityId}`)).body).toMatch(
      /<clientGroupDetail><clientGroup clientGroupId="\d+" clientGroupName="Servers"\/><associatedClients clientId="\d+" clientName="db01"\/>/,
    );
    expect((await get('/Plan')).body).toMatch(/<plans><plan planId="\d+" planName="Gold"\/><\/plans>/);
    expect((await get('/Entities?type=subclient')).body).toMatch(
      /<EntitiesResp total="1"><entities entityType="7" entityId="\d+" name="default" companyId="0" parentId="\d+"\/>/,
    );
  });
});

describe('tenants', () => {
  it("a tenant admin imports into its own company and cannot see, rename or delete another's entities", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');

    // Lines without "company" belong to the caller's company; naming its own works too.
    const mine = await importOk(a.token, [
      { type: 'clientGroup', name: 'g' },
      { type: 'client', name: 'web01', clientGroups: ['g'] },
      { type: 'plan', name: 'Gold', company: 'ACME' },
    ]);
    const theirs = await importOk(b.token, [
      { type: 'clientGroup', name: 'g' },
      { type: 'client', name: 'web01', clientGroups: ['g'] },
      { type: 'plan', name: 'Gold' },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'web01' } },
    ]);
    const [, bClient, bPlan, bAgent] = theirs.results.map((r) => r.entityId);
    const bGroup = theirs.results[0]?.entityId;
    expect((await entities(admin, 'type=client')).entities.map((e) => e.companyId)).toEqual([a.companyId, b.companyId]);
    expect((await entities(a.token, '')).entities.every((e) => e.companyId === a.companyId)).toBe(true);
    expect((await entities(a.token, '')).total).toBe(3);
    expect((await entities(a.token, `companyId=${b.companyId}`)).total).toBe(0);

    // Importing into the other company, or the CommCell, is a per-line error, and imports nothing.
    const into = await importBad(a.token, [
      { type: 'plan', name: 'Silver' },
      { type: 'plan', name: 'Stolen', company: 'beta' },
      { type: 'plan', name: 'Top', company: 'Commcell' },
    ]);
    expect(into).toEqual({
      imported: 0,
      results: [],
      errors: [
        { line: 2, message: 'unknown company "beta"' },
        { line: 3, message: 'unknown company "Commcell"' },
      ],
    });
    // Not even a parent of theirs can be named.
    const parentOfB = await importBad(a.token, [
      { type: 'agent', name: 'x', parent: { type: 'client', name: 'web01' } },
      { type: 'instance', name: 'y', parent: { type: 'agent', name: 'File System' } },
    ]);
    expect(parentOfB.errors.map((e) => e.line)).toEqual([2]);
    expect(
      (await t.call('POST', '/Entities', a.token, { type: 'plan', name: 'x', company: 'beta' })).json().errorCode,
    ).toBe(1200);

    // Every read and write of B's ids is "not found", never "forbidden".
    for (const [method, path, body] of [
      ['GET', `/Client/${bClient}`, undefined],
      ['GET', `/ClientGroup/${bGroup}`, undefined],
      ['GET', `/Plan/${bPlan}`, undefined],
      ['POST', `/Entities/client/${bClient}`, { name: 'mine' }],
      ['POST', `/Entities/agent/${bAgent}`, { name: 'mine' }],
      ['DELETE', `/Entities/client/${bClient}`, undefined],
      ['DELETE', `/Entities/plan/${bPlan}`, undefined],
    ] as const) {
      const res = await t.call(method, path, a.token, body);
      expect(res.statusCode, `${method} ${path}`).toBe(200);
      expect(res.json().errorCode, `${method} ${path}`).toBe(1200);
    }
    const still = await entities(b.token, 'type=client');
    expect(still.entities).toEqual([expect.objectContaining({ entityId: bClient, name: 'web01' })]);
    // The product-shaped lists show only the caller's company.
    const clients = (await t.call('GET', '/Client', a.token)).json().clientProperties;
    expect(
      clients.map((c: { client: { clientEntity: { clientId: number } } }) => c.client.clientEntity.clientId),
    ).toEqual([mine.results[1]?.entityId]);
    expect((await t.call('GET', '/Plan', b.token)).json()).toEqual({
      plans: [{ plan: { planId: bPlan, planName: 'Gold' } }],
    });
    // The CommCell administrator sees and manages both.
    expect((await t.call('GET', '/Client', admin)).json().clientProperties).toHaveLength(2);
    expect((await t.call('POST', `/Entities/plan/${bPlan}`, admin, { name: 'Platinum' })).json().errorCode).toBe(0);
    // The import was audited under the tenant's company.
    const rec = (await auditOf('entity.import')).find(
      (r) => r.actor_name === 'acme\\tadmin' && r.outcome === 'success',
    );
    expect(rec?.company_id).toBe(a.companyId);
  });

  it("a company's plain user sees only what it holds View on, and may not change it", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const r = await importOk(a.token, [
      { type: 'clientGroup', name: 'web' },
      { type: 'client', name: 'web01', clientGroups: ['web'] },
      { type: 'client', name: 'db01' },
      { type: 'plan', name: 'gold' },
    ]);
    const [group, web01, db01, plan] = r.results.map((x) => x.entityId) as [number, number, number, number];
    await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'acme\\joe' }, email: 'joe@acme.example', password: b64('Joe-Passw0rd!') }],
    });
    const joe = await t.login('acme\\joe', 'Joe-Passw0rd!');
    // No association yet: its own company's entities exist for it (403, not 404), but it sees none.
    expect((await t.call('GET', '/Client', joe)).json().clientProperties).toEqual([]);
    expect((await t.call('GET', `/Client/${web01}`, joe)).json().errorCode).toBe(587204594);
    expect((await t.call('GET', '/Entities', joe)).json()).toEqual({ entities: [], total: 0 });
    // View on the client group: the client in it, through the group, and nothing else.
    const grant = await t.call('POST', '/Security', a.token, {
      entityAssociated: { entity: [{ entityType: 28, entityId: group }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userName: 'acme\\joe' }], properties: { role: { roleName: 'View' } } }],
      },
    });
    expect(grant.json().response[0].errorCode, grant.body).toBe(0);
    expect(
      (await t.call('GET', '/Client', joe))
        .json()
        .clientProperties.map(
          (c: { client: { clientEntity: { clientId: number } } }) => c.client.clientEntity.clientId,
        ),
    ).toEqual([web01]);
    expect((await t.call('GET', `/Client/${web01}`, joe)).statusCode).toBe(200);
    expect((await t.call('GET', `/Client/${db01}`, joe)).json().errorCode).toBe(587204594);
    expect((await t.call('GET', '/Plan', joe)).json().plans).toEqual([]);
    const listed = (await t.call('GET', '/Entities', joe)).json();
    expect(listed.entities.map((e: { entityId: number }) => e.entityId).sort()).toEqual([group, web01].sort());
    expect(listed.total).toBe(2);
    for (const res of [
      await importRaw(joe, ndjson([{ type: 'plan', name: 'p' }])),
      await t.call('POST', '/Entities', joe, { type: 'plan', name: 'p' }),
      await t.call('POST', `/Entities/client/${web01}`, joe, { name: 'x' }),
      await t.call('DELETE', `/Entities/client/${web01}`, joe),
      await t.call('DELETE', `/Entities/plan/${plan}`, joe),
    ]) {
      expect(res.json().errorCode).toBe(587204594);
    }
    expect(await countEntities()).toBe(4);
    // A CommCell user who is not an administrator cannot write the CommCell's entities either.
    await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'ann' }, email: 'ann@x.example', password: b64('Ann-Passw0rd!') }],
    });
    const ann = await t.login('ann', 'Ann-Passw0rd!');
    expect((await importRaw(ann, ndjson([{ type: 'plan', name: 'p' }]))).json().errorCode).toBe(587204594);
    expect((await t.call('GET', '/Client', ann)).json()).toEqual({ clientProperties: [] });
  });
});
