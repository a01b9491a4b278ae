import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { registerBrowseRoute } from './browse.js';
import { registerJobRoutes } from './jobs.js';
import { registerNavigationRoutes } from './navigation.js';
import { registerRestoreRoute } from './restore.js';

/** Navigation to a subclient, browse, restore and jobs, as cvpysdk calls them. */
export function registerBrowseRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerNavigationRoutes(app, ctx);
  registerBrowseRoute(app, ctx);
  registerRestoreRoute(app, ctx);
  registerJobRoutes(app, ctx);
}
