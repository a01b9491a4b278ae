import { isIP } from 'node:net';

/** An address range: family, first address as a bigint, prefix length. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

function v4(s: string): bigint {
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6(s: string): bigint | null {
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const n = v4(tail[1] as string);
    text = `${text.slice(0, -(tail[1] as string).length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** The address as a number and family; null when not an IP address. */
export function parseAddress(addr: string): { family: 4 | 6; value: bigint } | null {
  const family = isIP(addr);
  if (family === 4) return { family, value: v4(addr) };
  if (family === 6) {
    const value = v6(addr.toLowerCase());
    return value === null ? null : { family, value };
  }
  return null;
}

/** `a.b.c.d/n` or `x::y/n` (a bare address is /32 or /128); null when malformed or host bits are set. */
export function parseCidr(s: string): Cidr | null {
  if (s.length > 64) return null;
  const [addr, len, extra] = s.split('/');
  if (extra !== undefined || !addr) return null;
  const a = parseAddress(addr);
  if (!a) return null;
  const width = a.family === 4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return null;
  const bits = len === undefined ? width : Number(len);
  if (bits > width) return null;
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((a.value & hostMask) !== 0n) return null;
  return { family: a.family, base: a.value, bits };
}

export function cidrContains(c: Cidr, family: 4 | 6, value: bigint): boolean {
  if (c.family !== family) return false;
  const width = family === 4 ? 32 : 128;
  return value >> BigInt(width - c.bits) === c.base >> BigInt(width - c.bits);
}

/** Whether the range `inner` lies inside `outer` (both well-formed CIDR text). */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  return !!i && !!o && i.family === o.family && i.bits >= o.bits && cidrContains(o, i.family, i.base);
}

/** Whether `addr` is inside any of `cidrs`; an IPv4-mapped IPv6 address counts as its IPv4 address. */
export function addressAllowed(addr: string, cidrs: readonly string[]): boolean {
  let a = parseAddress(addr);
  if (!a) return false;
  if (a.family === 6 && a.value >> 32n === 0xffffn) a = { family: 4, value: a.value & 0xffffffffn };
  const { family, value } = a;
  return cidrs.some((c) => {
    const p = parseCidr(c);
    return p !== null && cidrContains(p, family, value);
  });
}
