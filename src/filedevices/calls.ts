/**
 * The call ids of the file-devices dialect: a CALLID_RESTRICTED key may make
 * only the calls its `allowedCallIds` lists (reads too). Each route names its
 * call id; the README lists them; test/filedevices-security.test.ts checks
 * that every route has one and every id a route.
 */
export const CALL_IDS = [
  'getFileDevice',
  'listEthernetInterfaces',
  'getAccessLevel',
  'listManagementUsers',
  'getManagementUser',
  'createApiKey',
  'listApiKeys',
  'getApiKey',
  'updateApiKey',
  'deleteApiKey',
  'createApiKeyGroup',
  'listApiKeyGroups',
  'getApiKeyGroup',
  'updateApiKeyGroup',
  'deleteApiKeyGroup',
  'listApiKeyGroupMembers',
  'addApiKeyGroupMembers',
  'removeApiKeyGroupMember',
  'createVirtualServer',
  'listVirtualServers',
  'getVirtualServer',
  'updateVirtualServer',
  'deleteVirtualServer',
  'enableVirtualServer',
  'disableVirtualServer',
  'addVirtualServerIpAddress',
  'removeVirtualServerIpAddress',
] as const;

export type CallId = (typeof CALL_IDS)[number];

/** What a route declares: its call id, and whether it writes (needs FULL_CONTROL). */
export interface FdRoute {
  call: CallId;
  write: boolean;
}
