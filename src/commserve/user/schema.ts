import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const USER_DOCS: RouteDocs = {
  'GET /User': {
    summary: 'Users the caller sees',
    root: 'App_GetUsersResp',
    example: {
      users: [
        {
          userEntity: {
            userName: 'admin',
            userId: 1,
            userGUID: '3C68CADB-2FC3-496D-9923-CE70E303D4E4',
          },
          email: '',
          fullName: 'Administrator',
          enableUser: true,
          companyName: 'Commcell',
        },
      ],
    },
  },
  'GET /v4/user': {
    summary: 'Users the caller sees (v4 shape)',
    root: 'App_GetUsersResp',
    example: {
      users: [
        {
          id: 1,
          name: 'admin',
          fullName: 'Administrator',
          email: '',
          GUID: '3C68CADB-2FC3-496D-9923-CE70E303D4E4',
          company: {
            id: 0,
            name: 'Commcell',
          },
        },
      ],
    },
  },
  'POST /User': {
    summary: 'Create users (one result per user)',
    root: 'App_UserResp',
    bodyExample: {
      users: [
        {
          userEntity: {
            userName: 'acme\\tadmin',
          },
          email: 'tadmin@acme.example',
          password: 'RXhhbXBsZS1UZW5hbnQtUGFzc3cwcmQh',
          associatedUserGroups: [
            {
              userGroupName: 'Tenant Admin',
            },
          ],
        },
      ],
    },
    example: {
      response: [
        {
          errorCode: 0,
          errorString: '',
          entity: {
            userName: 'ann',
            userId: 5,
            userGUID: 'EE9D1943-C109-4E86-AEE2-270844EECA92',
          },
        },
      ],
      errorCode: 0,
      errorMessage: '',
    },
  },
  'GET /User/:id': {
    summary: 'One user, its groups and associations',
    root: 'App_GetUserPropertiesResp',
    example: {
      users: [
        {
          userEntity: {
            userName: 'bob',
            userId: 2,
            userGUID: '545566AF-8B25-441F-AB13-C139AB02A078',
          },
          email: 'bob@users.example',
          fullName: 'bob Person',
          enableUser: true,
          companyId: 0,
          companyName: 'Commcell',
          associatedUserGroups: [],
          securityAssociations: {
            associations: [],
          },
        },
      ],
    },
  },
  'POST /User/:id': {
    summary: 'Change a user: email, full name, enabled, password, associations',
    root: 'App_UserResp',
    bodyExample: {
      users: [
        {
          userEntity: {
            userName: 'bob',
          },
          password: 'RXhhbXBsZS1Cb2ItUGFzc3cwcmQh',
          validationParameters: {
            password: 'RXhhbXBsZS1QYXNzdzByZCE=',
            passwordOperationType: '2',
          },
        },
      ],
    },
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
