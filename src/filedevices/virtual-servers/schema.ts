import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const VIRTUAL_SERVERS_DOCS: RouteDocs = {
  'POST /virtual-servers': {
    summary: 'Create a virtual server',
    bodyExample: {
      name: 'evs1',
      nodeId: 1,
      ipAddress: '10.0.0.1',
      netmask: '255.255.255.0',
      port: 'ag1',
    },
    status: 201,
    example: {
      virtualServer: {
        UUID: '554b35aa-ca13-499c-8782-4c88da2acb7a',
        ipAddresses: ['10.1.0.1'],
        isEnabled: true,
        name: 'evs1',
        nodeId: 1,
        objectId: '313a3a3a4f49445f24232140255f56',
        status: 'ONLINE',
        type: 'FILE_SERVER',
        virtualServerId: 1,
      },
    },
  },
  'GET /virtual-servers': {
    summary: 'Virtual servers the caller may see',
    example: {
      virtualServers: [
        {
          UUID: '6c150cd2-c63c-43e6-a787-2cae8dffb4b9',
          ipAddresses: ['10.1.0.1'],
          isEnabled: true,
          name: 'evs1',
          nodeId: 1,
          objectId: '313a3a3a4f49445f24232140255f56',
          status: 'ONLINE',
          type: 'FILE_SERVER',
          virtualServerId: 1,
        },
      ],
    },
  },
  'GET /virtual-servers/:id': {
    summary: 'One virtual server',
    example: {
      virtualServer: {
        UUID: '08c2f631-3cc3-45f9-8edd-fb9fa6b04cfa',
        ipAddresses: ['fe80::2'],
        isEnabled: true,
        name: 'evs1',
        nodeId: 1,
        objectId: '313a3a3a4f49445f24232140255f56',
        status: 'ONLINE',
        type: 'FILE_SERVER',
        virtualServerId: 1,
      },
    },
  },
  'PATCH /virtual-servers/:id': {
    summary: 'Change a virtual server',
    bodyExample: {
      name: 'evs-two',
      nodeId: 2,
    },
    status: 204,
    example: null,
  },
  'DELETE /virtual-servers/:id': {
    summary: 'Delete a disabled virtual server',
    status: 204,
    example: null,
  },
  'POST /virtual-servers/:id/enable': {
    body: null,
    summary: 'Enable a virtual server',
    status: 204,
    example: null,
  },
  'POST /virtual-servers/:id/disable': {
    body: null,
    summary: 'Disable a virtual server',
    status: 204,
    example: null,
  },
  'POST /virtual-servers/:id/ip-addresses': {
    summary: 'Add an IP address to a virtual server',
    bodyExample: {
      ipAddress: 'FE80::2',
      netmask: '64',
      port: 'ag2',
    },
    status: 204,
    example: null,
  },
  'DELETE /virtual-servers/:id/ip-addresses/:ip': {
    summary: 'Remove an IP address from a virtual server',
    status: 204,
    example: null,
  },
};
