import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { ETHERNET_INTERFACES, FILE_SERVER } from '../../domain/file-server.js';
import { encodeObjectId } from '../../domain/object-id.js';

const VERSION = '0.1.0';

export function registerDeviceRoutes(app: FastifyInstance, _ctx: AppContext): void {
  // The file server's identity and version (HNASFileServer.get_file_server_info).
  app.get('/file-devices', { config: { fd: { call: 'getFileDevice', write: false } } }, async () => ({
    fileDevice: {
      objectId: encodeObjectId(['fileDevice', 0]),
      model: FILE_SERVER.model,
      softwareVersion: VERSION,
      apiVersion: FILE_SERVER.apiVersion,
      nodeIds: FILE_SERVER.nodes,
    },
  }));

  app.get(
    '/file-devices/ethernet-interfaces',
    { config: { fd: { call: 'listEthernetInterfaces', write: false } } },
    async () => ({
      ethernetInterfaces: ETHERNET_INTERFACES.map((e) => ({ ...e, objectId: encodeObjectId([e.name]) })),
    }),
  );
}
