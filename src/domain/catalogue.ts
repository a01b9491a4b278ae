/**
 * The permission catalogue and the built-in roles. Names are the product's
 * where it has one; a role is a named set of these.
 */
export const PERMISSIONS = [
  'View',
  'Browse',
  'In Place Restore',
  'Out-of-Place Restore',
  'Data Protection',
  'Agent Management',
  'Administrative Management',
  'User Management',
  'Security Management',
  'Credential Management',
  'Passkey Management',
  'Audit View',
  'Plan Management',
  'Storage Management',
  'Alert Management',
  'Workflow Management',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const TENANT_ADMIN: Permission[] = PERMISSIONS.filter((p) => p !== 'Storage Management');
const OPERATOR: Permission[] = [
  'View',
  'Browse',
  'In Place Restore',
  'Out-of-Place Restore',
  'Data Protection',
  'Agent Management',
];

/** Built-in roles with fixed ids (cvpysdk scripts and the product's docs name them by id too). */
export const BUILTIN_ROLES: ReadonlyArray<{
  id: number;
  name: string;
  description: string;
  permissions: readonly Permission[];
}> = [
  {
    id: 1,
    name: 'Master',
    description: 'Every permission on everything beneath the association',
    permissions: PERMISSIONS,
  },
  {
    id: 2,
    name: 'Tenant Admin',
    description: "Administers a company's entities, users and security",
    permissions: TENANT_ADMIN,
  },
  { id: 3, name: 'Tenant Operator', description: 'Runs backups and restores, manages agents', permissions: OPERATOR },
  {
    id: 4,
    name: 'Restore Operator',
    description: 'Browses and restores',
    permissions: ['View', 'Browse', 'In Place Restore', 'Out-of-Place Restore'],
  },
  { id: 5, name: 'View', description: 'Sees entities and their properties', permissions: ['View'] },
];

export function isPermission(name: string): name is Permission {
  return (PERMISSIONS as readonly string[]).includes(name);
}

/** Entity type numbers of the product, and the names used in imports and replies. */
export const ENTITY_TYPES = {
  commcell: 1,
  company: 61,
  clientGroup: 28,
  client: 3,
  agent: 4,
  instance: 5,
  backupSet: 6,
  subclient: 7,
  storagePolicy: 17,
  schedulePolicy: 35,
  alert: 64,
  workflow: 83,
  plan: 158,
} as const;

export type EntityTypeName = keyof typeof ENTITY_TYPES;
