import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStore, type TestStore } from '../../test/harness.js';
import { migrate } from '../store/migrate.js';
import { GENESIS_HASH } from './chain.js';
import { type AuditEntry, appendAudit } from './log.js';
import { verifyAudit } from './verify.js';

// Whatever text goes into a record (a login name typed by anyone, any field,
// any detail), what is stored is what was hashed: the chain verifies after,
// on whichever store BULWARK_TEST_DB names.

let db: TestStore;
beforeAll(async () => {
  db = await freshStore();
  await migrate(db.store);
});
afterAll(async () => {
  await db.drop();
});

/** Any code point, lone surrogates of both halves, NUL, controls and invisible characters. */
const unit = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u0000', '\u0001', '\t', '\n', '\r', '\u007f', '\u200b', '\u202e', '\ufeff', '\ufffd', '\\', '"'),
);
const text = fc.string({ unit, maxLength: 24 });
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(text, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const entry: fc.Arbitrary<AuditEntry> = fc.record({
  actor: fc.option(
    fc.record({ userId: fc.option(fc.nat(1000), { nil: null }), name: text, companyId: fc.constant(null) }),
    { nil: null },
  ),
  operation: text,
  targetType: fc.option(text, { nil: undefined }),
  targetId: fc.option(fc.oneof(text, fc.nat()), { nil: undefined }),
  targetName: fc.option(text, { nil: undefined }),
  outcome: fc.constantFrom('success' as const, 'failure' as const),
  reason: fc.option(text, { nil: undefined }),
  details: fc.option(fc.dictionary(text, json, { maxKeys: 4 }), { nil: undefined }),
  sourceAddr: fc.option(text, { nil: undefined }),
  at: fc.constant(new Date('2026-11-23T08:00:00.000Z')),
});

describe('appendAudit', () => {
  it('property: records holding any text, lone surrogates and NULs included, leave a chain that verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 4 }), async (entries) => {
        // Each run starts a new chain, so a counterexample is the records that broke it.
        await db.store.db.deleteFrom('audit_log').execute();
        await db.store.db.updateTable('audit_head').set({ seq: 0, hash: GENESIS_HASH }).where('id', '=', 1).execute();
        await db.store.db.transaction().execute(async (tx) => {
          for (const e of entries) await appendAudit(tx, e);
        });
        const v = await verifyAudit(db.store.db);
        expect(v.problems).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('stores a lone surrogate and a NUL as U+FFFD, the text it hashed', async () => {
    const seq = await db.store.db.transaction().execute((tx) =>
      appendAudit(tx, {
        actor: { userId: null, name: 'x\ud800y\u0000z', companyId: null },
        operation: 'login',
        targetName: '\udfff',
        outcome: 'failure',
        reason: 'nul\u0000',
        details: { 'k\ud800': 'v\udc00\u0000' },
        at: new Date(),
      }),
    );
    const row = await db.store.db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
    expect(row.actor_name).toBe('x\ufffdy\ufffdz');
    expect(row.target_name).toBe('\ufffd');
    expect(row.reason).toBe('nul\ufffd');
    // JSON.stringify escapes both in details, so they survive there as escapes.
    expect(JSON.parse(row.details)).toEqual({ 'k\ud800': 'v\udc00\u0000' });
    expect((await verifyAudit(db.store.db)).ok).toBe(true);
  });
});
