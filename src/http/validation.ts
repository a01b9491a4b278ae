import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/** Marks a body decoded from XML, where every scalar is text and a lone element may stand for a list. */
export const FROM_XML: unique symbol = Symbol('bulwark.fromXml');

const base = { useDefaults: true, allErrors: false, strict: false } as const;
// JSON says what its types are: no coercion, so ["admin"] is not "admin" and
// 42 is not "42". Schemas that allow "1" or "true" say so (see commserve/schema.ts).
const jsonAjv = new Ajv({ ...base, coerceTypes: false });
// XML and query strings carry only text, and a single element cannot say it
// is a list of one: coerce scalars, and wrap lone values where a list is expected.
const textAjv = new Ajv({ ...base, coerceTypes: 'array' });

/**
 * Fastify's validator compiler: bodies are checked strictly when they came as
 * JSON and leniently when they came as XML; query strings and path
 * parameters (always text) leniently.
 */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const text = textAjv.compile(schema);
  if (httpPart !== 'body') return text;
  const json = jsonAjv.compile(schema);
  const validate = ((data: unknown) => {
    const xml = data !== null && typeof data === 'object' && (data as Record<symbol, unknown>)[FROM_XML] === true;
    if (xml) wrapLoneElements(schema as Schema, data);
    const chosen: ValidateFunction = xml ? text : json;
    const ok = chosen(data);
    validate.errors = chosen.errors;
    return ok;
  }) as ValidateFunction;
  return validate;
};

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
}

/**
 * In XML a list of one is a lone element: where the schema expects an array
 * and the body holds one object, make it the list of one it stands for.
 * (Ajv's 'array' coercion does this for scalars only.)
 */
function wrapLoneElements(schema: Schema, data: unknown): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return;
  const obj = data as Record<string, unknown>;
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const v = obj[key];
    if (v === undefined || v === null || typeof v !== 'object') continue;
    if (sub.type === 'array') {
      const list = Array.isArray(v) ? v : [v];
      obj[key] = list;
      if (sub.items) for (const item of list) wrapLoneElements(sub.items, item);
    } else {
      for (const branch of [sub, ...(sub.anyOf ?? [])]) wrapLoneElements(branch, v);
    }
  }
}
