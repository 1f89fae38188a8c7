/**
 * @module
 * The long-running `berth kube sync`: a full pass, then a watch on namespaces from the pass's
 * resourceVersion. A namespace that appears (or starts matching the selector) is reconciled at
 * once; one that stops matching is pruned with `--prune`. The watch resumes from the last
 * resourceVersion it saw (bookmarks included) when the server drops it, and lists again on 410
 * Gone. A resync pass runs every `resyncMs`; the credentials are resolved again ahead of their
 * earliest expiry (the daemon's advisory window), and only a changed content is written.
 */
import { oneLine } from '../errors.js';
import { refreshWindows } from '../resolve/refresh.js';
import type { KubeApi, NamespaceObject, WatchEventType, WatchHandle } from './api.js';
import { fingerprint, pruneNamespace, reconcileNamespace, type PullSecretContent } from './reconcile.js';
import { describePass, selected, syncPass, type PassReport, type SyncOptions } from './sync.js';

export interface ControllerOptions {
  api: KubeApi;
  options: SyncOptions;
  /** Resolves the registries' credentials into the Secret's content. */
  resolve: () => Promise<PullSecretContent>;
  log: (line: string) => void;
  resyncMs: number;
  now?: () => number;
  /** Wait before re-watching after a failed watch; doubles up to a minute. */
  watchRetryMs?: number;
}

export interface ControllerStatus {
  passes: number;
  lastPass?: PassReport & { at: number };
  /** Namespaces whose last reconcile failed, with the reason. */
  failing: Map<string, string>;
  syncedNamespaces: number;
  writes: { created: number; updated: number; patched: number; pruned: number };
  watchRestarts: number;
  relists: number;
  credentialsExpireAt?: number;
  lastResolveError?: string;
}

const RESOLVE_RETRY_MS = 30_000;

export class SyncController {
  readonly status: ControllerStatus = {
    passes: 0,
    failing: new Map(),
    syncedNamespaces: 0,
    writes: { created: 0, updated: 0, patched: 0, pruned: 0 },
    watchRestarts: 0,
    relists: 0,
  };
  readonly #o: ControllerOptions;
  readonly #now: () => number;
  readonly #synced = new Map<string, string>();
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #content: PullSecretContent | undefined;
  #resourceVersion = '';
  #watch: WatchHandle | undefined;
  #watchFailures = 0;
  #passes: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Resolves, runs the first pass and starts watching; resolves once the first pass is done. */
  async start(): Promise<PassReport> {
    await this.#refreshContent();
    const report = await this.pass();
    this.#startWatch();
    this.#every(this.#o.resyncMs, () => void this.pass());
    return report;
  }

  /** Resolves the credentials now; a changed content is written at once. */
  refresh(): Promise<void> {
    return this.#refreshContent();
  }

