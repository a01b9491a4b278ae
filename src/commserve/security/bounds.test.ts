import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { b64, makeTenant, startApp, type TestApp } from '../../../test/harness.js';
import { bumpAuthzVersion } from '../../store/authz.js';
import { MAX_ASSOCIATIONS, MAX_ENTITIES, MAX_ITEMS } from './limits.js';
import { Resolver } from './resolve.js';

// Issue 9, finding 5, and the rule "bounded work per request": POST Security
// expands entities × associations; the product is capped before anything is
// looked up, entities are checked before associations are expanded, and the
// reply stays small for a caller who may not write.

let t: TestApp;
let admin: string;
let mallory: string;

const PLANS = 10_001; // plan ids FIRST_PLAN … FIRST_PLAN + 10 000, owned by the CommCell
const FIRST_PLAN = 1000;

/** Plans straight into the store, 500 a statement (the import API has its own tests). */
async function addPlans(count: number) {
  const at = new Date().toISOString();
  await t.store.db.transaction().execute(async (tx) => {
    for (let k = 0; k < count; k += 500) {
      await tx
        .insertInto('entities')
        .values(
          Array.from({ length: Math.min(500, count - k) }, (_, i) => ({
            id: FIRST_PLAN + k + i,
            type: 158,
            company_id: 0,
            parent_id: null,
            parent_key: 0,
            name: `plan-${k + i}`,
            name_key: `plan-${k + i}`,
            created_at: at,
          })),
        )
        .execute();
    }
    await bumpAuthzVersion(tx, [0]);
  });
}

/** CommCell user groups g0 … g(count-1), straight into the store (POST UserGroup has its own tests). */
async function addGroups(count: number) {
  const at = new Date().toISOString();
  await t.store.db.transaction().execute(async (tx) => {
    for (let k = 0; k < count; k += 500) {
      await tx
        .insertInto('user_groups')
        .values(
          Array.from({ length: Math.min(500, count - k) }, (_, i) => ({
            company_id: 0,
            guid: randomUUID(),
            name: `g${k + i}`,
            name_key: `g${k + i}`,
            description: '',
            system_kind: null,
            created_at: at,
          })),
        )
        .execute();
    }
    await bumpAuthzVersion(tx, [0]);
  });
}

const ROLES = ['View', 'Restore Operator', 'Tenant Operator', 'Tenant Admin', 'Master'];

/** `entities` plans × `associations` distinct (group, role) pairs: g0/View, g0/Restore Operator, … */
function request(entities: number, associations: number, op: string | number = 'ADD') {
  return {
    entityAssociated: {
      entity: Array.from({ length: entities }, (_, i) => ({ entityType: 158, _type_: 150, entityId: FIRST_PLAN + i })),
    },
    securityAssociations: {
      associationsOperationType: op,
      associations: Array.from({ length: associations }, (_, i) => ({
        userOrGroup: [{ userGroupName: `g${Math.floor(i / ROLES.length)}` }],
        properties: { role: { roleName: ROLES[i % ROLES.length] } },
      })),
    },
  };
}

const post = (token: string, body: unknown) => t.call('POST', '/Security', token, body);

async function associationCount() {
  const r = await t.store.db
    .selectFrom('security_associations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

beforeEach(async () => {
  t = await startApp();
  admin = await t.login();
  // The master group's Master is the one association so far. A CommCell user holding nothing
  // sees the CommCell's plans, and may write no association.
  const res = await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: 'mallory' }, password: b64('Mallory-Passw0rd!') }],
  });
  expect(res.json().response[0].errorCode).toBe(0);
  mallory = await t.login('mallory', 'Mallory-Passw0rd!');
  await addPlans(PLANS);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await t.close();
});

