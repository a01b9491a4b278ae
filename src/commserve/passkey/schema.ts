import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const PASSKEY_DOCS: RouteDocs = {
  'POST /Company/:id/Passkey': {
    summary: "Set, change or disable a company's passkey, or authorize for restore (id 0: the CommCell)",
    root: 'App_SetPasskeyResponse',
    bodyExample: {
      passkey: 'RXhhbXBsZS1QYXNzazN5IQ==',
      passkeySettings: {
        enableAuthorizeForRestore: true,
        passkeyExpirationInterval: {},
      },
    },
    example: {
      processinginstructioninfo: {
        attributes: {
          name: 'exitval',
          value: 0,
        },
      },
      error: {
        errorCode: 0,
      },
    },
  },
  'POST /Company/:id/AuthRestore': {
    summary: "Open or close a company's authorize-for-restore window",
    root: 'App_AuthorizeForRestoreResponse',
    bodyExample: {
      passkey: 'RXhhbXBsZS1QYXNzazN5IQ==',
      passkeySettings: {
        enableAuthorizeForRestore: true,
        passkeyExpirationInterval: {},
      },
    },
    example: {
      processinginstructioninfo: {
        attributes: {
          name: 'exitval',
          value: 0,
        },
      },
      error: {
        errorCode: 0,
      },
    },
  },
  'POST /Client/:id/Passkey': {
    summary: "Set, change or disable a client's passkey, or authorize for restore",
    root: 'App_SetPasskeyResponse',
    bodyExample: {
      passkey: 'RXhhbXBsZS1DbGllbnQtUGFzc2szeSE=',
      passkeySettings: {
        enableAuthorizeForRestore: true,
        passkeyExpirationInterval: {},
      },
    },
    example: {
      processinginstructioninfo: {
        attributes: {
          name: 'exitval',
          value: 0,
        },
      },
      error: {
        errorCode: 0,
      },
    },
  },
  'GET /Commcell/properties': {
    summary: "The CommCell's general properties",
    root: 'App_GetCommCellPropertiesResp',
    example: {
      commCellInfo: {
        generalInfo: {
          allowUsersToEnablePasskey: true,
          enableTwoFactorAuthentication: false,
          enablePrivacy: false,
          twoFactorAuthenticationInfo: {
            mode: 0,
          },
        },
      },
    },
  },
  'PUT /Commcell/properties': {
    summary: 'Change allowUsersToEnablePasskey',
    root: 'App_GenericResp',
    bodyExample: {
      commCellInfo: {
        generalInfo: {
          allowUsersToEnablePasskey: false,
        },
      },
    },
    example: {
      response: [
        {
          errorCode: 0,
        },
      ],
    },
  },
};
