import type { Store } from '../store/db.js';
import { type AuditActor, appendAudit } from './log.js';

/** One refused request, or one refused item of a batch. */
export interface Refusal {
  actor: AuditActor;
  /** `METHOD /route/:pattern`, never the raw URL (it may carry a token in its query). */
  route: string;
  /** What was asked for: the path's id, an item of a batch. */
  target: string;
  code: number;
  reason: string;
  sourceAddr: string;
}

interface Burst {
  first: Refusal;
  opened: number;
  last: number;
  /** Refusals after the first, not yet written. */
  count: number;
  targets: Set<string>;
}

/** Distinct targets a coalesced record lists. */
const MAX_TARGETS = 20;

/**
 * Every refusal (587204594, and 1200 "not found or not visible") goes into
 * the audit trail as `access.denied`, so one tenant cannot probe another
 * unseen. A flood must not swamp the chain: the first refusal of an actor on
 * a route with a code is written at once; the ones that follow within the
 * window are counted and written as one record with their count and sample
 * targets when the window ends (a later refusal, the sweep, or close). So a
 * flood of N refusals writes at most (routes x codes) records per window per
 * actor. Counts not yet written are lost on a crash; the first refusal of
 * every burst never is.
 */
export class RefusalRecorder {
  private readonly open = new Map<string, Burst>();
  private readonly sweep: NodeJS.Timeout;
  /** Told of every refusal, coalesced or not, by its error code (metrics). */
  onRefusal: ((code: number) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    private readonly onError: (err: unknown) => void,
    private readonly windowMs = 60_000,
    /** Bursts kept open at once; past it the oldest is written out early. */
    private readonly maxOpen = 10_000,
  ) {
    this.sweep = setInterval(() => void this.flush(false), Math.max(1000, windowMs / 2));
    this.sweep.unref();
  }

  async record(r: Refusal): Promise<void> {
    this.onRefusal?.(r.code);
    const key = `${r.actor.userId}\u0000${r.route}\u0000${r.code}`;
    const now = this.clock().getTime();
    const burst = this.open.get(key);
    if (burst && now - burst.opened < this.windowMs) {
      burst.count++;
      burst.last = now;
      if (burst.targets.size < MAX_TARGETS) burst.targets.add(r.target);
      return;
    }
    if (burst) await this.close(key, burst);
    if (this.open.size >= this.maxOpen) {
      const [oldestKey, oldest] = this.open.entries().next().value as [string, Burst];
      await this.close(oldestKey, oldest);
    }
    this.open.set(key, { first: r, opened: now, last: now, count: 0, targets: new Set() });
    await this.write(r, { code: r.code, target: r.target });
  }

  /** Writes the counts of bursts whose window has ended (all of them when `all`). */
  async flush(all = true): Promise<void> {
    const now = this.clock().getTime();
    for (const [key, burst] of [...this.open]) {
      if (all || now - burst.opened >= this.windowMs) await this.close(key, burst);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    await this.flush(true);
  }

  private async close(key: string, burst: Burst): Promise<void> {
    this.open.delete(key);
    if (burst.count === 0) return;
    await this.write(burst.first, {
      code: burst.first.code,
      coalesced: burst.count,
      from: new Date(burst.opened).toISOString(),
      to: new Date(burst.last).toISOString(),
      targets: [...burst.targets],
    });
  }

  private async write(r: Refusal, details: Record<string, unknown>): Promise<void> {
    try {
      await this.store.db.transaction().execute((tx) =>
        appendAudit(tx, {
          actor: r.actor,
          operation: 'access.denied',
          targetType: 'route',
          targetId: r.target,
          targetName: r.route,
          outcome: 'failure',
          reason: r.reason,
          details,
          sourceAddr: r.sourceAddr,
          at: this.clock(),
        }),
      );
    } catch (err) {
      // The request is refused either way; losing the record is logged loudly.
      this.onError(err);
    }
  }
}
