import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const SECURITY_DOCS: RouteDocs = {
  'GET /Security/Explain': {
    summary: 'Why a user may or may not do something on an entity',
    root: 'App_SecurityExplainResp',
    example: {
      allowed: true,
      entity: {
        entityType: 7,
        entityId: 106,
        companyId: 1,
      },
      permission: 'Browse',
      grants: [
        {
          entity: {
            entityType: 1,
            entityId: 0,
          },
          userOrGroup: {
            userGroupId: 1,
            userGroupName: 'master',
            _type_: 15,
          },
          role: {
            roleId: 1,
            roleName: 'Master',
            _type_: 120,
          },
        },
      ],
      reason: '',
    },
  },
  'GET /Security/:entityType/:entityId': {
    summary: 'Associations on one entity',
    root: 'App_GetSecurityAssociationsResp',
    example: {
      securityAssociations: [
        {
          entity: {
            entityType: 3,
            entityId: 101,
          },
          securityAssociations: {
            associations: [
              {
                userOrGroup: [
                  {
                    userId: 7,
                    userName: 'bob',
                    _type_: 13,
                  },
                ],
                properties: {
                  role: {
                    roleId: 5,
                    roleName: 'View',
                    _type_: 120,
                  },
                },
              },
            ],
          },
        },
      ],
    },
  },
  'POST /Security': {
    summary: 'Add, overwrite or delete security associations',
    root: 'App_SecurityAssociationResp',
    bodyExample: {
      entityAssociated: {
        entity: [
          {
            providerId: 1,
          },
        ],
      },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [
          {
            userOrGroup: [
              {
                userName: 'carl',
              },
            ],
            properties: {
              role: {
                roleName: 'Tenant Admin',
              },
            },
          },
        ],
      },
    },
    example: {
      response: [
        {
          errorCode: 0,
          warningCode: 0,
          warningMessage: '',
        },
      ],
    },
  },
  'GET /Security/Roles': {
    summary: 'Roles the caller sees',
    root: 'App_GetRolesResponse',
    example: {
      roleProperties: [
        {
          role: {
            roleId: 1,
            roleName: 'Master',
            flags: {
              disabled: false,
            },
            entityInfo: {
              companyId: 0,
              companyName: '',
            },
          },
          description: 'Every permission on everything beneath the association',
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
  'GET /Security/Permissions': {
    summary: 'Every permission',
    root: 'App_GetPermissionsResponse',
    example: {
      permissions: [
        {
          permissionId: 1,
          permissionName: 'View',
        },
      ],
    },
  },
};
