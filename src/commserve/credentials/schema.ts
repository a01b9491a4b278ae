import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const CREDENTIALS_DOCS: RouteDocs = {
  'GET /CommCell/Credentials': {
    summary: 'Stored credentials the caller sees (never their passwords)',
    root: 'App_GetCredentialsResp',
    example: {
      credentialRecordInfo: [
        {
          credentialRecord: {
            credentialId: 1,
            credentialName: 'shared',
          },
          record: {
            userName: 'acme\\svc',
          },
          recordType: 1,
          description: '',
          company: {
            id: 1,
            name: 'acme',
          },
          securityAssociations: {
            associations: [
              {
                userOrGroup: [
                  {
                    userId: 4,
                    userName: 'acme\\bob',
                    _type_: 13,
                  },
                ],
                properties: {
                  permissions: [
                    {
                      permissionId: 218,
                      permissionName: 'User Credential',
                      _type_: 122,
                    },
                  ],
                },
              },
            ],
          },
        },
      ],
    },
  },
  'GET /CommCell/Credentials/:id': {
    summary: 'One stored credential (never its password)',
    root: 'App_GetCredentialsResp',
    example: {
      credentialRecordInfo: [
        {
          credentialRecord: {
            credentialId: 1,
            credentialName: 'shared',
          },
          record: {
            userName: 'acme\\svc',
          },
          recordType: 1,
          description: '',
          company: {
            id: 1,
            name: 'acme',
          },
          securityAssociations: {
            associations: [
              {
                userOrGroup: [
                  {
                    userId: 4,
                    userName: 'acme\\bob',
                    _type_: 13,
                  },
                ],
                properties: {
                  permissions: [
                    {
                      permissionId: 218,
                      permissionName: 'User Credential',
                      _type_: 122,
                    },
                  ],
                },
              },
            ],
          },
        },
      ],
    },
  },
  'GET /V5/credential/:id': {
    summary: 'One stored credential, v5 shape (never its password)',
    root: 'CredentialInfo',
    example: {
      id: 1,
      name: 'shared',
      accountType: 'WINDOWSACCOUNT',
      userAccount: 'acme\\svc',
      description: '',
      company: {
        id: 1,
        name: 'acme',
      },
      security: {
        associations: [
          {
            user: {
              id: 4,
              name: 'acme\\bob',
            },
            permissions: [
              {
                id: 218,
                name: 'User Credential',
              },
            ],
          },
        ],
      },
    },
  },
  'POST /CommCell/Credentials': {
    summary: 'Store a credential (its password encrypted under the master key)',
    root: 'App_GenericResp',
    bodyExample: {
      credentialRecordInfo: [
        {
          recordType: 1,
          description: null,
          credentialRecord: {
            credentialName: 'svc',
          },
          record: {
            userName: 'acme\\svc',
            password: 'RXhhbXBsZS1TZXJ2aWNlLVBhc3N3MHJk',
          },
        },
      ],
    },
    example: {
      error: {
        errorCode: 1200,
        errorMessage: 'no such company',
      },
    },
  },
  'PUT /CommCell/Credentials': {
    summary: "Change a stored credential's account, password or description",
    root: 'App_GenericResp',
    bodyExample: {
      credentialRecordInfo: [
        {
          recordType: 'WINDOWSACCOUNT',
          credentialRecord: {
            credentialId: 1,
            credentialName: 'prd_test001',
          },
          record: {
            userName: 'prodcert\\svc',
            password: 'RXhhbXBsZS1OZXctUGFzc3cwcmQ=',
          },
        },
      ],
    },
    example: {
      error: {
        errorCode: 0,
        errorMessage: '',
      },
    },
  },
  'POST /CommCell/Credentials/action/delete': {
    summary: 'Delete stored credentials',
    root: 'App_GenericResp',
    bodyExample: {
      credentialRecordInfo: [
        {
          credentialRecord: {
            credentialName: 'nope',
          },
        },
      ],
    },
    example: {
      error: {
        errorCode: 0,
        errorMessage: '',
      },
    },
  },
  'POST /V4/Credential': {
    summary: 'Store a credential (v4 shape)',
    root: 'App_GenericResp',
    bodyExample: {
      accountType: 'DATABASE_ACCOUNT',
      databaseCredentialType: 'POSTGRESQL',
      name: 'pgcred',
      username: 'postgres',
      password: 'RXhhbXBsZS1EYi1QYXNzdzByZA==',
      description: 'pg',
    },
    example: {
      id: 3,
      name: 'pgcred',
    },
  },
  'POST /User/AccountManagement': {
    summary:
      'Change the user name and/or password of every stored account of one user name (preview=1 shows what would change; preview=0 applies it in one transaction)',
    description:
      'Passwords are plain in XML and base64 in JSON. Needs Credential Management on every affected account (skipPasswordCheck=1 also Administrative Management on its company); repeated wrong old passwords lock the operation for the caller.',
    root: 'GuiServer_ModifyCredsResp',
    bodyExample: {
      preview: 1,
      reason: 'quarterly rotation',
      skipPasswordCheck: 0,
      credsInfo: {
        oldCredentials: { userName: 'prodcert\\admin', password: 'UGFzc3dvcmQwMDE=' },
        newCredentials: { password: 'UGFzc3dvcmQwMDI=' },
        associations: { _type_: 2 },
      },
    },
    example: {
      credentialChanges: [
        {
          changes: 'User password for [password]',
          entities: { credEntity: [{ _type_: 174, credentialId: 11, credentialName: 'prd_test001' }] },
        },
      ],
    },
  },
};
