/**
 * The CommServe dialect's one closed catalogue of error codes. Application
 * errors travel with HTTP 200 and a non-zero errorCode, as the product's do;
 * transport errors (unreadable body, no token) use HTTP status codes too.
 * The README's error table lists every entry; test/readme.test.ts keeps the two in step.
 */
export const CS_ERRORS = {
  BAD_REQUEST: { code: 1000, http: 400, message: 'The request is not valid' },
  MALFORMED_XML: { code: 1001, http: 400, message: 'The XML body cannot be read' },
  MALFORMED_JSON: { code: 1002, http: 400, message: 'The JSON body cannot be read' },
  XML_DOCTYPE: { code: 1003, http: 400, message: 'XML with a DOCTYPE or entity declarations is not accepted' },
  BAD_BASE64: { code: 1004, http: 400, message: 'A secret in a JSON body must be valid base64 of UTF-8 text' },
  BODY_TOO_LARGE: { code: 1005, http: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 1006,
    http: 415,
    message: 'Unsupported Content-Type; send application/json or application/xml',
  },
  WRONG_MESSAGE: { code: 1007, http: 400, message: 'This endpoint does not take that message' },
  NOT_AUTHENTICATED: { code: 1100, http: 401, message: 'The Authtoken is missing, invalid or expired; log in again' },
  LOGIN_FAILED: { code: 1101, http: 200, message: 'Invalid username or password' },
  ACCOUNT_LOCKED: {
    code: 1102,
    http: 200,
    message: 'The account is locked after repeated failed logins; try again later',
  },
  ADDRESS_THROTTLED: {
    code: 1103,
    http: 429,
    message: 'Too many failed logins from this address; try again later',
  },
  LOGIN_DISABLED: { code: 1104, http: 200, message: 'Login is disabled for this account or its company' },
  INSUFFICIENT_PRIVILEGES: {
    code: 587204594,
    http: 200,
    message: 'You do not have sufficient privileges for this operation',
  },
  PASSKEY_INCORRECT: {
    code: 587206528,
    http: 200,
    message: 'Passkey is incorrect. Please provide valid passkey to continue with the operation.',
  },
  NOT_FOUND: { code: 1200, http: 200, message: 'No such object, or it is not visible to you' },
  ALREADY_EXISTS: { code: 1201, http: 200, message: 'An object with that name already exists' },
  PASSWORD_POLICY: {
    code: 1202,
    http: 200,
    message: 'The password does not meet the policy: 8 to 256 characters, not all blank',
  },
  OLD_PASSWORD_WRONG: { code: 1203, http: 200, message: 'The current password is incorrect' },
  INVALID_VALUE: { code: 1204, http: 200, message: 'A value in the request is not acceptable' },
  NO_ACCOUNT_MATCHED: {
    code: 1501,
    http: 200,
    message: 'No stored account you may see has that user name',
  },
  ACCOUNT_MANAGEMENT_LOCKED: {
    code: 1502,
    http: 200,
    message: 'Account management is locked for you after repeated wrong old passwords; try again later',
  },
  INTERNAL: { code: 1300, http: 500, message: 'Internal error' },
  PASSKEY_MISMATCH: { code: 1401, http: 200, message: 'The new passkey and its confirmation differ' },
  PASSKEY_EXISTS: { code: 1402, http: 200, message: 'A passkey is already set here; change it with EDIT' },
  PASSKEY_NOT_SET: { code: 1403, http: 200, message: 'No passkey is set here' },
  PASSKEY_POLICY: {
    code: 1404,
    http: 200,
    message: 'The passkey does not meet the policy: 8 to 256 characters, not all blank',
  },
  PASSKEY_LOCKED: {
    code: 1405,
    http: 200,
    message: 'Passkey operations here are locked after repeated wrong passkeys; try again later',
  },
  RESTORE_NOT_AUTHORIZED: {
    code: 1410,
    http: 200,
    message: 'A passkey guards this data: authorize for restore first (App_AuthorizeForRestoreRequest)',
  },
} as const satisfies Record<string, { code: number; http: number; message: string }>;

export type CsErrorName = keyof typeof CS_ERRORS;

/** Thrown by handlers and turned into the dialect's envelope by one error handler. */
export class CsError extends Error {
  readonly code: number;
  readonly http: number;
  constructor(
    readonly kind: CsErrorName,
    /** Replaces the catalogue's message when more precise; never carries a secret. */
    detail?: string,
    /** Extra keys for the reply body (e.g. isAccountLocked on a failed login). */
    readonly extra?: Record<string, unknown>,
  ) {
    const entry = CS_ERRORS[kind];
    super(detail ?? entry.message);
    this.code = entry.code;
    this.http = entry.http;
  }
}
