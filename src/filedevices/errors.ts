/**
 * The file-devices dialect's one closed catalogue of errors. Every error
 * answers with its HTTP status and the body
 * `{"errorCode":"…","errorMsg":"…","errorDetail":{"message":"…"}}`; the README's
 * table lists every entry (test/readme.test.ts keeps the two in step).
 */
export const FD_ERRORS = {
  INVALID_INPUT: { http: 400, message: 'The request is not valid' },
  UNSUPPORTED_MEDIA_TYPE: { http: 400, message: 'Only application/json bodies are accepted' },
  BODY_TOO_LARGE: { http: 400, message: 'The request body is too large' },
  NOT_AUTHENTICATED: {
    http: 401,
    message: 'Authentication required: X-Api-Key, X-Subsystem-User and X-Subsystem-Password, or Authorization: Basic',
  },
  INVALID_CREDENTIALS: { http: 401, message: 'The credentials are not valid' },
  ACCOUNT_LOCKED: { http: 401, message: 'The account is locked after repeated failed logins; try again later' },
  ADDRESS_THROTTLED: { http: 401, message: 'Too many failed logins from this address; try again later' },
  ACCESS_DENIED: { http: 403, message: 'The access level does not allow this call' },
  NOT_FOUND: { http: 404, message: 'No such object' },
  ROUTE_NOT_FOUND: { http: 404, message: 'No such resource' },
  ALREADY_EXISTS: { http: 409, message: 'An object with that name already exists' },
  ADDRESS_IN_USE: { http: 409, message: 'That IP address is already assigned' },
  VIRTUAL_SERVER_ENABLED: { http: 409, message: 'A virtual server can only be deleted when it is disabled' },
  LAST_ADDRESS: { http: 409, message: 'The last IP address of a virtual server cannot be removed' },
  INTERNAL_ERROR: { http: 500, message: 'Internal error' },
} as const satisfies Record<string, { http: number; message: string }>;

export type FdErrorName = keyof typeof FD_ERRORS;

export class FdError extends Error {
  readonly http: number;
  /** Set when the refusal is already in the audit trail (a failed password check audits itself). */
  audited = false;
  constructor(
    readonly kind: FdErrorName,
    /** errorDetail.message: more precise than the catalogue's message; never carries a secret. */
    readonly detail?: string,
    /** Extra reply headers (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(FD_ERRORS[kind].message);
    this.http = FD_ERRORS[kind].http;
  }

  body(): { errorCode: string; errorMsg: string; errorDetail: { message: string } } {
    return { errorCode: this.kind, errorMsg: this.message, errorDetail: { message: this.detail ?? this.message } };
  }
}