describe('POST Security: bounded work per request', () => {
  it('documents 10 000 entities, 10 000 associations and 10 000 items per request', () => {
    expect([MAX_ENTITIES, MAX_ASSOCIATIONS, MAX_ITEMS]).toEqual([10_000, 10_000, 10_000]);
  });

  it("refuses the issue's 1000 × 1000 from an unprivileged user at once, with a small 400 and no lookup", async () => {
    const principals = vi.spyOn(Resolver.prototype, 'principal');
    const entities = vi.spyOn(Resolver.prototype, 'entityCompany');
    const started = performance.now();
    const res = await post(mallory, request(1000, 1000));
    const ms = performance.now() - started;
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errorCode: 1000, response: [{ errorCode: 1000 }] });
    expect(res.json().errorMessage).toMatch(/at most 10000 .*1000 × 1000 = 1000000/);
    expect(res.body.length).toBeLessThan(1024);
    expect(ms).toBeLessThan(3000); // 6 s, 263 MB and 1.4 GB of RSS before the cap (README)
    expect(principals).not.toHaveBeenCalled();
    expect(entities).not.toHaveBeenCalled();
    expect(await associationCount()).toBe(1);
  });

  it('answers 2000 × 2000 with the same 400, never a 500, whoever asks', async () => {
    for (const token of [mallory, admin]) {
      const res = await post(token, request(2000, 2000));
      expect(res.statusCode).toBe(400);
      expect(res.json().errorCode).toBe(1000);
      expect(res.body.length).toBeLessThan(1024);
    }
  });

  it('refuses an unprivileged caller within the limit after the entities only: one result, no association looked up', async () => {
    const principals = vi.spyOn(Resolver.prototype, 'principal');
    const roles = vi.spyOn(Resolver.prototype, 'role');
    const res = await post(mallory, request(100, 100));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.response).toHaveLength(1);
    expect(body.response[0]).toMatchObject({ errorCode: 587204594 });
    expect(body.response[0].errorString).toMatch(/Security Management on entity 158:1000/);
    expect(res.body.length).toBeLessThan(1024);
    expect(principals).not.toHaveBeenCalled();
    expect(roles).not.toHaveBeenCalled();
    // Still one security.add failure record, as for any refused POST Security.
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select(['operation', 'outcome'])
      .where('operation', 'like', 'security.%')
      .execute();
    expect(audit).toEqual([{ operation: 'security.add', outcome: 'failure' }]);
  });

  it('an invisible or malformed entity refuses the request with one result too', async () => {
    for (const [entity, code] of [
      [{ clientId: 999_999 }, 1200],
      [{ nothing: 1 }, 1204],
    ] as const) {
      const body = request(50, 100);
      body.entityAssociated.entity.push(entity as never);
      const res = await post(admin, body);
      expect(res.json().response.map((r: { errorCode: number }) => r.errorCode)).toEqual([code]);
    }
    expect(await associationCount()).toBe(1);
  });

  it('applies at the limit for the administrator: 100 × 100, looking each association up once', async () => {
    await addGroups(20);
    const principals = vi.spyOn(Resolver.prototype, 'principal');
    const res = await post(admin, request(100, 100));
    expect(res.statusCode).toBe(200);
    const codes = res.json().response.map((r: { errorCode: number }) => r.errorCode);
    expect(codes).toHaveLength(10_000);
    expect(codes.every((c: number) => c === 0)).toBe(true);
    expect(principals).toHaveBeenCalledTimes(100);
    expect(await associationCount()).toBe(1 + 10_000);
  });

  it('applies at the limit for the administrator: 10 000 × 1 and 1 × 10 000', async () => {
    await addGroups(2000);
    const wide = await post(admin, request(10_000, 1));
    expect(wide.json().response).toHaveLength(10_000);
    expect(wide.json().response.every((r: { errorCode: number }) => r.errorCode === 0)).toBe(true);
    const deep = await post(admin, request(1, 10_000, 'OVERWRITE'));
    expect(deep.json().response).toHaveLength(10_000);
    expect(deep.json().response.every((r: { errorCode: number }) => r.errorCode === 0)).toBe(true);
    // The plan with the first id: g0/View from the first request, kept by the OVERWRITE, and 9 999 more.
    const onFirst = await t.store.db
      .selectFrom('security_associations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('entity_type', '=', 158)
      .where('entity_id', '=', FIRST_PLAN)
      .executeTakeFirstOrThrow();
    expect(Number(onFirst.n)).toBe(10_000);
  }, 90_000); // two 10 000-item writes: about 5 s on SQLite and 15 s on a busy PostgreSQL

  it('refuses one over the limit, each way, and writes nothing', async () => {
    await addGroups(20);
    for (const [entities, associations] of [
      [73, 137], // 10 001 items
      [10_001, 1], // one entity too many
      [1, 10_001], // one association too many
    ] as const) {
      const res = await post(admin, request(entities, associations));
      expect(res.statusCode, `${entities} × ${associations}`).toBe(400);
      expect(res.json().errorCode).toBe(1000);
      expect(res.body.length).toBeLessThan(1024);
    }
    expect(await associationCount()).toBe(1);
  });

  it('echoes at most 100 characters of a name it cannot find, so long names do not swell the reply', async () => {
    const long = 'x'.repeat(200_000);
    const body = request(100, 1);
    body.securityAssociations.associations[0] = {
      userOrGroup: [{ userGroupName: long }],
      properties: { role: { roleName: 'View' } },
    };
    const res = await post(admin, body);
    const response = res.json().response;
    expect(response).toHaveLength(100);
    expect(response[0]).toMatchObject({ errorCode: 1200 });
    expect(response[0].errorString.length).toBeLessThan(150);
    expect(res.body.length).toBeLessThan(100 * 600);
  });
});

