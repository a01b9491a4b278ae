import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const MANAGEMENT_DOCS: RouteDocs = {
  'GET /file-devices/management/access-level': {
    summary: "The caller's access level",
    example: {
      accessLevel: 'USER',
      restApiAccess: 'READ_ONLY',
      soapApiAccess: 'READ_ONLY',
      user: 'viewer',
    },
  },
  'GET /file-devices/management/users': {
    summary: 'Management users',
    example: {
      users: [
        {
          objectId: '313a3a3a4f49445f24232140255f56',
          userId: 1,
          name: 'admin',
          fullName: 'Administrator',
          accessLevel: 'SUPERVISOR',
          isEnabled: true,
        },
      ],
    },
  },
  'GET /file-devices/management/users/:id': {
    summary: 'One management user, by object id, user id or name (a user without an access level is 404)',
    example: {
      user: {
        objectId: '313a3a3a4f49445f24232140255f56',
        userId: 1,
        name: 'admin',
        fullName: 'Administrator',
        accessLevel: 'SUPERVISOR',
        isEnabled: true,
      },
    },
  },
};
