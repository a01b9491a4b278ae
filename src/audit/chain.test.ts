import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets } from './chain.js';

describe('redactSecrets', () => {
  it('hides every string or number under a secret-looking key, at any depth', () => {
    const secretKey = fc.constantFrom(
      'password',
      'newPasskey',
      'currentPasskey',
      'apiKey',
      'X-Api-Key',
      'token',
      'secret',
      'credentials',
    );
    fc.assert(
      fc.property(
        secretKey,
        fc.oneof(fc.string(), fc.double({ noNaN: true })),
        fc.nat({ max: 3 }),
        (k, secret, depth) => {
          let details: unknown = { [k]: secret };
          for (let i = 0; i < depth; i++) details = { wrap: [details] };
          const text = JSON.stringify(redactSecrets(details));
          expect(text).toContain('[redacted]');
          if (typeof secret === 'string' && secret.length > 3)
            expect(text.includes(JSON.stringify(secret))).toBe(false);
        },
      ),
    );
  });

  it('keeps boolean and null settings named after a secret readable', () => {
    expect(redactSecrets({ allowUsersToEnablePasskey: true, passkeySettings: null, newPasskey: 'Pk-1' })).toEqual({
      allowUsersToEnablePasskey: true,
      passkeySettings: null,
      newPasskey: '[redacted]',
    });
  });

  it('hides a whole object under a secret-looking key', () => {
    expect(redactSecrets({ credentials: { userName: 'u', password: 'p' } })).toEqual({ credentials: '[redacted]' });
  });
});
