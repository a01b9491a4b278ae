import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ADMIN_PASSWORD, b64, type TestApp } from './harness.js';

/** How a file-devices call authenticates. */
export type FdAuth =
  | { key: string }
  | { user: string; password: string; scheme: 'subsystem' | 'basic' }
  | { headers: Record<string, string> }
  | null;

export const ADMIN_BASIC: FdAuth = { user: 'admin', password: ADMIN_PASSWORD, scheme: 'basic' };
export const ADMIN_SUBSYSTEM: FdAuth = { user: 'admin', password: ADMIN_PASSWORD, scheme: 'subsystem' };
export const USER_PASSWORD = 'Storage-Passw0rd!';

export function authHeaders(auth: FdAuth): Record<string, string> {
  if (auth === null) return {};
  if ('key' in auth) return { 'x-api-key': auth.key };
  if ('headers' in auth) return auth.headers;
  if (auth.scheme === 'subsystem') return { 'x-subsystem-user': auth.user, 'x-subsystem-password': auth.password };
  return { authorization: `Basic ${b64(`${auth.user}:${auth.password}`)}` };
}

/** A JSON call under /v9/storage. */
export function fd(
  t: TestApp,
  method: string,
  path: string,
  auth: FdAuth,
  body?: unknown,
  ip?: string,
): Promise<LightMyRequestResponse> {
  return t.inject({
    method: method as 'GET',
    url: `/v9/storage/${path}`,
    headers: { accept: 'application/json', ...authHeaders(auth) },
    ...(body === undefined ? {} : { payload: body as object }),
    ...(ip ? { remoteAddress: ip } : {}),
  });
}

/** Creates a CommCell user with `role` on the CommCell (none: no association); returns its id. */
export async function commCellUser(t: TestApp, admin: string, name: string, role: string | null): Promise<number> {
  const res = await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: name }, email: `${name}@example.com`, password: b64(USER_PASSWORD) }],
  });
  const id = res.json().response[0].entity.userId as number;
  if (role) await setRole(t, admin, name, role, 'ADD');
  return id;
}

export async function setRole(t: TestApp, admin: string, name: string, role: string, op: 'ADD' | 'DELETE') {
  const res = await t.call('POST', '/Security', admin, {
    entityAssociated: { entity: [{ commCellId: 0 }] },
    securityAssociations: {
      associationsOperationType: op,
      associations: [{ userOrGroup: [{ userName: name }], properties: { role: { roleName: role } } }],
    },
  });
  expect(res.statusCode).toBe(200);
}

export const userAuth = (name: string, scheme: 'subsystem' | 'basic' = 'basic'): FdAuth => ({
  user: name,
  password: USER_PASSWORD,
  scheme,
});

/** Mints a key through the API; returns the key and its object id. */
export async function mintKey(t: TestApp, body: Record<string, unknown>, auth: FdAuth = ADMIN_BASIC) {
  const res = await fd(t, 'POST', 'file-devices/management/api-keys', auth, body);
  expect(res.statusCode, res.body).toBe(201);
  const json = res.json();
  return { key: json.key as string, objectId: json.apiKey.objectId as string, apiKey: json.apiKey };
}

export async function createVs(t: TestApp, name: string, ip: string, auth: FdAuth = ADMIN_BASIC) {
  const res = await fd(t, 'POST', 'virtual-servers', auth, {
    name,
    nodeId: 1,
    ipAddress: ip,
    netmask: '255.255.255.0',
    port: 'ag1',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().virtualServer as { virtualServerId: number; objectId: string; name: string };
}
