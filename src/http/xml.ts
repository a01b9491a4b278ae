import { XMLBuilder, XMLParser } from 'fast-xml-parser';
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

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  suppressEmptyNode: true,
  format: false,
  processEntities: true,
});

/**
 * Serializes a reply the way CommServe does: scalars become attributes,
 * objects child elements, arrays repeated elements.
 */
export function buildXml(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [root]: toBuilderShape(body) })}`;
}

function toBuilderShape(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      out[k] = v.map((item) => (isObject(item) ? toBuilderShape(item) : { '#text': String(item) }));
    } else if (isObject(v)) {
      out[k] = toBuilderShape(v);
    } else {
      out[`@_${k}`] = String(v);
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
