import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drainRequest } from './drain.js';

function request(headers: Record<string, string> = {}) {
  const s = new PassThrough() as PassThrough & { headers: Record<string, string>; complete: boolean };
  s.headers = headers;
  s.complete = false;
  return s;
}

describe('drainRequest', () => {
  it('reads the rest of the body and resolves at its end', async () => {
    const req = request({ 'content-length': '6' });
    let done = false;
    const drained = drainRequest(req as unknown as IncomingMessage).then(() => {
      done = true;
    });
    req.write('abc');
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    req.end('def');
    await drained;
    expect(req.readableEnded).toBe(true);
  });

  it('does not wait for a body declared larger than the bound, nor past the bound or the time limit', async () => {
    await drainRequest(request({ 'content-length': '1000' }) as unknown as IncomingMessage, { maxBytes: 10 });
    const big = request();
    const past = drainRequest(big as unknown as IncomingMessage, { maxBytes: 10 });
    big.write(Buffer.alloc(11));
    await past;
    const slow = request();
    const started = Date.now();
    await drainRequest(slow as unknown as IncomingMessage, { maxMs: 50 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('resolves at once for a body already read', async () => {
    const req = request();
    req.complete = true;
    await drainRequest(req as unknown as IncomingMessage);
  });
});
