import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ParseError, parse as parseJsonc } from 'jsonc-parser';
import { drainRequest } from '../http/drain.js';
import { FROM_XML } from '../http/validation.js';
import { buildXml, parseXmlMessage, XmlError } from '../http/xml.js';
import { CsError } from './errors.js';

export type BodyFormat = 'json' | 'xml' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the CommServe body arrived: decides how secrets in it are encoded. */
    csFormat: BodyFormat;
    /** The message name: the XML root element or the JSON wrapper key, when there was one. */
    csRoot: string | null;
  }
  interface FastifyContextConfig {
    /** No Authtoken needed (Login, the base URL). */
    public?: boolean;
    /** Message names this route accepts; a JSON body wrapped in one of them is unwrapped. */
    roots?: readonly string[];
    /** The reply shape of an error on this route, when it is not App_GenericResp. */
    errorReply?: (
      code: number,
      message: string,
      extra: Record<string, unknown>,
      req: FastifyRequest,
    ) => [string, Record<string, unknown>];
  }
}

/**
 * Strict JSON, with one leniency: trailing commas. The product's own
 * documentation sends them (the POST Security sample ends `"roleId": 3, }`),
 * so clients copied from it must work. Nothing else non-standard is taken.
 */
function parseJson(text: string): unknown {
  // Before either parser: jsonc-parser recurses per level and overflows the
  // stack on a few thousand '[' (a 500), and canonicalizeJson would refuse the
  // depth anyway.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new CsError('MALFORMED_JSON', `JSON nested more than ${MAX_JSON_DEPTH} levels deep is not accepted`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const errors: ParseError[] = [];
    const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: true });
    if (errors.length === 0 && !/"__proto__"\s*:/.test(text)) return value;
    throw new CsError('MALFORMED_JSON', `malformed JSON: ${(e as Error).message}`);
  }
}

/**
 * Whether JSON text opens more than `max` arrays or objects at once, by one
 * linear scan that skips strings (their brackets are text). Malformed text is
 * measured the same way; the parsers then say what else is wrong with it.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* backslash: skip what it escapes */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** Keys that would reach an object's prototype if copied naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * No CommServe message nests this deep (XML has the same limit); deeper JSON is
 * refused before the recursion below can exhaust the stack (a 500).
 */
const MAX_JSON_DEPTH = 64;

/**
 * JSON to the canonical object: a leading underscore is dropped from keys
 * (`_passkey` = `passkey`; `_type_` stays as it is), the plain key winning a clash.
 */
export function canonicalizeJson(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) {
    throw new CsError('MALFORMED_JSON', `JSON nested more than ${MAX_JSON_DEPTH} levels deep is not accepted`);
  }
  if (Array.isArray(value)) return value.map((v) => canonicalizeJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (FORBIDDEN_KEYS.has(key)) throw new CsError('MALFORMED_JSON', `the key "${key}" is not allowed`);
    const plain = key !== '_type_' && key.startsWith('_') ? key.slice(1) : key;
    if (FORBIDDEN_KEYS.has(plain)) throw new CsError('MALFORMED_JSON', `the key "${key}" is not allowed`);
    if (plain !== key && Object.hasOwn(value, plain)) continue;
    out[plain] = canonicalizeJson(v, depth + 1);
  }
  return out;
}

function rejectForbiddenKeys(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) rejectForbiddenKeys(v);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(k)) throw new CsError('MALFORMED_XML', `the name "${k}" is not allowed`);
    rejectForbiddenKeys(v);
  }
}

function unwrap(req: FastifyRequest, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CsError('BAD_REQUEST', 'the body must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  const roots = req.routeOptions.config.roots ?? [];
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const root = roots.find((r) => r.toLowerCase() === (keys[0] as string).toLowerCase());
    const inner = obj[keys[0] as string];
    if (root && inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      req.csRoot = root;
      return inner as Record<string, unknown>;
    }
  }
  return obj;
}

/**
 * A JSON body's text to the canonical object, before any route looks at it;
 * refusals are CsErrors (what `npm run fuzz` drives, scripts/fuzz-codec.ts).
 */
