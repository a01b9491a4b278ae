import { describe, expect, it } from 'vitest';
import { bootstrappedDb, cleanupAfterEach, runCli } from '../../test/cli.js';
import { checkKeyFormat, keyHash } from '../domain/api-keys.js';

const cleanups = cleanupAfterEach();

describe('bulwark apikey create|list|revoke', () => {
  it('prints the key once, lists without it, revokes; each change audited as the command, never with the key', async () => {
    const { env, store } = await bootstrappedDb(cleanups);
    const made = await runCli(
      [
        'apikey',
        'create',
        '--description',
        'ansible',
        '--access',
        'full_control',
        '--source',
        '10.0.0.0/8',
        '--expires',
        '2099-01-01T00:00:00Z',
      ],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    const key = made.stdout.trim().split('\n').at(-1) as string;
    const prefix = checkKeyFormat(key);
    expect(prefix).not.toBeNull();
    const row = await store.db.selectFrom('fd_api_keys').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      prefix,
      secret_hash: keyHash(key),
      rest_access: 'FULL_CONTROL',
      allowed_sources: '["10.0.0.0/8"]',
    });

    const list = await runCli(['apikey', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${prefix}\tadmin\tFULL_CONTROL\tUNRESTRICTED\tenabled`);
    expect(list.stdout).not.toContain(key.split('.')[1]);

    const revoked = await runCli(['apikey', 'revoke', prefix as string], env);
    expect(revoked.code).toBe(0);
    expect(await store.db.selectFrom('fd_api_keys').selectAll().execute()).toEqual([]);
    const audit = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', 'like', 'apikey.%')
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => [a.operation, a.actor_name])).toEqual([
      ['apikey.create', 'bulwark apikey create'],
      ['apikey.delete', 'bulwark apikey revoke'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(key.split('.')[1]);
  });

  it('refuses bad arguments with exit 2', async () => {
    const { env } = await bootstrappedDb(cleanups);
    for (const args of [
      ['apikey', 'create', '--owner', 'nobody'],
      ['apikey', 'create', '--access', 'root'],
      ['apikey', 'create', '--type', 'CALLID_RESTRICTED', '--call', 'rmRf'],
      ['apikey', 'revoke', 'AAAAAAAAAA'],
    ]) {
      const r = await runCli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
  });
});
