import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_LEVELS,
  atMost,
  capPowers,
  checkKeyFormat,
  type KeyPowers,
  minAccess,
  newApiKey,
  UNBOUNDED,
  withinCeiling,
} from './api-keys.js';
import { addressAllowed, cidrWithin, parseCidr } from './cidr.js';
import { canonicalIp } from './ip-address.js';
import { apiKeyRef, decodeObjectId, encodeObjectId, numberedRef } from './object-id.js';

describe('object ids', () => {
  it("decode the seed's ids as the product encodes them", () => {
    expect(decodeObjectId('567667324c76345630433a3a3a303a3a3a4f49445f24232140255f56')).toEqual(['Vvg2Lv4V0C', '0']);
    expect(decodeObjectId('313a3a3a3a3a3a303a3a3a4f49445f24232140255f56')).toEqual(['1', '', '0']);
    expect(encodeObjectId([3])).toBe(Buffer.from('3:::OID_$#!@%_V').toString('hex'));
    expect(numberedRef('313a3a3a3a3a3a303a3a3a4f49445f24232140255f56')).toEqual({ by: 'id', id: 1 });
    expect(numberedRef('1')).toEqual({ by: 'id', id: 1 });
    expect(numberedRef('ops')).toEqual({ by: 'name', name: 'ops' });
    expect(apiKeyRef('567667324c76345630433a3a3a303a3a3a4f49445f24232140255f56')).toEqual({
      by: 'prefix',
      prefix: 'Vvg2Lv4V0C',
    });
  });
  it('round-trip any fields, and reject anything that is not one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string().filter((s) => !s.includes(':')),
          { minLength: 1, maxLength: 4 },
        ),
        (fields) => {
          const id = encodeObjectId(fields);
          if (id.length <= 512) expect(decodeObjectId(id)).toEqual(fields);
        },
      ),
    );
    fc.assert(fc.property(fc.string(), (s) => void decodeObjectId(s)));
    for (const s of ['', 'zz', '00', '9'.repeat(11), '0', '-1', '2147483648']) expect(numberedRef(s).by).toBe('name');
  });
});

describe('API key format', () => {
  it('every new key passes its checksum; any one-character change fails it', () => {
    for (let i = 0; i < 50; i++) {
      const { key, prefix } = newApiKey();
      expect(key).toMatch(/^[A-Za-z0-9]{10}\.[A-Za-z0-9_-]{43}$/);
      expect(checkKeyFormat(key)).toBe(prefix);
    }
    const { key } = newApiKey();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: key.length - 1 }), fc.constantFrom(...alphabet), (at, ch) => {
        if (at === 10 || key[at] === ch) return;
        const changed = key.slice(0, at) + ch + key.slice(at + 1);
        expect(checkKeyFormat(changed)).toBeNull();
      }),
    );
  });
});

const access = fc.constantFrom(...ACCESS_LEVELS);
const set = (max: number) =>
  fc.option(
    fc.uniqueArray(fc.integer({ min: 1, max }), { maxLength: 3 }).map((a) => new Set(a)),
    { nil: null },
  );
const powers: fc.Arbitrary<KeyPowers> = fc.record({
  rest: access,
  soap: access,
  callIds: fc.option(
    fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }).map((a) => new Set(a)),
    { nil: null },
  ),
  virtualServers: set(4),
  groups: set(4),
  sources: fc.option(fc.subarray(['10.0.0.0/8', '10.1.0.0/16', '192.168.0.0/24', '::/0']), { nil: null }),
  expiresAt: fc.option(fc.integer({ min: 1, max: 10 }), { nil: null }),
});

describe('a key never exceeds its creator', () => {
  it('within is reflexive and transitive; the unbounded ceiling admits everything', () => {
    fc.assert(
      fc.property(powers, powers, powers, (a, b, c) => {
        expect(withinCeiling(a, a, cidrWithin)).toBe(true);
        expect(withinCeiling(a, UNBOUNDED, cidrWithin)).toBe(true);
        if (withinCeiling(a, b, cidrWithin) && withinCeiling(b, c, cidrWithin)) {
          expect(withinCeiling(a, c, cidrWithin)).toBe(true);
        }
      }),
    );
  });
  it('what a ceiling admits never reaches further on any axis', () => {
    fc.assert(
      fc.property(powers, powers, (k, ceiling) => {
        if (!withinCeiling(k, ceiling, cidrWithin)) return;
        expect(atMost(k.rest, ceiling.rest) && atMost(k.soap, ceiling.soap)).toBe(true);
        if (ceiling.virtualServers)
          expect(k.virtualServers && [...k.virtualServers].every((v) => ceiling.virtualServers?.has(v))).toBe(true);
        if (ceiling.callIds) expect(k.callIds).not.toBeNull();
        if (ceiling.expiresAt !== null) expect(k.expiresAt !== null && k.expiresAt <= ceiling.expiresAt).toBe(true);
      }),
    );
  });
  it("a key's effective access is its own and its owner's", () => {
    fc.assert(
      fc.property(powers, access, (k, owner) => {
        const capped = capPowers(k, owner);
        expect(capped.rest).toBe(minAccess(k.rest, owner));
        expect(atMost(capped.rest, owner) && atMost(capped.rest, k.rest)).toBe(true);
      }),
    );
  });
});

describe('addresses', () => {
  it('CIDR ranges, containment and allowlists', () => {
    expect(parseCidr('10.0.0.1/8')).toBeNull();
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('fe80::/10')).not.toBeNull();
    expect(cidrWithin('10.1.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(cidrWithin('10.0.0.0/8', '10.1.0.0/16')).toBe(false);
    expect(cidrWithin('10.0.0.0/8', '::/0')).toBe(false);
    expect(addressAllowed('::ffff:10.2.3.4', ['10.0.0.0/8'])).toBe(true);
    expect(addressAllowed('11.0.0.1', ['10.0.0.0/8'])).toBe(false);
    expect(addressAllowed('fe80::1', ['fe80::/10'])).toBe(true);
    expect(canonicalIp('FE80:0:0::1')).toBe('fe80::1');
    expect(canonicalIp('1.2.3')).toBeNull();
  });
});
