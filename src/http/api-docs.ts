import { Type } from '@sinclair/typebox';
import { AUDIT_DOCS } from '../commserve/audit/schema.js';
import { BASE_DOCS } from '../commserve/base/schema.js';
import { BROWSE_DOCS } from '../commserve/browse/schema.js';
import { CATALOGUE_DOCS } from '../commserve/catalogue/schema.js';
import { CREDENTIALS_DOCS } from '../commserve/credentials/schema.js';
import { ENTITY_DOCS } from '../commserve/entity/schema.js';
import { LOGIN_DOCS } from '../commserve/login/schema.js';
import { ORGANIZATION_DOCS } from '../commserve/organization/schema.js';
import { PASSKEY_DOCS } from '../commserve/passkey/schema.js';
import { ROLE_DOCS } from '../commserve/role/schema.js';
import { SECURITY_DOCS } from '../commserve/security/schema.js';
import { USER_DOCS } from '../commserve/user/schema.js';
import { USERGROUP_DOCS } from '../commserve/usergroup/schema.js';
import { API_KEY_GROUPS_DOCS } from '../filedevices/api-key-groups/schema.js';
import { API_KEYS_DOCS } from '../filedevices/api-keys/schema.js';
import { DEVICE_DOCS } from '../filedevices/device/schema.js';
import { MANAGEMENT_DOCS } from '../filedevices/management/schema.js';
import { VIRTUAL_SERVERS_DOCS } from '../filedevices/virtual-servers/schema.js';
import type { RouteDocs } from './route-doc.js';

/** The routes outside both dialects: health, readiness, metrics and the reference itself. */
export const OPERATIONS_DOCS: RouteDocs = {
  'GET /healthz': {
    summary: 'Liveness: the process answers',
    description: 'Public. 200 while the process serves requests; says nothing about the database.',
    example: { status: 'ok' },
  },
  'GET /readyz': {
    summary: 'Readiness: the database answers and the permission view is loaded',
    description:
      'Public. 503 `{"status":"not ready","reason"}` until both hold: route traffic to a node only when 200.',
    example: { status: 'ready' },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description:
      'Served to connections from this host, or to any caller sending `Authorization: Bearer` with BULWARK_METRICS_TOKEN; others get 403.',
    example: '# HELP bulwark_http_requests_total Requests answered\n# TYPE bulwark_http_requests_total counter\n',
    reply: Type.String(),
    contentType: 'text/plain',
  },
  'GET /openapi.json': {
    summary: 'This API reference (OpenAPI 3.1)',
    description: 'Public unless BULWARK_API_DOCS=false. The /docs page renders it.',
    example: { openapi: '3.1.0', info: { title: 'Bulwark', version: '0.1.0' }, paths: {} },
  },
};

/**
 * Every route's docs by dialect, each family's from the `schema.ts` beside its
 * routes. A route added without docs fails test/api-docs.test.ts, which says what to add.
 */
export const API_DOCS: Record<'commserve' | 'file-devices' | 'operations', RouteDocs> = {
  commserve: {
    ...BASE_DOCS,
    ...LOGIN_DOCS,
    ...ORGANIZATION_DOCS,
    ...USER_DOCS,
    ...AUDIT_DOCS,
    ...SECURITY_DOCS,
    ...ROLE_DOCS,
    ...USERGROUP_DOCS,
    ...BROWSE_DOCS,
    ...PASSKEY_DOCS,
    ...CREDENTIALS_DOCS,
    ...ENTITY_DOCS,
    ...CATALOGUE_DOCS,
  },
  'file-devices': {
    ...DEVICE_DOCS,
    ...MANAGEMENT_DOCS,
    ...API_KEYS_DOCS,
    ...API_KEY_GROUPS_DOCS,
    ...VIRTUAL_SERVERS_DOCS,
  },
  operations: OPERATIONS_DOCS,
};
