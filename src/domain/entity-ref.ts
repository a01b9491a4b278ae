import type { EntityRef } from './authz.js';
import { ENTITY_TYPES } from './catalogue.js';

/** Typed id keys of the product (`{"clientId": 2}`), each naming an entity type. */
export const TYPED_ID_KEYS: Readonly<Record<string, number>> = {
  commCellId: ENTITY_TYPES.commcell,
  providerId: ENTITY_TYPES.company,
  clientGroupId: ENTITY_TYPES.clientGroup,
  clientId: ENTITY_TYPES.client,
  applicationId: ENTITY_TYPES.agent,
  appId: ENTITY_TYPES.agent,
  instanceId: ENTITY_TYPES.instance,
  backupsetId: ENTITY_TYPES.backupSet,
  subclientId: ENTITY_TYPES.subclient,
  storagePolicyId: ENTITY_TYPES.storagePolicy,
  schedulePolicyId: ENTITY_TYPES.schedulePolicy,
  alertId: ENTITY_TYPES.alert,
  workflowId: ENTITY_TYPES.workflow,
  planId: ENTITY_TYPES.plan,
};

const KNOWN_TYPES = new Set<number>(Object.values(ENTITY_TYPES));

function wholeNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 2_147_483_647 ? v : null;
  if (typeof v === 'string' && /^\d{1,10}$/.test(v)) return wholeNumber(Number(v));
  return null;
}

/**
 * An entity named the ways the product accepts: `{entityType, entityId}`
 * (with `_type_: 150`), or a typed id such as `{clientId}` or `{planId}`.
 * Null when it names none, or names it badly.
 */
export function parseEntityRef(obj: Record<string, unknown>): EntityRef | null {
  if (obj.entityType !== undefined || obj.entityId !== undefined) {
    const type = wholeNumber(obj.entityType);
    const id = wholeNumber(obj.entityId);
    return type !== null && id !== null && KNOWN_TYPES.has(type) ? { type, id } : null;
  }
  for (const [key, type] of Object.entries(TYPED_ID_KEYS)) {
    if (obj[key] === undefined) continue;
    const id = wholeNumber(obj[key]);
    return id === null ? null : { type, id };
  }
  return null;
}

/** OVERWRITE=1, ADD=2, DELETE=3, by name (any case) or number. */
export type AssociationOp = 'OVERWRITE' | 'ADD' | 'DELETE';
export function parseAssociationOp(v: unknown): AssociationOp | null {
  // Only a string or a number names one: String() of an object sent as JSON would run its own toString.
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const s = String(v).trim().toUpperCase();
  if (s === '1' || s === 'OVERWRITE') return 'OVERWRITE';
  if (s === '2' || s === 'ADD') return 'ADD';
  if (s === '3' || s === 'DELETE') return 'DELETE';
  return null;
}
