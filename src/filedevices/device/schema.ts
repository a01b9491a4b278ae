import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const DEVICE_DOCS: RouteDocs = {
  'GET /file-devices': {
    summary: 'The file device (cluster) this server stands for',
    example: {
      fileDevice: {
        objectId: '66696c654465766963653a3a3a303a3a3a4f49445f24232140255f56',
        model: 'Bulwark file-devices control plane',
        softwareVersion: '0.1.0',
        apiVersion: 'v9',
        nodeIds: [1],
      },
    },
  },
  'GET /file-devices/ethernet-interfaces': {
    summary: "The device's ethernet interfaces",
    example: {
      ethernetInterfaces: [
        {
          name: 'ag1',
          isAggregationAllowed: false,
          isVirtualServerIpAllowed: true,
          linkSpeed: '10GBPS',
          objectId: '6167313a3a3a4f49445f24232140255f56',
        },
      ],
    },
  },
};
