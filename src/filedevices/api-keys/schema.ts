import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const API_KEYS_DOCS: RouteDocs = {
  'POST /file-devices/management/api-keys': {
    summary: 'Create an API key (the key is shown once)',
    bodyExample: {
      description: 'before',
      restApiAccess: 'FULL_CONTROL',
    },
    status: 201,
    example: {
      apiKey: {
        objectId: '6f636c336b6e576141563a3a3a303a3a3a4f49445f24232140255f56',
        prefix: 'ocl3knWaAV',
        description: '',
        isEnabled: true,
        restApiAccess: 'READ_ONLY',
        soapApiAccess: 'NO_ACCESS',
        effectiveRestApiAccess: 'READ_ONLY',
        keyType: 'UNRESTRICTED',
        allowedCallIds: [],
        restrictedToApiKeyGroups: [],
        restrictedToVirtualServers: [],
        allowedSourceAddresses: [],
        expiresAt: null,
        createdAt: '2026-11-23T08:00:00.000Z',
        lastUsedAt: null,
        owner: 'admin',
        apiKeyGroups: [],
      },
      key: 'ocl3knWaAV.example-secret-part-shown-only-once-0000000',
    },
  },
  'GET /file-devices/management/api-keys': {
    summary: 'API keys the caller may see (never the keys)',
    example: {
      apiKeys: [
        {
          objectId: '786c7832624459456c723a3a3a303a3a3a4f49445f24232140255f56',
          prefix: 'xlx2bDYElr',
          description: 'ci',
          isEnabled: true,
          restApiAccess: 'FULL_CONTROL',
          soapApiAccess: 'NO_ACCESS',
          effectiveRestApiAccess: 'FULL_CONTROL',
          keyType: 'UNRESTRICTED',
          allowedCallIds: [],
          restrictedToApiKeyGroups: [],
          restrictedToVirtualServers: [],
          allowedSourceAddresses: [],
          expiresAt: null,
          createdAt: '2026-11-23T08:00:00.000Z',
          lastUsedAt: null,
          owner: 'admin',
          apiKeyGroups: [],
        },
      ],
    },
  },
  'GET /file-devices/management/api-keys/:id': {
    summary: 'One API key (never the key)',
    example: {
      apiKey: {
        objectId: '6f636c336b6e576141563a3a3a303a3a3a4f49445f24232140255f56',
        prefix: 'ocl3knWaAV',
        description: '',
        isEnabled: true,
        restApiAccess: 'READ_ONLY',
        soapApiAccess: 'NO_ACCESS',
        effectiveRestApiAccess: 'READ_ONLY',
        keyType: 'UNRESTRICTED',
        allowedCallIds: [],
        restrictedToApiKeyGroups: [],
        restrictedToVirtualServers: [],
        allowedSourceAddresses: [],
        expiresAt: null,
        createdAt: '2026-11-23T08:00:00.000Z',
        lastUsedAt: null,
        owner: 'admin',
        apiKeyGroups: [],
      },
    },
  },
  'PATCH /file-devices/management/api-keys/:id': {
    summary: "Change an API key's access, restrictions, expiry or description",
    bodyExample: {
      restrictedToVirtualServers: ['evs1'],
      restrictedToApiKeyGroups: ['ops'],
    },
    status: 204,
    example: null,
  },
  'DELETE /file-devices/management/api-keys/:id': {
    summary: 'Revoke an API key',
    status: 204,
    example: null,
  },
};
