/**
 * @module
 * A manual clock with timers, for code that takes `now` and `Timers` injected: `advance(ms)` moves
 * time forward and fires every timer that falls due, in order, letting promises settle between them.
 */
import type { Timers } from '../../core/resolve/refresh.js';

interface Pending {
  at: number;
  seq: number;
  callback: () => void;
}

export class FakeClock implements Timers {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  set(callback: () => void, delayMs: number): unknown {
    const seq = ++this.#seq;
    this.#pending.set(seq, { at: this.#now + Math.max(0, delayMs), seq, callback });
    return seq;
  }

  clear(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Timers still waiting, soonest first (their due times). */
  scheduled(): number[] {
    return [...this.#pending.values()].sort((a, b) => a.at - b.at || a.seq - b.seq).map((p) => p.at);
  }

  /** Moves time forward by `ms`, firing due timers in order and flushing promise callbacks after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const next = [...this.#pending.values()].filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#pending.delete(next.seq);
      this.#now = next.at;
      next.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets every already-queued promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A seeded random source, so jitter is repeatable. */
export function seededRandom(seed = 1): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}