describe('principal-side associations: the same bound', () => {
  it('POST User/{id} takes 10 000 entities in one block and refuses 10 001 before looking any up', async () => {
    const rsmith = await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'RSmith' }, password: b64('RSmith-Passw0rd!') }],
    });
    const id = rsmith.json().response[0].entity.userId as number;
    const block = (count: number, split: number) => ({
      associationsOperationType: 'ADD',
      associations: Array.from({ length: split }, (_, a) => ({
        entities: {
          entity: Array.from({ length: count / split }, (_, i) => ({ planId: FIRST_PLAN + a * (count / split) + i })),
        },
        properties: { role: { roleName: 'View' } },
      })),
    });
    const over = vi.spyOn(Resolver.prototype, 'entityCompany');
    // 10 001 entities over 73 associations of 137 each.
    const refused = await t.call('POST', `/User/${id}`, admin, {
      users: [{ securityAssociations: block(10_001, 73) }],
    });
    expect(refused.statusCode).toBeLessThan(500);
    expect(JSON.stringify(refused.json())).toMatch(/"errorCode":1000/);
    expect(refused.body.length).toBeLessThan(1024);
    expect(over).not.toHaveBeenCalled();
    expect(await associationCount()).toBe(1);
    const applied = await t.call('POST', `/User/${id}`, admin, {
      users: [{ securityAssociations: block(10_000, 10) }],
    });
    expect(applied.json().response[0].errorCode, applied.body).toBe(0);
    expect(await associationCount()).toBe(1 + 10_000);
  });

  it('counts a tenant admin the same way on POST UserGroup', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const res = await t.call('POST', '/UserGroup', acme.token, {
      groups: [
        {
          userGroupEntity: { userGroupName: 'wide' },
          securityAssociations: {
            associationsOperationType: 'ADD',
            associations: [
              {
                entities: { entity: Array.from({ length: 10_001 }, () => ({ providerId: acme.companyId })) },
                properties: { role: { roleName: 'View' } },
              },
            ],
          },
        },
      ],
    });
    expect(res.statusCode).toBeLessThan(500);
    expect(JSON.stringify(res.json())).toMatch(/"errorCode":1000/);
    expect(res.body.length).toBeLessThan(1024);
  });
});
