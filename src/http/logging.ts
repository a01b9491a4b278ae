import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { type LoggerOptions, stdSerializers } from 'pino';

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

const CENSOR = '[redacted]';

/**
 * A URL as it may be logged: the path, and `?[redacted]` for any query
 * string. A query can carry a secret (an `?Authtoken=` some clients send) as
 * a header can; its parameter names are not kept either, since a bare
 * `?<token>` would be one.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?${CENSOR}`;
}

/** `/path?query` inside free text (an error message that quotes the URL). */
const URL_IN_TEXT = /(\/[^\s?"'`]*)\?[^\s"'`]*/g;

/** Free text with any URL's query string redacted. */
export function redactUrlsIn(text: string): string {
  return text.includes('?') ? text.replace(URL_IN_TEXT, `$1?${CENSOR}`) : text;
}

/**
 * Fastify's request serializer (method, url, host, address, port), with the
 * query string redacted.
 */
function req(r: FastifyRequest | IncomingMessage) {
  return {
    method: r.method,
    url: redactUrl(r.url ?? ''),
    host: 'host' in r ? r.host : r.headers?.host,
    remoteAddress: 'ip' in r ? r.ip : r.socket?.remoteAddress,
    remotePort: r.socket?.remotePort,
  };
}

/** pino's error serializer, with URLs quoted in the message or stack redacted. */
function err(e: Error) {
  const out = stdSerializers.err(e);
  if (typeof out.message === 'string') out.message = redactUrlsIn(out.message);
  if (typeof out.stack === 'string') out.stack = redactUrlsIn(out.stack);
  return out;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: { req, err },
    hooks: {
      // Log messages that quote a URL (Fastify's "Route GET:/x?… not found").
      logMethod(args, method) {
        const [first, ...rest] = args;
        if (typeof first === 'string')
          return method.apply(this, [redactUrlsIn(first), ...rest] as Parameters<typeof method>);
        const [msg, ...more] = rest;
        if (typeof msg === 'string')
          return method.apply(this, [first, redactUrlsIn(msg), ...more] as Parameters<typeof method>);
        return method.apply(this, args);
      },
    },
  };
}
