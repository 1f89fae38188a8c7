/**
 * @module
 * Moving credentials between berth's store and another credential helper: `berth import --from`
 * and `berth export --to`. Each entry is written, read back and compared; an entry the target
 * already holds with another value is kept unless the caller forces it. Nothing is erased from the
 * source: leaving berth is as easy as arriving.
 */
import { oneLine } from '../errors.js';
import { registryKey } from '../registry-host.js';
import type { Credentials, Store } from '../store/store.js';
import type { ExternalHelper } from './external-helper.js';

export type TransferOutcome = 'copied' | 'unchanged' | 'kept' | 'failed';

export interface TransferEntry {
  registryKey: string;
  username: string;
  outcome: TransferOutcome;
  /** Why an entry failed or was kept; never the secret. */
  reason?: string;
}

export interface TransferReport {
  entries: TransferEntry[];
  counts: Record<TransferOutcome, number>;
}

export interface TransferOptions {
  dryRun?: boolean;
  force?: boolean;
}

/** Both ends as the same four operations. */
interface Side {
  describe: string;
  list(): Promise<Record<string, string>>;
  get(key: string): Promise<Credentials | undefined>;
  set(key: string, credentials: Credentials): Promise<void>;
}

function storeSide(store: Store): Side {
  return {
    describe: `berth's ${store.name} store`,
    list: () => store.list(),
    get: (key) => store.get(registryKey(key)),
    set: (key, credentials) => store.set(registryKey(key), credentials),
  };
}

function helperSide(helper: ExternalHelper): Side {
  return {
    describe: helper.program,
    list: () => helper.list(),
    get: (key) => helper.get(key),
    // docker asks helpers for Hub as https://index.docker.io/v1/ and for other registries by host.
    set: (key, credentials) => helper.store({ ...credentials, serverURL: registryKey(key) }),
  };
}

const same = (a: Credentials | undefined, b: Credentials | undefined) => a?.username === b?.username && a?.secret === b?.secret;

async function transfer(from: Side, to: Side, options: TransferOptions): Promise<TransferReport> {
  const listed = await from.list();
  const targetKeys = new Map(Object.keys(await to.list()).map((url) => [registryKey(url), url]));
  const entries: TransferEntry[] = [];
  for (const [serverURL, username] of Object.entries(listed)) {
    const key = registryKey(serverURL);
    if (key === '') continue;
    const entry: TransferEntry = { registryKey: key, username, outcome: 'failed' };
    entries.push(entry);
    try {
      const credentials = await from.get(serverURL);
      if (!credentials) {
        entry.reason = `listed by ${from.describe} but get found nothing`;
        continue;
      }
      entry.username = credentials.username;
      const existingUrl = targetKeys.get(key);
      const existing = existingUrl === undefined ? undefined : await to.get(existingUrl);
      if (existing && same(existing, credentials)) {
        entry.outcome = 'unchanged';
        continue;
      }
      if (existing && !options.force) {
        entry.outcome = 'kept';
        entry.reason = `${to.describe} already has another login (${existing.username}); --force replaces it`;
        continue;
      }
      if (options.dryRun) {
        entry.outcome = 'copied';
        continue;
      }
      await to.set(key, { ...credentials, serverURL: key });
      if (!same(await to.get(key), credentials)) {
        entry.reason = `${to.describe} did not give back what was stored`;
        continue;
      }
      entry.outcome = 'copied';
    } catch (err) {
      entry.reason = oneLine(err);
    }
  }
  const counts: Record<TransferOutcome, number> = { copied: 0, unchanged: 0, kept: 0, failed: 0 };
  for (const entry of entries) counts[entry.outcome]++;
  return { entries, counts };
}

/** Copies every entry of another helper into berth's store. */
export function importFromHelper(helper: ExternalHelper, store: Store, options: TransferOptions = {}): Promise<TransferReport> {
  return transfer(helperSide(helper), storeSide(store), options);
}

/** Copies every entry of berth's store into another helper. */
export function exportToHelper(store: Store, helper: ExternalHelper, options: TransferOptions = {}): Promise<TransferReport> {
  return transfer(storeSide(store), helperSide(helper), options);
}

/** One line of counts, as the commands print it. */
export function describeCounts(report: TransferReport, dryRun: boolean | undefined): string {
  const { copied, unchanged, kept, failed } = report.counts;
  return `${copied} ${dryRun ? 'to copy' : 'copied'}, ${unchanged} already there, ${kept} kept (differ), ${failed} failed`;
}
