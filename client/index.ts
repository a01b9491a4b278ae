import createClient, { type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/**
 * A typed client of both dialects (openapi-fetch over the generated types):
 * `client.GET('/commandcenter/api/WhoAmI')`, `client.POST('/v9/storage/…', { body })`.
 * Pass the credentials as headers: `Authtoken` for the CommServe dialect,
 * `X-Api-Key` (or `Authorization: Basic …`) for the file-devices dialect.
 */
export function bulwarkClient(baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}) {
  // JSON replies: the XML forms are in the reference, but a typed client reads JSON.
  return createClient<paths, 'application/json'>({ ...options, baseUrl });
}
