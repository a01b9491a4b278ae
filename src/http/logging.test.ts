import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from './logging.js';

describe('query strings in logs', () => {
  it('a URL keeps its path and loses its query string', () => {
    expect(redactUrl('/commandcenter/api/User')).toBe('/commandcenter/api/User');
    expect(redactUrl('/commandcenter/api/User?Authtoken=QSDK%20abc&limit=5')).toBe(
      '/commandcenter/api/User?[redacted]',
    );
    expect(redactUrl('/x?')).toBe('/x?[redacted]');
  });

  it('URLs quoted in free text lose their query strings; other question marks stay', () => {
    expect(redactUrlsIn('Route GET:/api/x?Authtoken=secret not found')).toBe('Route GET:/api/x?[redacted] not found');
    expect(redactUrlsIn('"/a?b=1" and /c?d=2')).toBe('"/a?[redacted]" and /c?[redacted]');
    expect(redactUrlsIn('is it? yes')).toBe('is it? yes');
  });
});
