/**
 * @module
 * Key rotation: add or remove key blocks without touching the payload. The old key unwraps the
 * file key and proves the header intact (MAC); the new header keeps the salt and file key, so the
 * chunks stay valid byte for byte. Armored files stay armored. Legacy jet files have no header to
 * rewrite: they are decrypted and written as armored berth files (text in, text out).
 */
import { UsageError } from '../errors.js';
import { ArmorDecoder, ArmorEncoder } from './armor.js';
import { DETECT_BYTES, detectFormat, type Format } from './detect.js';
import { TruncatedError } from './errors.js';
import { FileSealer, pipe, type Coder } from './format.js';
import { keyList, parseHeader, serializeHeader, unwrapFileKey, type UserKeys, verifyHeader, wrapFileKey, type Header } from './header.js';
import { keyId } from './key.js';
import { LegacyDecoder } from './legacy.js';

export interface RekeyChanges {
  add?: readonly Uint8Array[];
  /** Key ids (16 hex characters) to remove. */
  remove?: readonly string[];
}

export interface RekeyReport {
  format: Format;
  /** The key ids that can open the file afterwards. */
  keyIds: string[];
  added: string[];
  removed: string[];
}

/** The new header's blocks: the old ones minus `remove`, plus `add` (already present keys are kept). */
function changeBlocks(header: Header, fileKey: Buffer, changes: RekeyChanges): { header: Header; added: string[]; removed: string[] } {
  const present = header.blocks.map((b) => b.id.toString('hex'));
  const remove = new Set(changes.remove ?? []);
  for (const id of remove) {
    if (!present.includes(id)) throw new UsageError(`key ${id} cannot be removed: the file is encrypted for ${present.join(', ')}`);
  }
  const blocks = header.blocks.filter((b) => !remove.has(b.id.toString('hex')));
  const added: string[] = [];
  for (const key of changes.add ?? []) {
    const id = keyId(key);
    if (blocks.some((b) => b.id.toString('hex') === id)) continue;
    blocks.push(wrapFileKey(header, fileKey, key));
    added.push(id);
  }
  if (blocks.length === 0) throw new UsageError('cannot remove every key: nothing could open the file');
  if (blocks.length > 255) throw new UsageError('a file can be encrypted for at most 255 keys');
  return { header: { ...header, blocks }, added, removed: [...remove] };
}

/** Rewrites the header of a binary berth file and passes the payload through unchanged. */
class HeaderRewriter implements Coder {
  private input: Buffer = Buffer.alloc(0);
  private rewritten = false;

  constructor(
    private readonly oldKey: UserKeys,
    private readonly changes: RekeyChanges,
    private readonly report: RekeyReport,
  ) {}

  write(data: Uint8Array): Buffer[] {
    if (this.rewritten) return [Buffer.from(data)];
    this.input = Buffer.concat([this.input, data]);
    const parsed = parseHeader(this.input);
    if (!parsed) return [];
    const fileKey = unwrapFileKey(parsed.header, this.oldKey);
    verifyHeader(parsed, fileKey);
    const changed = changeBlocks(parsed.header, fileKey, this.changes);
    Object.assign(this.report, {
      keyIds: changed.header.blocks.map((b) => b.id.toString('hex')),
      added: changed.added,
      removed: changed.removed,
    });
    this.rewritten = true;
    const rest = this.input.subarray(parsed.length);
    this.input = Buffer.alloc(0);
    return [serializeHeader(changed.header, fileKey), rest];
  }

  end(): Buffer[] {
    if (!this.rewritten) throw new TruncatedError('file truncated: it ends inside the header');
    return [];
  }
}

/** Legacy files: the new berth file is for the old key plus `add`, minus `remove`. */
function legacyConverter(oldKeys: UserKeys, changes: RekeyChanges, report: RekeyReport): Coder {
  // A legacy file names no key: it is read with the first key found.
  const oldKey = keyList(oldKeys)[0]!;
  const candidates = [oldKey, ...(changes.add ?? [])];
  const remove = changes.remove ?? [];
  for (const id of remove) {
    if (!candidates.some((key) => keyId(key) === id)) {
      throw new UsageError(`key ${id} cannot be removed: this legacy file is readable only by ${keyId(oldKey)}`);
    }
  }
  const keys = candidates.filter((key) => !remove.includes(keyId(key)));
  if (keys.length === 0) throw new UsageError('cannot remove every key: nothing could open the file');
  const ids = [...new Set(keys.map(keyId))];
  Object.assign(report, { keyIds: ids, added: ids, removed: [] });
  return pipe(new LegacyDecoder(Buffer.from(oldKey)), new FileSealer(keys, { armor: true }));
}

/** Streams a rekeyed copy of any berth or legacy file; `report` is filled once the header is read. */
export class Rekeyer implements Coder {
  readonly report: RekeyReport = { format: 'binary', keyIds: [], added: [], removed: [] };
  private prefix: Buffer = Buffer.alloc(0);
  private inner: Coder | undefined;

  constructor(
    private readonly oldKey: UserKeys,
    private readonly changes: RekeyChanges,
  ) {}

  write(data: Uint8Array): Buffer[] {
    if (this.inner) return this.inner.write(data);
    this.prefix = Buffer.concat([this.prefix, data]);
    const format = detectFormat(this.prefix.subarray(0, DETECT_BYTES), false);
    return format ? this.start(format) : [];
  }

  end(): Buffer[] {
    if (this.inner) return this.inner.end();
    const out = this.start(detectFormat(this.prefix, true)!);
    return [...out, ...this.inner!.end()];
  }

  private start(format: Format): Buffer[] {
    this.report.format = format;
    const rewriter = () => new HeaderRewriter(this.oldKey, this.changes, this.report);
    if (format === 'binary') this.inner = rewriter();
    else if (format === 'armor') this.inner = pipe(new ArmorDecoder(), rewriter(), new ArmorEncoder());
    else this.inner = legacyConverter(this.oldKey, this.changes, this.report);
    const prefix = this.prefix;
    this.prefix = Buffer.alloc(0);
    return this.inner.write(prefix);
  }
}
