import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const AUDIT_DOCS: RouteDocs = {
  'GET /AuditTrail': {
    summary: 'The audit trail, newest first, with its hash chain',
    root: 'App_AuditTrailResp',
    example: {
      auditTrail: [
        {
          id: 5,
          time: '2026-11-23T08:00:00.000Z',
          user: {
            userName: 'acme\\tadmin',
            userId: 3,
          },
          companyId: 1,
          operation: 'login',
          target: {
            type: 'user',
            id: '3',
            name: 'tadmin',
          },
          outcome: 'success',
          reason: '',
          details: {},
          sourceAddress: '127.0.0.1',
          hash: 'f02b54d903e204b351b62398dd0acc5641b75e5c67a5aa1533570981737568f3',
        },
      ],
      totalRecords: 1,
    },
  },
};
