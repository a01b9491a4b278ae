import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const API_KEY_GROUPS_DOCS: RouteDocs = {
  'POST /file-devices/management/api-key-groups': {
    summary: 'Create an API key group',
    bodyExample: {
      name: 'ops',
    },
    status: 201,
    example: {
      apiKeyGroup: {
        objectId: '313a3a3a3a3a3a303a3a3a4f49445f24232140255f56',
        index: 1,
        name: 'ops',
        description: '',
        members: [],
      },
    },
  },
  'GET /file-devices/management/api-key-groups': {
    summary: 'API key groups',
    example: {
      apiKeyGroups: [
        {
          objectId: '313a3a3a3a3a3a303a3a3a4f49445f24232140255f56',
          index: 1,
          name: 'ops',
          description: '',
          members: ['3431775439366b3433653a3a3a303a3a3a4f49445f24232140255f56'],
        },
      ],
    },
  },
  'GET /file-devices/management/api-key-groups/:id': {
    summary: 'One API key group',
    example: {
      apiKeyGroup: {
        objectId: '313a3a3a3a3a3a303a3a3a4f49445f24232140255f56',
        index: 1,
        name: 'ops2',
        description: 'operators',
        members: ['525255433150346d41763a3a3a303a3a3a4f49445f24232140255f56'],
      },
    },
  },
  'PATCH /file-devices/management/api-key-groups/:id': {
    summary: 'Change an API key group',
    bodyExample: {
      name: 'ops2',
    },
    status: 204,
    example: null,
  },
  'DELETE /file-devices/management/api-key-groups/:id': {
    summary: 'Delete an API key group',
    status: 204,
    example: null,
  },
  'GET /file-devices/management/api-key-groups/:id/members': {
    summary: "A group's member keys",
    example: {
      members: [
        {
          objectId: '525255433150346d41763a3a3a303a3a3a4f49445f24232140255f56',
          prefix: 'RRUC1P4mAv',
        },
      ],
    },
  },
  'POST /file-devices/management/api-key-groups/:id/members': {
    summary: 'Add keys to a group',
    bodyExample: {
      apiKeys: ['4e79506f334c576268753a3a3a303a3a3a4f49445f24232140255f56'],
    },
    status: 204,
    example: null,
  },
  'DELETE /file-devices/management/api-key-groups/:id/members/:keyId': {
    summary: 'Remove a key from a group',
    status: 204,
    example: null,
  },
};
