import { Type } from '@sinclair/typebox';
import type { RouteDocs } from '../../http/route-doc.js';

const UpdateOrganizationBody = Type.Object(
  {
    organizationInfo: Type.Object({
      organization: Type.Optional(
        Type.Object({
          description: Type.Optional(Type.String()),
          emailDomainNames: Type.Optional(Type.Array(Type.String())),
        }),
      ),
      organizationProperties: Type.Optional(
        Type.Object({ allowUsersToEnablePasskey: Type.Optional(Type.Union([Type.Boolean(), Type.Integer()])) }),
      ),
    }),
  },
  {
    description:
      "cvpysdk's whole-body update: the organization as GET shows it, and the changed organizationProperties. Other changed fields answer 1204.",
  },
);

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const ORGANIZATION_DOCS: RouteDocs = {
  'GET /Organization': {
    summary: 'Companies the caller sees',
    root: 'App_GetOrganizationsResp',
    example: {
      providers: [
        {
          connectName: 'acme Inc',
          shortName: {
            id: 1,
            domainName: 'acme',
          },
          providerGUID: '7125E5F7-9560-4C14-8FE6-C9B2B87C3353',
          associatedEntitiesCount: 0,
          status: 'Active',
        },
      ],
    },
  },
  'POST /Organization': {
    summary: 'Create a company, its groups and its primary contacts',
    root: 'App_GenericResp',
    bodyExample: {
      organizationInfo: {
        organization: {
          connectName: 'beta Inc',
          emailDomainNames: ['beta.example'],
          shortName: {
            domainName: 'beta',
          },
        },
        organizationProperties: {
          primaryContacts: [
            {
              fullName: 'beta Admin',
              email: 'boss@beta.example',
            },
          ],
        },
      },
    },
    example: {
      response: {
        errorCode: 0,
        entity: {
          providerId: 1,
          providerDomainName: 'acme',
          providerGUID: '1837E144-DC3B-4502-9D54-97744E865972',
        },
      },
    },
  },
  'GET /Organization/:id': {
    summary: 'One company (id 0: the CommCell)',
    root: 'App_GetOrganizationResp',
    example: {
      organizationInfo: {
        organization: {
          connectName: 'CommCell',
          description: '',
          emailDomainNames: [],
          shortName: {
            id: 0,
            domainName: 'Commcell',
          },
          providerGUID: 'A9DF33F6-4BB6-4D9B-8C71-BBEFC46DED64',
          deactivateOptions: {
            disableBackup: false,
            disableRestore: false,
            disableLogin: false,
          },
        },
        organizationProperties: {
          advancedPrivacySettings: {
            authType: 2,
            passkeySettings: {
              enableAuthorizeForRestore: true,
            },
          },
          allowUsersToEnablePasskey: false,
          enableAuthCodeGen: false,
          operatorRole: {
            roleName: 'Tenant Operator',
          },
          orgCreationDateTime: 1795420800,
          totalMachineCount: 0,
          userCount: 1,
          serverCount: 0,
          clientGroupForceClientSideDownload: false,
          enableAutoDiscovery: false,
          primaryContacts: [],
          defaultPlans: [],
          globalFiltersInfo: {
            globalFiltersInfoList: [],
          },
        },
        planDetails: [],
      },
    },
  },
  'PUT /Organization': {
    query: Type.Object({ organizationId: Type.String({ pattern: '^[0-9]+$', description: 'the company' }) }),
    summary: 'Change a company (?organizationId=): description, email domains, allowUsersToEnablePasskey',
    root: 'App_GenericResp',
    body: UpdateOrganizationBody,
    bodyExample: {
      organizationInfo: {
        organization: {
          connectName: 'acme Inc',
          description: '',
          emailDomainNames: ['acme.example'],
          shortName: {
            id: 1,
            domainName: 'acme',
          },
          providerGUID: '23ABE227-7872-48D5-8CF0-99466EC1DCA8',
          deactivateOptions: {
            disableBackup: false,
            disableRestore: false,
            disableLogin: false,
          },
        },
        organizationProperties: {
          allowUsersToEnablePasskey: true,
        },
      },
    },
    example: {
      error: {
        errorCode: 0,
        errorMessage: '',
      },
    },
  },
  'PUT /Organization/:id': {
    summary: 'Change a company: description, email domains, allowUsersToEnablePasskey',
    root: 'App_GenericResp',
    body: UpdateOrganizationBody,
    bodyExample: {
      organizationInfo: {
        organization: {
          connectName: 'acme Inc',
          description: '',
          emailDomainNames: ['acme.example'],
          shortName: {
            id: 1,
            domainName: 'acme',
          },
          providerGUID: '23ABE227-7872-48D5-8CF0-99466EC1DCA8',
          deactivateOptions: {
            disableBackup: false,
            disableRestore: false,
            disableLogin: false,
          },
        },
        organizationProperties: {
          advancedPrivacySettings: {
            authType: 1,
            passkeySettings: {
              enableAuthorizeForRestore: false,
            },
          },
          allowUsersToEnablePasskey: true,
          enableAuthCodeGen: false,
          operatorRole: {
            roleName: 'Tenant Operator',
          },
          orgCreationDateTime: 1795420800,
          totalMachineCount: 0,
          userCount: 2,
          serverCount: 0,
          clientGroupForceClientSideDownload: false,
          enableAutoDiscovery: false,
          primaryContacts: [
            {
              fullName: 'acme Admin',
              email: 'boss@acme.example',
              user: {
                userName: 'boss',
                userId: 2,
              },
            },
          ],
          defaultPlans: [],
          globalFiltersInfo: {
            globalFiltersInfoList: [],
          },
        },
        planDetails: [],
      },
    },
    example: {
      error: {
        errorCode: 0,
        errorMessage: '',
      },
    },
  },
  'GET /Organization/:id/TwoFactorAuth': {
    summary: "A company's two-factor setting",
    root: 'App_TwoFactorAuthResp',
    example: {
      twoFactorAuthenticationInfo: {
        mode: 0,
      },
    },
  },
};
