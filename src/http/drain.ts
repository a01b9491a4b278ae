import type { IncomingMessage } from 'node:http';

/** Up to this much of a refused body is read and discarded so that its reply is read. */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** …and for at most this long. */
export const DRAIN_MAX_MS = 30_000;

/**
 * Reads and discards what is left of a request's body. A request refused
 * before its body was read (a 413 on its Content-Length, a 415) is answered
 * with `Connection: close`; had the client not finished uploading, Node would
 * close the socket with the upload unread, the kernel would reset the
 * connection, and the client would see EPIPE or ECONNRESET ("fetch failed")
 * instead of the reply. Draining first lets the connection close cleanly.
 *
 * Bounded: a body declared larger than `maxBytes` is not waited for, and
 * draining stops after `maxBytes` or `maxMs`, whichever comes first (then
 * the reply goes out and the client may see the reset).
 */
export function drainRequest(
  req: IncomingMessage,
  { maxBytes = DRAIN_MAX_BYTES, maxMs = DRAIN_MAX_MS }: { maxBytes?: number; maxMs?: number } = {},
): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  if (Number(req.headers['content-length']) > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('error', done);
      req.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer | string) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    req.on('data', onData);
    req.on('end', done);
    req.on('error', done);
    req.on('close', done);
    req.resume();
  });
}
