import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

// Line reading shared by the JSON-lines importers (catalogue; the entity
// importer reads its lines the same way): a body or a file as lines, without
// holding more than one line in memory.

export type Line = { text: string } | { tooLong: true };

/** Raised when a stream passes `maxBytes`; the importer's transaction rolls back. */
export class TooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the body is larger than ${maxBytes} bytes`);
  }
}

/**
 * The lines of a stream (UTF-8; `\r\n` or `\n`). A line longer than
 * `maxLine` characters is reported as `tooLong` (and skipped to its end);
 * more than `maxBytes` in all raises TooLargeError.
 */
export async function* linesOf(
  input: Readable | AsyncIterable<Buffer | string> | string,
  opts: { maxLine: number; maxBytes?: number },
): AsyncGenerator<Line> {
  if (typeof input === 'string') {
    let start = 0;
    while (start <= input.length) {
      let end = input.indexOf('\n', start);
      if (end === -1) end = input.length;
      // A final newline ends the last line; it does not start another.
      if (end < input.length || start < input.length) yield cut(input.slice(start, end), opts.maxLine);
      start = end + 1;
    }
    return;
  }
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let buffered = '';
  let skipping = false;
  for await (const chunk of input) {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (opts.maxBytes !== undefined && bytes > opts.maxBytes) throw new TooLargeError(opts.maxBytes);
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl === -1) break;
      const piece = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      yield cut(buffered + piece, opts.maxLine);
      buffered = '';
    }
    if (skipping) continue;
    buffered += text;
    if (buffered.length > opts.maxLine) {
      buffered = '';
      skipping = true;
      yield { tooLong: true };
    }
  }
  buffered += decoder.end();
  if (!skipping && buffered !== '') yield cut(buffered, opts.maxLine);
}

function cut(text: string, maxLine: number): Line {
  const t = text.endsWith('\r') ? text.slice(0, -1) : text;
  return t.length > maxLine ? { tooLong: true } : { text: t };
}
