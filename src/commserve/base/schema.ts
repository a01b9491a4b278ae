import type { RouteDocs } from '../../http/route-doc.js';

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const BASE_DOCS: RouteDocs = {
  'GET /': {
    summary: "The service is there (cvpysdk's first call); no token needed",
    root: 'App_GenericResp',
    example: {
      errorCode: 0,
      errorMessage: 'Bulwark CommServe API',
    },
  },
};
