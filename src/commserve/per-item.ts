import type { FastifyRequest } from 'fastify';
import { CsError } from './errors.js';

/**
 * The product's batch-create reply: one `{errorCode, errorString, entity}` per
 * item (cvpysdk indexes both code and string), and the first failure repeated
 * at the top. An application error fails only its item; anything else (a bad
 * body, a lost database) fails the request. A refused item is audited as a
 * refused request is.
 */
export async function perItem<T>(
  req: FastifyRequest,
  items: readonly T[],
  create: (item: T, index: number) => Promise<Record<string, unknown>>,
): Promise<{ response: Array<Record<string, unknown>>; errorCode: number; errorMessage: string }> {
  const response: Array<{ errorCode: number; errorString: string; entity?: Record<string, unknown> }> = [];
  for (const [i, item] of items.entries()) {
    try {
      response.push({ errorCode: 0, errorString: '', entity: await create(item, i) });
    } catch (e) {
      if (!(e instanceof CsError) || e.http !== 200) throw e;
      await req.refused?.(e, `item ${i}`);
      response.push({ errorCode: e.code, errorString: e.message });
    }
  }
  const failed = response.find((x) => x.errorCode !== 0);
  return { response, errorCode: failed?.errorCode ?? 0, errorMessage: failed?.errorString ?? '' };
}
