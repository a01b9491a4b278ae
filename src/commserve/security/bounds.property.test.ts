import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addEntities } from '../../../test/estate.js';
import { b64, makeTenant, startApp, type TestApp } from '../../../test/harness.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import { MAX_ASSOCIATIONS, MAX_ENTITIES, MAX_ITEMS } from './limits.js';

// The rule "bounded work per request", as a property: whatever the shape of a
// POST Security (how many entities, how many associations, what they name,
// who asks, JSON or XML), it never answers 5xx, a request over the documented
// limits is a small 400, and a reply holds at most one result per
// (entity, association) item, each of bounded size.

let t: TestApp;
const tokens: string[] = [];
let entities: Array<Record<string, unknown>> = [];

/** What a result can weigh: three copies of a message that echoes at most 100 characters of input, in JSON or XML. */
const RESULT_BYTES = 1024;
const ENVELOPE_BYTES = 1024;

const WHO: Array<Record<string, unknown>> = [
  { userGroupName: 'g0' },
  { userGroupName: 'g1' },
  { userGroupName: 'g2' },
  { userName: 'mallory' },
  { userName: 'acme\\tadmin' },
  { userName: 'nobody' },
  { userName: 'x'.repeat(3000) },
  { userName: { toString: 1 } },
  { userName: ['a', 'b'] },
  { userName: null },
  { userId: -1 },
  { userGroupId: 'abc' },
  {},
];
const ROLE: Array<Record<string, unknown>> = [
  { roleName: 'View' },
  { roleId: 4 },
  { roleName: 'Master' },
  { roleName: 'No Such Role' },
  { roleName: { toString: 1 } },
  { roleId: 'y'.repeat(500) },
  {},
];
const OPS = ['ADD', 'DELETE', 'OVERWRITE', 1, 2, 3, 'MERGE'] as const;

/** Mostly small shapes, and the edges: at, around and far over the limits. */
const dimension = (min: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min, max: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom(99, 100, 101, 1000, 2000) },
    { weight: 1, arbitrary: fc.constantFrom(MAX_ITEMS, MAX_ITEMS + 1) },
  );

const shape = fc.record({
  // The administrator most often, so that requests get past the entity checks and expand.
  caller: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.constant(1), fc.constant(2)),
  op: fc.constantFrom(...OPS),
  xml: fc.boolean(),
  entityCount: dimension(1),
  associationCount: dimension(0),
  // Entities 0-4 exist and are visible to the administrator; 5-8 are unknown or malformed.
  entityPattern: fc.array(fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 4 }) }, fc.integer({ min: 5, max: 8 })), {
    minLength: 1,
    maxLength: 4,
  }),
  associationPattern: fc.array(fc.tuple(fc.nat({ max: WHO.length - 1 }), fc.nat({ max: ROLE.length - 1 })), {
    minLength: 1,
    maxLength: 4,
  }),
});

const cycle = <T>(pattern: T[], length: number): T[] =>
  Array.from({ length }, (_, i) => pattern[i % pattern.length] as T);

function resultsIn(body: string, xml: boolean): number {
  if (xml) return body.match(/<response[\s/>]/g)?.length ?? 0;
  return (JSON.parse(body) as { response?: unknown[] }).response?.length ?? 0;
}

beforeAll(async () => {
  t = await startApp();
  const admin = await t.login();
  const acme = await makeTenant(t, admin, 'acme');
  const res = await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: 'mallory' }, password: b64('Mallory-Passw0rd!') }],
  });
  expect(res.json().response[0].errorCode).toBe(0);
  tokens.push(admin, acme.token, await t.login('mallory', 'Mallory-Passw0rd!'));
  await addEntities(t.store, [
    { id: 10, type: 158, companyId: 0, name: 'gold' },
    { id: 11, type: 158, companyId: 0, name: 'silver' },
    { id: 101, type: 3, companyId: acme.companyId, name: 'db01' },
  ]);
  await t.store.db.transaction().execute(async (tx) => {
    for (const name of ['g0', 'g1', 'g2']) {
      await tx
        .insertInto('user_groups')
        .values({
          company_id: 0,
          guid: randomUUID(),
          name,
          name_key: name,
          description: '',
          system_kind: null,
          created_at: new Date().toISOString(),
        })
        .execute();
    }
    await bumpAuthzVersion(tx, [0]);
  });
  entities = [
    { entityType: 158, _type_: 150, entityId: 10 },
    { planId: 11 },
    { clientId: 101 },
    { providerId: acme.companyId },
    { commCellId: 0 },
    { clientId: 999_999 },
    { nothing: 1 },
    { entityType: 'x', entityId: 1 },
    { clientId: { toString: 1 } },
  ];
});
afterAll(async () => {
  await t.close();
});

describe('POST Security, any shape', () => {
  it('never answers 5xx, refuses over the limits with a small 400, and keeps every reply bounded', async () => {
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const body = {
          entityAssociated: { entity: cycle(s.entityPattern, s.entityCount).map((k) => entities[k]) },
          securityAssociations: {
            associationsOperationType: s.op,
            associations: cycle(s.associationPattern, s.associationCount).map(([w, r]) => ({
              userOrGroup: [WHO[w]],
              properties: { role: ROLE[r] },
            })),
          },
        };
        const res = await t.call('POST', '/Security', tokens[s.caller] as string, body, {
          accept: s.xml ? 'application/xml' : 'application/json',
        });
        const items = s.entityCount * s.associationCount;
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 413) {
          // Long names times many associations can outgrow the 1 MiB body limit first.
          expect(JSON.stringify(body).length).toBeGreaterThan(1_048_576);
          expect(res.body.length).toBeLessThan(ENVELOPE_BYTES);
          return;
        }
        if (items > MAX_ITEMS || s.entityCount > MAX_ENTITIES || s.associationCount > MAX_ASSOCIATIONS) {
          expect(res.statusCode).toBe(400);
          expect(res.body.length).toBeLessThan(ENVELOPE_BYTES);
          return;
        }
        const results = resultsIn(res.body, s.xml);
        expect(results).toBeLessThanOrEqual(Math.max(1, items));
        expect(res.body.length).toBeLessThanOrEqual(ENVELOPE_BYTES + results * RESULT_BYTES);
      }),
      { numRuns: 60 },
    );
  }, 240_000);
});
