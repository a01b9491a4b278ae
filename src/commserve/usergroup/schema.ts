import { Type } from '@sinclair/typebox';
import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const USERGROUP_DOCS: RouteDocs = {
  'GET /UserGroup': {
    query: Type.Object({
      'parentProvider/providerId': Type.Optional(
        Type.String({ description: 'only the groups of this company (its id); other values are ignored' }),
      ),
      includeSystemCreated: Type.Optional(
        Type.String({ description: '`false` leaves out the built-in groups; other values are ignored' }),
      ),
    }),
    summary: 'User groups the caller sees',
    root: 'App_GetUserGroupsResponse',
    example: {
      userGroups: [
        {
          userGroupEntity: {
            userGroupName: 'master',
            userGroupId: 1,
          },
          description: 'CommCell administrators',
          providerId: 0,
        },
      ],
    },
  },
  'GET /V4/UserGroup': {
    summary: 'User groups the caller sees (v4 shape)',
    root: 'App_GetUserGroupsResponse',
    example: {
      userGroups: [
        {
          id: 1,
          name: 'master',
          description: 'CommCell administrators',
          company: {
            id: 0,
            name: '',
          },
        },
      ],
    },
  },
  'GET /UserGroup/:id': {
    summary: 'One user group and its members',
    root: 'App_GetUserGroupPropertiesResponse',
    example: {
      userGroups: [
        {
          userGroupEntity: {
            userGroupName: 'Ops',
            userGroupId: 2,
          },
          description: '',
          providerId: 0,
          enabled: true,
          users: [
            {
              userName: 'bob',
              userId: 2,
            },
          ],
        },
      ],
    },
  },
  'POST /UserGroup': {
    summary: 'Create user groups',
    root: 'App_UserGroupResp',
    bodyExample: {
      groups: [
        {
          userGroupEntity: {
            userGroupName: 'Gz37uhl',
          },
          securityAssociations: {},
          users: [],
          localUserGroups: [],
          associatedExternalUserGroups: [],
        },
      ],
    },
    example: {
      response: [
        {
          errorCode: 0,
          errorString: '',
          entity: {
            userGroupName: 'Ops',
            userGroupId: 2,
          },
        },
      ],
      errorCode: 0,
      errorMessage: '',
    },
  },
  'POST /UserGroup/:id': {
    summary: "Change a group's name, members or associations",
    root: 'App_UserGroupResp',
    bodyExample: {
      groups: [
        {
          localUserGroupsOperationType: 2,
          usersOperationType: 2,
          externalUserGroupsOperationType: 2,
          securityAssociations: {},
          localUserGroups: [],
          users: [],
          associatedExternalUserGroups: [],
        },
      ],
    },
    example: {
      response: [
        {
          errorCode: 0,
          errorString: '',
          entity: {
            userGroupName: 'Ops',
            userGroupId: 2,
          },
        },
      ],
      errorCode: 0,
      errorMessage: '',
    },
  },
  'DELETE /UserGroup/:id': {
    summary: 'Delete a user group, its memberships and what it was granted',
    root: 'App_UserGroupResp',
    example: {
      response: [
        {
          errorCode: 0,
          errorString: '',
        },
      ],
      errorCode: 0,
      errorMessage: '',
    },
  },
};
