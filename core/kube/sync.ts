/**
 * @module
 * `berth kube sync`: which namespaces get the pull Secret (names, all, a label selector, minus
 * exclusions), one pass over them, and the long-running controller: list, then watch namespaces
 * from the list's resourceVersion (bookmarks keep it current; a dropped watch resumes from it; 410
 * Gone lists again), a periodic resync, and a refresh of the credentials ahead of their earliest
 * expiry. A namespace already holding the current content is not written again.
 */
import { UsageError, oneLine } from '../errors.js';
import type { KubeApi, NamespaceObject } from './api.js';
import { fingerprint, pruneNamespace, reconcileNamespace, type PullSecretContent, type RetryOptions, type Target } from './reconcile.js';

export interface Selection {
  namespaces: readonly string[];
  allNamespaces: boolean;
  namespaceSelector?: string;
  excludeNamespaces: readonly string[];
}

export interface SyncOptions extends Target, Selection {
  prune: boolean;
  /** Namespaces reconciled at once. */
  concurrency?: number;
  retry?: RetryOptions;
}

export interface NamespaceFailure {
  namespace: string;
  message: string;
}

export interface PassReport {
  matched: number;
  created: number;
  updated: number;
  unchanged: number;
  patched: number;
  pruned: number;
  failures: NamespaceFailure[];
  resourceVersion: string;
}

export function checkSelection(selection: Selection): void {
  const modes = [selection.namespaces.length > 0, selection.allNamespaces, selection.namespaceSelector !== undefined].filter(
    Boolean,
  ).length;
  if (modes === 0) {
    throw new UsageError('no namespaces chosen', {
      hint: 'pass --namespace NS (repeatable), --all-namespaces or --namespace-selector KEY=VALUE',
    });
  }
  if (selection.allNamespaces && modes > 1) {
    throw new UsageError('--all-namespaces cannot be combined with --namespace or --namespace-selector');
  }
}

/** Whether a namespace the list (already filtered by the label selector) returned is one to serve. */
export function selected(namespace: NamespaceObject, selection: Selection): boolean {
  const name = namespace.metadata.name;
  if (selection.excludeNamespaces.includes(name) || namespace.status?.phase === 'Terminating') return false;
  return selection.namespaces.length === 0 || selection.namespaces.includes(name);
}

function emptyReport(resourceVersion: string): PassReport {
  return { matched: 0, created: 0, updated: 0, unchanged: 0, patched: 0, pruned: 0, failures: [], resourceVersion };
}

/** Runs `work` over `items`, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * A pass: list the namespaces, reconcile each that matches (recording the content it now holds in
 * `synced`), and with `prune` remove berth's Secret from those that do not.
 */
export async function syncPass(
  api: KubeApi,
  content: PullSecretContent,
  options: SyncOptions,
  synced: Map<string, string> = new Map(),
): Promise<PassReport> {
  const list = await api.listNamespaces(options.namespaceSelector);
  const report = emptyReport(list.resourceVersion);
  const matching = list.items.filter((namespace) => selected(namespace, options)).map((namespace) => namespace.metadata.name);
  report.matched = matching.length;
  for (const name of options.namespaces) {
    if (!matching.includes(name) && !options.excludeNamespaces.includes(name)) {
      report.failures.push({
        namespace: name,
        message: `namespace ${name} not found${options.namespaceSelector ? ' or not selected' : ''}`,
      });
    }
  }
  const print = fingerprint(content);
  await eachLimited(matching, options.concurrency ?? 16, async (namespace) => {
    try {
      const outcome = await reconcileNamespace(api, namespace, options, content, options.retry);
      report[outcome.secret]++;
      report.patched += outcome.patched.length;
      synced.set(namespace, print);
    } catch (err) {
      synced.delete(namespace);
      report.failures.push({ namespace, message: oneLine(err) });
    }
  });
  if (options.prune) await pruneOthers(api, new Set(matching), options, report, list.items);
  return report;
}

async function pruneOthers(api: KubeApi, matching: Set<string>, options: SyncOptions, report: PassReport, listed: NamespaceObject[]) {
  const all = options.namespaceSelector ? (await api.listNamespaces()).items : listed;
  const others = all.map((namespace) => namespace.metadata.name).filter((name) => !matching.has(name));
  await eachLimited(others, options.concurrency ?? 16, async (namespace) => {
    try {
      if (await pruneNamespace(api, namespace, options, options.retry)) report.pruned++;
    } catch (err) {
      report.failures.push({ namespace, message: `prune: ${oneLine(err)}` });
    }
  });
}

/** One line for a log: what a pass did. */
export function describePass(report: PassReport): string {
  const parts = [
    `${report.matched} namespaces`,
    `${report.created} created`,
    `${report.updated} updated`,
    `${report.unchanged} unchanged`,
    `${report.patched} service accounts patched`,
  ];
  if (report.pruned > 0) parts.push(`${report.pruned} pruned`);
  if (report.failures.length > 0) parts.push(`${report.failures.length} failed`);
  return parts.join(', ');
}