export function decodeJson(text: string): unknown {
  return canonicalizeJson(parseJson(text));
}

/** An XML body's text to its root and canonical object; refusals are CsErrors. */
export function decodeXml(text: string): ReturnType<typeof parseXmlMessage> {
  let msg: ReturnType<typeof parseXmlMessage>;
  try {
    msg = parseXmlMessage(text);
  } catch (e) {
    if (e instanceof XmlError) {
      throw new CsError(e.kind === 'doctype' ? 'XML_DOCTYPE' : 'MALFORMED_XML', e.message);
    }
    throw e;
  }
  rejectForbiddenKeys(msg.value);
  return msg;
}

/**
 * Registers the CommServe body parsers on an encapsulated instance: JSON and
 * XML both become one canonical object, anything else is 415. Bodies are read
 * as strings so Fastify's body limit applies before any parsing; a refused
 * body is drained before its reply (http/drain.ts).
 */
export function registerCommServeParsers(app: FastifyInstance): void {
  app.decorateRequest('csFormat', 'none');
  app.decorateRequest('csRoot', null);
  // A request refused before its body was read (413 on Content-Length, 415,
  // 401) is answered once the client has sent the rest, so it can read the reply.
  app.addHook('onError', async (req) => {
    await drainRequest(req.raw);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    try {
      req.csFormat = 'json';
      const text = (body as string).trim();
      if (text === '') return done(null, {});
      done(null, unwrap(req, decodeJson(text)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (req, body, done) => {
    try {
      req.csFormat = 'xml';
      const text = (body as string).trim();
      // cvpysdk sends body-less POSTs (Logout, WhoAmI) as application/xml.
      if (text === '') return done(null, {});
      const msg = decodeXml(text);
      const roots = req.routeOptions.config.roots;
      if (roots && roots.length > 0) {
        const root = roots.find((r) => r.toLowerCase() === msg.root.toLowerCase());
        if (!root) {
          throw new CsError('WRONG_MESSAGE', `expected ${roots.join(' or ')}, got ${msg.root}`);
        }
        req.csRoot = root;
      } else {
        req.csRoot = msg.root;
      }
      Object.defineProperty(msg.value, FROM_XML, { value: true });
      done(null, msg.value);
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** Whether the client asked for XML: the highest-q of the types we speak wins; JSON by default. */
export function wantsXml(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { xml: boolean; q: number } | null = null;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q') q = Number(v) || 0;
    }
    let xml: boolean | null = null;
    if (type === 'application/xml' || type === 'text/xml') xml = true;
    else if (type === 'application/json' || type === '*/*' || type === 'application/*') xml = false;
    if (xml === null || q <= 0) continue;
    if (!best || q > best.q) best = { xml, q };
  }
  return best?.xml ?? false;
}

/** Sends a CommServe reply: the bare body as JSON, or `<root …/>` as XML, as Accept asks. */
export function sendCs(
  req: FastifyRequest,
  reply: FastifyReply,
  root: string,
  body: Record<string, unknown>,
  status = 200,
): FastifyReply {
  reply.code(status);
  if (wantsXml(req.headers.accept)) {
    return reply.type('application/xml; charset=utf-8').send(buildXml(root, body));
  }
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A secret from a CommServe body: plain text in XML, base64 of UTF-8 in JSON.
 * Bad base64 or bytes that are not UTF-8 are refused, never decoded loosely.
 */
export function readSecret(req: FastifyRequest, value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'number' ? String(value) : value;
  if (typeof s !== 'string') throw new CsError('BAD_REQUEST', `${field} must be a string`);
  if (req.csFormat !== 'json') return s;
  const compact = s.trim();
  if (!BASE64.test(compact)) throw new CsError('BAD_BASE64', `${field} is not valid base64`);
  try {
    return utf8.decode(Buffer.from(compact, 'base64'));
  } catch {
    throw new CsError('BAD_BASE64', `${field} does not decode to UTF-8 text`);
  }
}
