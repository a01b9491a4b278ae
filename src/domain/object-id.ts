/**
 * Object ids as the file-devices product encodes them: lowercase hex of the
 * UTF-8 of `<fields joined by ":::">:::OID_$#!@%_V`. An API key's id holds
 * its prefix and `0` (`Vvg2Lv4V0C:::0:::OID_$#!@%_V`), an API key group's its
 * index, an empty field and `0` (`1::::::0:::OID_$#!@%_V`), a virtual
 * server's its id (`3:::OID_$#!@%_V`).
 */
const SUFFIX = 'OID_$#!@%_V';
const SEP = ':::';

export function encodeObjectId(fields: readonly (string | number)[]): string {
  return Buffer.from([...fields.map(String), SUFFIX].join(SEP), 'utf8').toString('hex');
}

/** The fields of an object id, or null when `s` is not one. */
export function decodeObjectId(s: string): string[] | null {
  if (s.length < 2 * (SUFFIX.length + SEP.length) || s.length % 2 !== 0 || s.length > 512 || !/^[0-9a-f]+$/.test(s)) {
    return null;
  }
  const text = Buffer.from(s, 'hex').toString('utf8');
  if (!text.endsWith(SEP + SUFFIX)) return null;
  return text.slice(0, -(SEP.length + SUFFIX.length)).split(SEP);
}

export const apiKeyObjectId = (prefix: string) => encodeObjectId([prefix, 0]);
export const groupObjectId = (index: number) => encodeObjectId([index, '', 0]);
export const virtualServerObjectId = (id: number) => encodeObjectId([id]);

/**
 * How a path segment or a list entry names an object: by object id (its
 * first field), by plain id/index, or by name. Ids are positive integers
 * below 2^31, which both stores hold.
 */
export type ObjectRef = { by: 'id'; id: number } | { by: 'name'; name: string } | { by: 'prefix'; prefix: string };

const asId = (s: string): number | null => (/^[1-9][0-9]{0,9}$/.test(s) && Number(s) < 2 ** 31 ? Number(s) : null);

/** A reference to a numbered object (a group, a virtual server): object id, number, or name. */
export function numberedRef(s: string): ObjectRef {
  const fields = decodeObjectId(s);
  if (fields) {
    const id = asId(fields[0] ?? '');
    return id === null ? { by: 'name', name: '\u0000' } : { by: 'id', id };
  }
  const id = asId(s);
  return id === null ? { by: 'name', name: s } : { by: 'id', id };
}

/** A reference to an API key: its object id or its prefix; anything else names no key (and is never looked up). */
export function apiKeyRef(s: string): ObjectRef {
  const fields = decodeObjectId(s);
  const prefix = fields ? (fields[0] ?? '') : s;
  return /^[A-Za-z0-9]{10}$/.test(prefix) ? { by: 'prefix', prefix } : { by: 'name', name: '\u0000' };
}
