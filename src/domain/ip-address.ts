import { isIP } from 'node:net';

/**
 * The one text form of an IP address (what is stored, compared and returned):
 * IPv4 dotted decimal, IPv6 lowercase and compressed as RFC 5952 writes it
 * (the WHATWG URL serializer does exactly that). Null for anything else (zone
 * ids, leading zeros, hex or shortened IPv4).
 */
export function canonicalIp(s: string): string | null {
  if (s.length > 45) return null;
  const family = isIP(s);
  if (family === 4) return /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(s) ? s : null;
  if (family !== 6 || s.includes('%')) return null;
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** A netmask: dotted IPv4 with contiguous ones, or a prefix length (0-32 for IPv4, 0-128 for IPv6). */
export function canonicalNetmask(mask: string, family: 4 | 6): string | null {
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= (family === 4 ? 32 : 128) ? String(Number(mask)) : null;
  if (family !== 4 || canonicalIp(mask) === null || isIP(mask) !== 4) return null;
  const n = mask.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const inverted = 2 ** 32 - 1 - n;
  // Contiguous ones: the inverted mask is 2^k - 1.
  return (inverted & (inverted + 1)) === 0 ? mask : null;
}
