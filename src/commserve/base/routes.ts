import type { FastifyInstance } from 'fastify';
import { sendCs } from '../codec.js';

/** `GET {base}`: cvpysdk's first call; any 200 tells it the service is there. */
export function registerBaseRoutes(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req, reply) =>
    sendCs(req, reply, 'App_GenericResp', { errorCode: 0, errorMessage: 'Bulwark CommServe API' }),
  );
}