  /** Healthy while it holds credentials that still work and has completed a pass. */
  healthy(): boolean {
    const expires = this.status.credentialsExpireAt;
    return this.status.lastPass !== undefined && (expires === undefined || expires > this.#now());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#passes.catch(() => undefined);
    await Promise.allSettled([...this.#inflight.values()]);
  }

  /** A full pass, one at a time. */
  pass(): Promise<PassReport> {
    const run = this.#passes.then(async () => {
      const content = this.#content;
      if (!content || this.#stopped) return this.status.lastPass as PassReport;
      const report = await syncPass(this.#o.api, content, this.#o.options, this.#synced);
      this.#record(report);
      this.#o.log(`pass: ${describePass(report)}`);
      for (const failure of report.failures) this.#o.log(`${failure.namespace}: ${failure.message}`);
      return report;
    });
    this.#passes = run.catch((err) => this.#o.log(`pass failed: ${oneLine(err)}`));
    return run;
  }

  #record(report: PassReport): void {
    this.status.passes++;
    this.status.lastPass = { ...report, at: this.#now() };
    this.status.writes.created += report.created;
    this.status.writes.updated += report.updated;
    this.status.writes.patched += report.patched;
    this.status.writes.pruned += report.pruned;
    this.status.failing = new Map(report.failures.map((failure) => [failure.namespace, failure.message]));
    this.status.syncedNamespaces = this.#synced.size;
    if (report.resourceVersion) this.#resourceVersion = report.resourceVersion;
  }

  /** Resolves the credentials, and schedules the next resolve ahead of their expiry. */
  async #refreshContent(): Promise<void> {
    const fetchedAt = this.#now();
    try {
      const content = await this.#o.resolve();
      const changed = this.#content === undefined || fingerprint(content) !== fingerprint(this.#content);
      this.#content = content;
      this.status.credentialsExpireAt = content.expiresAt?.getTime();
      delete this.status.lastResolveError;
      if (content.expiresAt) {
        const life = content.expiresAt.getTime() - fetchedAt;
        this.#after(Math.max(1_000, life - refreshWindows(life).advisoryMs), () => void this.#refreshAndPass());
      }
      if (changed && this.status.passes > 0) await this.pass();
    } catch (err) {
      this.status.lastResolveError = oneLine(err);
      if (this.#content === undefined) throw err; // nothing to serve yet: the caller decides
      this.#o.log(`cannot refresh the credentials (${oneLine(err)}); keeping the current ones, retrying`);
      this.#after(RESOLVE_RETRY_MS, () => void this.#refreshAndPass());
    }
  }

  async #refreshAndPass(): Promise<void> {
    await this.#refreshContent().catch((err) => this.#o.log(`cannot resolve the credentials: ${oneLine(err)}`));
  }

  #startWatch(): void {
    if (this.#stopped) return;
    let relist = false;
    const onEvent = (type: WatchEventType, object: NamespaceObject & { code?: number }) => {
      if (type === 'ERROR') {
        if (object.code === 410) relist = true; // our resourceVersion is too old: list again
        return;
      }
      if (object.metadata?.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
      if (type === 'BOOKMARK') return;
      this.#onNamespace(type, object);
    };
    const done = (err: unknown) => {
      this.#watch = undefined;
      if (this.#stopped) return;
      this.status.watchRestarts++;
      this.#watchFailures = err ? this.#watchFailures + 1 : 0;
      const delay = err ? Math.min(60_000, (this.#o.watchRetryMs ?? 1_000) * 2 ** (this.#watchFailures - 1)) : 0;
      if (err) this.#o.log(`namespace watch ended (${oneLine(err)}); resuming in ${delay} ms`);
      this.#after(delay, () => void this.#resume(relist));
    };
    const query = {
      resourceVersion: this.#resourceVersion,
      ...(this.#o.options.namespaceSelector ? { labelSelector: this.#o.options.namespaceSelector } : {}),
    };
    this.#o.api.watchNamespaces(query, onEvent, done).then((handle) => {
      this.#watch = handle;
      if (this.#stopped) handle.stop();
    }, done);
  }

  async #resume(relist: boolean): Promise<void> {
    if (relist) {
      this.status.relists++;
      await this.pass().catch(() => undefined);
    }
    this.#startWatch();
  }

  #onNamespace(type: WatchEventType, namespace: NamespaceObject): void {
    const name = namespace.metadata.name;
    const content = this.#content;
    if (!content) return;
    const matches = type !== 'DELETED' && selected(namespace, this.#o.options);
    if (matches && this.#synced.get(name) === fingerprint(content)) return;
    if (!matches) this.#synced.delete(name);
    if (!matches && !this.#o.options.prune) return;
    this.#serialise(name, async () => {
      try {
        if (matches) {
          const outcome = await reconcileNamespace(this.#o.api, name, this.#o.options, content, this.#o.options.retry);
          this.#synced.set(name, fingerprint(content));
          if (outcome.secret !== 'unchanged') this.status.writes[outcome.secret]++;
          this.status.writes.patched += outcome.patched.length;
          this.status.failing.delete(name);
          this.#o.log(`${name}: secret ${outcome.secret}${outcome.patched.length ? `, patched ${outcome.patched.join(', ')}` : ''}`);
        } else if (await pruneNamespace(this.#o.api, name, this.#o.options, this.#o.options.retry)) {
          this.status.writes.pruned++;
          this.#o.log(`${name}: no longer matches; secret pruned`);
        }
      } catch (err) {
        this.status.failing.set(name, oneLine(err));
        this.#o.log(`${name}: ${oneLine(err)}`);
      }
      this.status.syncedNamespaces = this.#synced.size;
    });
  }

  /** Work on one namespace never overlaps other work on it. */
  #serialise(namespace: string, work: () => Promise<void>): void {
    const previous = this.#inflight.get(namespace) ?? Promise.resolve();
    const next = previous.then(work);
    this.#inflight.set(namespace, next);
    void next.finally(() => {
      if (this.#inflight.get(namespace) === next) this.#inflight.delete(namespace);
    });
  }

  #after(delayMs: number, run: () => void): void {
    if (this.#stopped) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (!this.#stopped) run();
      },
      Math.min(delayMs, 2 ** 31 - 1),
    );
    timer.unref?.();
    this.#timers.add(timer);
  }

  #every(intervalMs: number, run: () => void): void {
    this.#after(intervalMs, () => {
      run();
      this.#every(intervalMs, run);
    });
  }
}
