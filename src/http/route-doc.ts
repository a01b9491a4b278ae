import { type TSchema, Type } from '@sinclair/typebox';

/**
 * What the API reference (/openapi.json) says about one route beside its own
 * validation schema. It is documentation only: Fastify never sees it, so it
 * neither validates a request nor filters a reply (a response schema on the
 * route would make Fastify's serializer drop every field it does not name).
 * Each route family keeps its docs in a `schema.ts` beside its routes, keyed
 * by `METHOD /path` as the route is registered under its dialect's prefix.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Query parameters the handler reads, when the route has no `querystring` schema of its own. */
  query?: TSchema;
  /**
   * The request body when the route has no `body` schema of its own (the
   * handler checks it); `null`: the route takes no body.
   */
  body?: TSchema | null;
  /** The body's media type when it is neither JSON nor XML (JSON lines: `application/x-ndjson`). */
  bodyType?: string;
  /** An example request body, as JSON (as text for a `bodyType`); required when the route takes a body. */
  bodyExample?: unknown;
  /** An example of the success reply, as JSON. */
  example: unknown;
  /** The success reply's schema; inferred loosely from `example` when not given. */
  reply?: TSchema;
  /** CommServe: the XML root element of the success reply. */
  root?: string;
  /** The success reply's media type when it is not JSON (operations routes). */
  contentType?: string;
  /** The success status; 200 unless given. */
  status?: number;
  /** The route answers 429 (a login throttle). */
  throttled?: boolean;
}

export type RouteDocs = Readonly<Record<string, RouteDoc>>;

/**
 * A loose schema of a JSON value, from an example of it: the types of the
 * fields the example shows, none required, others allowed. For replies whose
 * shape is the product's and wide (cvpysdk reads a few keys of many).
 */
export function looseSchemaOf(value: unknown, depth = 0): TSchema {
  if (value === null) return Type.Null();
  if (Array.isArray(value)) {
    return Type.Array(value.length > 0 && depth < 12 ? looseSchemaOf(value[0], depth + 1) : Type.Unknown());
  }
  switch (typeof value) {
    case 'string':
      return Type.String();
    case 'number':
      return Number.isInteger(value) ? Type.Integer() : Type.Number();
    case 'boolean':
      return Type.Boolean();
    case 'object': {
      const props: Record<string, TSchema> = {};
      if (depth < 12) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          props[k] = Type.Optional(looseSchemaOf(v, depth + 1));
        }
      }
      // Other fields are allowed (JSON Schema's default); saying so outright would
      // give every generated client type an index signature that hides the named fields.
      return Type.Object(props);
    }
    default:
      return Type.Unknown();
  }
}
