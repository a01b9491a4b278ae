import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from './codec.js';

describe('nestsDeeperThan', () => {
  it('counts open arrays and objects, not brackets inside strings', () => {
    expect(nestsDeeperThan('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[1,{"b":2}]}', 2)).toBe(true);
    expect(nestsDeeperThan(`{"a":"${'['.repeat(1000)}"}`, 1)).toBe(false);
    expect(nestsDeeperThan(`{"a":"\\"${'['.repeat(10)}"}`, 1)).toBe(false);
    expect(nestsDeeperThan('[]'.repeat(1000), 1)).toBe(false);
  });

  it('measures malformed text too: a run of brackets that never closes', () => {
    expect(nestsDeeperThan('['.repeat(5000), 64)).toBe(true);
    expect(nestsDeeperThan('['.repeat(64), 64)).toBe(false);
    expect(nestsDeeperThan(`${'['.repeat(65)},`, 64)).toBe(true);
  });
});
