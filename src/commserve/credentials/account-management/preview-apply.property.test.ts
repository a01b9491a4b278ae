import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, makeTenant, type TestApp, withApp } from '../../../../test/harness.js';
import { ACCOUNT_KINDS, type AccountKind } from '../../../domain/credentials.js';
import { addChain, addRecord, type ChainIds, chainAt, setAccount, snapshot } from './fixtures.js';

// Preview equals apply: over random estates (accounts of a few spellings of a
// few user names, a few passwords, in two companies) and random requests by
// the CommCell admin or a tenant admin, what preview=1 lists is exactly what
// preview=0 then changes, field by field, and an error from one is the same
// error from the other.

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
}, 'all');

let tenant: { companyId: number; token: string };
const chains: Array<{ companyId: number; ids: ChainIds }> = [];

beforeAll(async () => {
  const acme = await makeTenant(t, admin, 'acme');
  tenant = acme;
  for (const [i, companyId] of [0, 0, 0, acme.companyId, acme.companyId, acme.companyId].entries()) {
    chains.push({ companyId, ids: await addChain(t, companyId, chainAt(100 + i * 10), { client: `c${i}` }) });
  }
});

const NAMES = ['corp\\svc', 'CORP\\Svc', 'svc@corp', 'svc', 'other\\svc', 'corp\\backup'];
const PASSWORDS = ['Pw-one-1111', 'Pw-two-2222'];
const NEW_NAMES = ['corp\\svc2', 'SVC2@corp', 'corp\\backup2'];
const NEW_PASSWORDS = ['New-pw-3333', 'New-pw-4444'];

const slot = fc.option(fc.record({ name: fc.constantFrom(...NAMES), password: fc.constantFrom(...PASSWORDS) }), {
  nil: null,
});
const estate = fc.record({
  accounts: fc.array(fc.array(slot, { minLength: 3, maxLength: 3 }), { minLength: 6, maxLength: 6 }),
  records: fc.array(
    fc.record({ tenant: fc.boolean(), name: fc.constantFrom(...NAMES), password: fc.constantFrom(...PASSWORDS) }),
    { maxLength: 5 },
  ),
});
const request = fc.record({
  byTenant: fc.boolean(),
  oldUser: fc.constantFrom(...NAMES, 'corp\\nobody'),
  oldPassword: fc.constantFrom(...PASSWORDS, 'Pw-wrong-000'),
  skip: fc.boolean(),
  newUser: fc.option(fc.constantFrom(...NEW_NAMES, ...NAMES), { nil: undefined }),
  newPassword: fc.option(fc.constantFrom(...NEW_PASSWORDS), { nil: undefined }),
});

const ENTITY_OF: Record<number, AccountKind> = {
  7: 'subclientUnc',
  5: 'instanceImpersonation',
  3: 'clientImpersonation',
};
const idOf = (e: Record<string, number>) =>
  e._type_ === 7 ? e.subclientId : e._type_ === 5 ? e.instanceId : (e.clientId as number);

/** What a preview says changes: `<account>|password` and `<account>|userName`. */
function listed(groups: Array<{ changes: string; entities: Record<string, Array<Record<string, number>>> }>) {
  const out: string[] = [];
  for (const g of groups) {
    const field = /password/.test(g.changes) ? 'password' : 'userName';
    for (const e of g.entities.entity ?? []) out.push(`e:${idOf(e)}:${ENTITY_OF[e._type_ as number]}|${field}`);
    for (const e of g.entities.credEntity ?? []) out.push(`c:${e.credentialId}|${field}`);
  }
  return out.sort();
}

describe('preview equals apply', () => {
  it('over random estates and requests', async () => {
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(estate, request, async (e, r) => {
        await t.store.db.deleteFrom('entity_accounts').execute();
        await t.store.db.deleteFrom('credential_users').execute();
        await t.store.db.deleteFrom('credentials').execute();
        await t.store.db.deleteFrom('login_throttle').execute();
        for (const [i, kinds] of e.accounts.entries()) {
          const chain = chains[i] as (typeof chains)[number];
          for (const [k, account] of kinds.entries()) {
            if (!account) continue;
            const kind = ACCOUNT_KINDS[k] as AccountKind;
            const entity =
              kind === 'subclientUnc'
                ? chain.ids.subclient
                : kind === 'instanceImpersonation'
                  ? chain.ids.instance
                  : chain.ids.client;
            await setAccount(t, entity, kind, chain.companyId, account.name, account.password);
          }
        }
        for (const [i, rec] of e.records.entries()) {
          await addRecord(t, rec.tenant ? tenant.companyId : 0, `r${i}`, rec.name, rec.password);
        }
        const body = (preview: 0 | 1) => ({
          preview,
          reason: 'property',
          skipPasswordCheck: r.skip ? 1 : 0,
          credsInfo: {
            oldCredentials: { userName: r.oldUser, password: b64(r.oldPassword) },
            newCredentials: {
              ...(r.newUser === undefined ? {} : { userName: r.newUser }),
              ...(r.newPassword === undefined ? {} : { password: b64(r.newPassword) }),
            },
          },
        });
        const token = r.byTenant ? tenant.token : admin;
        const before = await snapshot(t);
        const preview = (await t.call('POST', '/User/AccountManagement', token, body(1))).json();
        expect(await snapshot(t)).toEqual(before);
        const apply = (await t.call('POST', '/User/AccountManagement', token, body(0))).json();
        const after = await snapshot(t);
        if (preview.errorCode !== undefined) {
          expect(apply.errorCode).toBe(preview.errorCode);
          expect(after).toEqual(before);
          return;
        }
        expect(apply.errorCode, JSON.stringify(apply)).toBe(0);
        applied++;
        const changed: string[] = [];
        for (const [key, was] of before) {
          const now = after.get(key);
          if (now?.password !== was.password) changed.push(`${key}|password`);
          if (now?.userName !== was.userName) changed.push(`${key}|userName`);
        }
        expect(listed(preview.credentialChanges)).toEqual(changed.sort());
        expect(changed.length).toBeGreaterThan(0);
      }),
      { numRuns: Number(process.env.BULWARK_PROPERTY_RUNS ?? 30) },
    );
    // The property is not vacuous: some runs changed something.
    expect(applied).toBeGreaterThan(0);
  });
});
