import { XMLParser } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';

export class XmlError extends Error {
  constructor(
    message: string,
    readonly kind: 'malformed' | 'doctype',
  ) {
    super(message);
  }
}

// DTDs are how entity bombs and external entities get in; CommServe messages
// never carry one, so any declaration is refused before the parser sees it.
const DTD = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // The predefined entities and character references (&amp; &#233;); saxes has
  // already refused any other entity.
  processEntities: true,
  htmlEntities: true,
  maxNestedTags: 64,
});

export interface XmlMessage {
  root: string;
  value: Record<string, unknown>;
}

/** Parses one XML message: its root element's name and its content as a plain object. */
export function parseXmlMessage(text: string): XmlMessage {
  if (DTD.test(text)) throw new XmlError('XML with a DOCTYPE or entity declarations is not accepted', 'doctype');
  checkWellFormed(text);
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new XmlError(`malformed XML: ${(e as Error).message}`, 'malformed');
  }
  const roots = Object.keys(parsed);
  if (roots.length !== 1) throw new XmlError('an XML message must have exactly one root element', 'malformed');
  const root = roots[0] as string;
  const value = parsed[root];
  if (Array.isArray(value)) throw new XmlError('an XML message must have exactly one root element', 'malformed');
  return { root, value: emptyToObject(value) as Record<string, unknown> };
}

/**
 * Strict well-formedness, by a conforming parser (saxes): one root element and
 * nothing but comments and processing instructions around it, balanced tags,
 * quoted attributes, only defined entities. fast-xml-parser's own validator
 * lets `<a/><b/>` and `<a/>junk` through, and its parser then drops the rest.
 */
function checkWellFormed(text: string): void {
  const sax = new SaxesParser({ position: true });
  let first: string | null = null;
  sax.on('error', (e) => {
    first ??= e.message;
  });
  sax.on('doctype', () => {
    throw new XmlError('XML with a DOCTYPE or entity declarations is not accepted', 'doctype');
  });
  try {
    sax.write(text).close();
  } catch (e) {
    if (e instanceof XmlError) throw e;
    first ??= (e as Error).message;
  }
  if (first !== null) {
    // saxes says "line:column: message".
    const m = /^(\d+):(\d+): (.*)$/s.exec(first);
    throw new XmlError(
      m ? `malformed XML at line ${m[1]}, column ${m[2]}: ${m[3]}` : `malformed XML: ${first}`,
      'malformed',
    );
  }
}

/**
 * `<passkeyExpirationInterval/>` parses to "", but it names a structure, not
 * a text: CommServe messages carry their scalars in attributes.
 */
function emptyToObject(v: unknown): unknown {
  if (v === '') return {};
  if (Array.isArray(v)) return v.map(emptyToObject);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = emptyToObject(x);
    return out;
  }
  return v;
}

/**
 * Serializes a reply the way CommServe does: scalars become attributes,
 * objects child elements, arrays repeated elements (a list of scalars, one
 * element of text each). Written here rather than by fast-xml-parser's
 * XMLBuilder, whose defaults write `true` as a bare attribute, use keys as
 * names unchecked and treat `?…`, `#text` and `@_…` keys specially: every
 * reply is well-formed XML 1.0 whatever text or keys it carries.
 *
 * - Text and attribute values are escaped (`& < > " '`); tab, line feed and
 *   carriage return as character references, so attribute-value and line-end
 *   normalization do not change them.
 * - Characters XML 1.0 cannot carry at all, even as references (C0 controls
 *   other than tab, LF and CR; lone surrogates; U+FFFE, U+FFFF), are written
 *   as U+FFFD. JSON replies carry them exactly.
 * - A key that is not an XML name has each offending character replaced by
 *   `_` (and `_` put in front when it cannot start a name); should that make
 *   two attributes of one element alike, the later takes a numbered suffix.
 */
export function buildXml(root: string, body: Record<string, unknown>): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  writeElement(out, xmlName(root), body);
  return out.join('');
}

function writeElement(out: string[], name: string, obj: Record<string, unknown>): void {
  const attrs: string[] = [];
  const children: Array<[string, unknown]> = [];
  const used = new Set<string>();
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) || isObject(v)) {
      children.push([xmlName(k), v]);
      continue;
    }
    let attr = xmlName(k);
    if (used.has(attr)) {
      let n = 2;
      while (used.has(`${attr}_${n}`)) n++;
      attr = `${attr}_${n}`;
    }
    used.add(attr);
    attrs.push(` ${attr}="${xmlText(scalarText(v))}"`);
  }
  out.push(`<${name}`, ...attrs);
  if (children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const [child, v] of children) {
    if (!Array.isArray(v)) {
      writeElement(out, child, v as Record<string, unknown>);
      continue;
    }
    for (const item of v) {
      if (item === undefined || item === null) continue;
      if (isObject(item)) writeElement(out, child, item);
      else if (Array.isArray(item)) writeElement(out, child, {});
      else {
        const text = xmlText(scalarText(item));
        out.push(text === '' ? `<${child}/>` : `<${child}>${text}</${child}>`);
      }
    }
  }
  out.push(`</${name}>`);
}

function scalarText(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** Characters that need escaping, or that XML 1.0 cannot hold (a lone surrogate, with the u flag). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const SPECIAL = /[&<>"'\t\n\r\u0000-\u001f\ufffe\uffff\ud800-\udfff]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const SPECIAL_ALL = /[&<>"'\t\n\r\u0000-\u001f\ufffe\uffff\ud800-\udfff]/gu;
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Text safe both as element content and inside a double-quoted attribute. */
export function xmlText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? '\ufffd');
}

// XML 1.0's NameStartChar and NameChar, less the colon (a namespace prefix
// would need declaring).
const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_REST = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME = new RegExp(`^[${NAME_START}][${NAME_REST}]*$`, 'u');
const NOT_NAME_CHAR = new RegExp(`[^${NAME_REST}]`, 'gu');
const NAME_START_CHAR = new RegExp(`^[${NAME_START}]`, 'u');

/** A key as an XML element or attribute name (CommServe's keys already are). */
export function xmlName(key: string): string {
  if (NAME.test(key)) return key;
  const name = key.replace(NOT_NAME_CHAR, '_');
  return NAME_START_CHAR.test(name) ? name : `_${name}`;
}
