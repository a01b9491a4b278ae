import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const ROLE_DOCS: RouteDocs = {
  'GET /Role/:id': {
    summary: 'One role',
    root: 'App_GetRolePropertiesResponse',
    example: {
      roleProperties: [
        {
          role: {
            roleId: 101,
            roleName: 'Ops',
            flags: {
              disabled: false,
            },
            entityInfo: {
              companyId: 0,
              companyName: '',
            },
          },
          description: '',
          categoryPermission: {
            categoriesPermissionList: [
              {
                permissionName: 'View',
                permissionId: 1,
              },
            ],
          },
        },
      ],
    },
  },
  'POST /Role': {
    summary: 'Create roles',
    root: 'App_RoleResp',
    bodyExample: {
      roles: [
        {
          role: {
            roleName: 'Racers',
          },
          categoryPermission: {
            categoriesPermissionOperationType: 'ADD',
            categoriesPermissionList: [
              {
                permissionName: 'View',
              },
            ],
          },
        },
      ],
    },
    example: {
      response: [
        {
          errorCode: 0,
          errorString: '',
          entity: {
            roleId: 101,
            roleName: 'Ops',
          },
        },
      ],
      errorCode: 0,
      errorMessage: '',
    },
  },
  'POST /Role/:id': {
    summary: "Change a role's name, permissions or state",
    root: 'App_RoleResp',
    bodyExample: {
      roles: [
        {
          role: {
            roleName: 'x',
          },
          categoryPermission: {
            categoriesPermissionOperationType: 2,
            categoriesPermissionList: [
              {
                permissionName: 'Audit View',
              },
            ],
          },
        },
      ],
    },
    example: {
      response: [
        {
          errorCode: 0,
          errorString: '',
          entity: {
            roleId: 101,
            roleName: 'x',
          },
        },
      ],
      errorCode: 0,
      errorMessage: '',
    },
  },
  'DELETE /Role/:id': {
    summary: 'Delete a custom role and what it granted',
    root: 'App_RoleResp',
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
