import { Type } from '@sinclair/typebox';
import type { RouteDocs } from '../../http/route-doc.js';

/** An entity-bound account as cvpysdk sends it: the password base64 in JSON, plain in XML; `userName: ""` removes it. */
const ImpersonateUser = Type.Object(
  { userName: Type.Optional(Type.String()), password: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
const propertiesBody = (path: string[]) =>
  path.reduceRight<ReturnType<typeof Type.Object>>(
    (inner, key) => Type.Object({ [key]: Type.Optional(inner) }, { additionalProperties: true }),
    Type.Object({ impersonateUser: Type.Optional(ImpersonateUser) }, { additionalProperties: true }),
  );

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const ENTITY_DOCS: RouteDocs = {
  'POST /Entities/Import': {
    summary: 'Import entities from JSON lines (one transaction unless ?partial=1)',
    root: 'EntityImportResp',
    bodyType: 'application/x-ndjson',
    bodyExample:
      '{"type":"client","name":"db01"}\n{"type":"agent","name":"File System","parent":{"type":"client","name":"db01"}}\n{"type":"plan","name":"Gold"}\n',
    example: {
      imported: 3,
      results: [
        {
          line: 1,
          entityType: 3,
          entityId: 1,
        },
      ],
      errors: [
        {
          line: 2,
          message: 'a client named "c1" already exists in this company',
        },
      ],
    },
  },
  'POST /Entities': {
    summary: 'Create an entity (client, group, agent, instance, backup set, subclient, plan)',
    root: 'EntityResp',
    bodyExample: {
      type: 'client',
      name: 'c1',
      clientGroups: ['g1'],
    },
    example: {
      errorCode: 0,
      errorMessage: '',
      entity: {
        entityType: 3,
        entityId: 2,
        name: 'c1',
        companyId: 0,
        parentId: 0,
      },
    },
  },
  'POST /Entities/:type/:id': {
    summary: 'Rename an entity',
    root: 'EntityResp',
    bodyExample: {
      name: 'db01',
    },
    example: {
      errorCode: 0,
      errorMessage: '',
      entity: {
        entityType: 3,
        entityId: 1,
        name: 'db01',
        companyId: 0,
        parentId: 0,
      },
    },
  },
  'DELETE /Entities/:type/:id': {
    summary: 'Delete an entity and what lies beneath it',
    root: 'EntityResp',
    example: {
      errorCode: 0,
      errorMessage: '',
      removed: 5,
    },
  },
  'GET /Entities': {
    summary: 'Entities the caller sees, by type, paged',
    root: 'EntitiesResp',
    example: {
      entities: [
        {
          entityType: 3,
          entityId: 3,
          name: 'db01',
          companyId: 0,
          parentId: 0,
        },
      ],
      total: 1,
    },
  },
  'GET /Client': {
    summary: 'Clients the caller sees, paged',
    root: 'App_GetClientPropertiesResponse',
    example: {
      clientProperties: [
        {
          client: {
            clientEntity: {
              clientId: 3,
              clientName: 'db01',
              displayName: 'db01',
              hostName: 'db01',
            },
          },
        },
      ],
    },
  },
  'GET /Client/:id': {
    summary: 'One client',
    root: 'App_GetClientPropertiesResponse',
    example: {
      clientProperties: [
        {
          client: {
            clientEntity: {
              clientId: 2,
              clientName: 'c1',
              displayName: 'c1',
              hostName: 'c1',
            },
            osInfo: {
              Type: 'Unix',
              SubType: 'Linux',
              OsDisplayInfo: {
                ProcessorType: 'x64',
                OSName: 'Linux',
              },
            },
            cvdPort: 8400,
            TimeZone: {
              TimeZoneName: 'UTC',
            },
            versionInfo: {},
          },
          clientGroups: [
            {
              clientGroupId: 1,
              clientGroupName: 'g1',
            },
          ],
          clientProps: {
            companyId: 0,
            activityControl: {
              EnableDataRecovery: true,
              EnableDataManagement: true,
              EnableOnlineContentIndex: false,
            },
            clientActivityControl: {
              activityControlOptions: [
                {
                  activityType: 1,
                  enableActivityType: true,
                },
              ],
            },
            EnableSnapBackups: false,
            CVS3BucketName: '',
          },
        },
      ],
    },
  },
  'GET /ClientGroup': {
    summary: 'Client groups the caller sees, paged',
    root: 'App_PerformClientGroupResp',
    example: {
      groups: [
        {
          Id: 1,
          name: 'Servers',
        },
      ],
    },
  },
  'GET /ClientGroup/:id': {
    summary: 'One client group and its clients',
    root: 'App_PerformClientGroupResp',
    example: {
      clientGroupDetail: {
        clientGroup: {
          clientGroupId: 2,
          clientGroupName: 'Linux',
        },
        associatedClients: [
          {
            clientId: 3,
            clientName: 'db01',
          },
        ],
      },
    },
  },
  'GET /Plan': {
    summary: 'Plans the caller sees, paged',
    root: 'App_GetPlansResponse',
    example: {
      plans: [
        {
          plan: {
            planId: 8,
            planName: 'Gold',
          },
        },
      ],
    },
  },
  'GET /Plan/:id': {
    summary: 'One plan',
    root: 'App_GetPlanResponse',
    example: {
      plan: {
        summary: {
          plan: {
            planId: 8,
            planName: 'Gold',
          },
        },
        storage: {
          copy: [],
        },
      },
    },
  },
  'POST /Subclient/:id': {
    summary: "Set a subclient's UNC-path user",
    description:
      'Only impersonateUser is stored (its password base64 in JSON, plain in XML; never answered); the rest of the properties body is accepted and ignored. Needs Administrative Management on the entity.',
    root: 'App_UpdateSubClientPropertiesResponse',
    body: propertiesBody(['subClientProperties']),
    bodyExample: {
      subClientProperties: { impersonateUser: { userName: 'corp\\svc-backup', password: 'U2VjcmV0LTE=' } },
    },
    example: { response: [{ errorCode: 0, errorString: '' }] },
  },
  'POST /Instance/:id': {
    summary: "Set an instance's impersonation user",
    description:
      'Only impersonateUser is stored (its password base64 in JSON, plain in XML; never answered); the rest of the properties body is accepted and ignored. Needs Administrative Management on the entity.',
    root: 'App_UpdateInstancePropertiesResponse',
    body: propertiesBody(['instanceProperties']),
    bodyExample: { instanceProperties: { impersonateUser: { userName: 'corp\\svc-sql', password: 'U2VjcmV0LTE=' } } },
    example: { response: [{ errorCode: 0, errorString: '' }] },
  },
  'POST /Client/:id': {
    summary: "Set a client's impersonation user",
    description:
      'Only impersonateUser is stored (its password base64 in JSON, plain in XML; never answered); the rest of the properties body is accepted and ignored. Needs Administrative Management on the entity.',
    root: 'App_SetClientPropertiesResponse',
    body: propertiesBody(['clientProperties', 'clientProps']),
    bodyExample: {
      clientProperties: { clientProps: { impersonateUser: { userName: 'corp\\svc-fs', password: 'U2VjcmV0LTE=' } } },
    },
    example: { response: [{ errorCode: 0, errorString: '' }] },
  },
  'GET /Instance/:id': {
    summary: 'One instance, with its impersonation user name (never the password)',
    root: 'App_GetInstancePropertiesResponse',
    example: {
      instanceProperties: [
        {
          instance: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            _type_: 5,
          },
          instanceActivityControl: {
            activityControlOptions: [{ activityType: 1, enableActivityType: true }],
          },
          impersonateUser: { userName: 'corp\\svc-sql' },
        },
      ],
    },
  },
};
