import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const LOGIN_DOCS: RouteDocs = {
  'POST /Login': {
    summary: 'Log in: a token for the Authtoken header',
    description:
      'JSON: the password is base64 of its UTF-8 text; XML (<DM2ContentIndexing_CheckCredentialReq username password/>): plain text. A company user logs in as domain\\user. Failures answer errList[{errorCode,errLogMessage}], isAccountLocked and remainingLockTime.',
    throttled: true,
    root: 'DM2ContentIndexing_CheckCredentialResp',
    bodyExample: {
      mode: 4,
      username: 'admin',
      password: 'RXhhbXBsZS1QYXNzdzByZCE=',
      deviceId: 'test',
      clientType: 30,
    },
    example: {
      token: 'QSDK 2aca2f10e99f1e090db8f94afb47abf8ad57cffd93a6ce7ef9aac5176943e75a',
      userName: 'admin',
      userGUID: '1D6E8D8D-41B3-4056-AB1F-7CCC779F723D',
      aliasName: '1',
      smtpAddress: '',
      providerType: 1,
      isAccountLocked: false,
      loginAttempts: 0,
      remainingLockTime: 0,
      forcePasswordChange: false,
      ownerOrganization: {
        providerId: 0,
        GUID: '4C56B887-B1A2-44D2-87B3-D02EC205CDFE',
        providerDomainName: 'Commcell',
      },
    },
  },
  'POST /Logout': {
    summary: "Log out: revoke the caller's token",
    body: null,
    root: 'App_GenericResp',
    example: {
      errorCode: 0,
      errorMessage: 'User logged out',
    },
  },
  'GET /WhoAmI': {
    summary: 'The caller',
    root: 'CvEntities_ProcessingInstructionInfo',
    example: {
      user: {
        userName: 'bob',
        userId: 2,
        userGUID: '67148E4D-AA73-4E3F-B302-1C9EC11B4931',
        providerId: 0,
        providerDomainName: 'Commcell',
      },
    },
  },
  'POST /WhoAmI': {
    summary: 'The caller',
    body: null,
    root: 'CvEntities_ProcessingInstructionInfo',
    example: {
      user: {
        userName: 'admin',
        userId: 1,
        userGUID: '4B1143DF-3892-4CC2-BDC3-28B4F349D95F',
        providerId: 0,
        providerDomainName: 'Commcell',
      },
    },
  },
  'POST /RenewLoginToken': {
    summary: 'A new token for this session; the old one is revoked',
    root: 'App_RenewLoginTokenResp',
    bodyExample: {
      sessionId: 'QSDK 09ffcfa0eba54402702d3d0148e734114ca1a17bd50a46a7a4e78651e615a10c',
    },
    example: {
      token: 'QSDK 5124a102cd1f9bc6e94fac25ee77bfc0e279ffb97a06551537de1582f1276e74',
    },
  },
};
