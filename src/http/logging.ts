import type { LoggerOptions } from 'pino';

/**
 * Wherever a secret could end up in a log line, it is censored: request
 * headers (if a serializer ever logs them), and any logged object's secret
 * fields. Bodies are never logged.
 */
export const REDACT_PATHS = [
  'req.headers.authtoken',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-subsystem-password"]',
  'req.headers.cookie',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.confirmPassword',
  '*.passkey',
  '*.newPasskey',
  '*.currentPasskey',
  '*.confirmPasskey',
  '*.token',
  '*.apiKey',
  '*.key',
  'password',
  'passkey',
  'token',
];

export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}
