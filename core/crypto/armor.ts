/**
 * @module
 * The text form of an encrypted file: strict PEM-style base64 between BEGIN and END lines, 64
 * columns, canonical padding on the last line only. Strict so one file has one text form and a
 * mangled copy is caught here with a line number rather than as a failed chunk. CRLF line ends
 * (a Windows checkout) are accepted; after the END line only short lines of whitespace are.
 */
import { NotBerthFileError, TamperedError, TruncatedError } from './errors.js';

export const ARMOR_BEGIN = '-----BEGIN BERTH ENCRYPTED FILE-----';
export const ARMOR_END = '-----END BERTH ENCRYPTED FILE-----';
const COLUMNS = 64;
const LINE_BYTES = (COLUMNS / 4) * 3;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Turns binary pieces into armored text; keeps under one line of bytes between calls. */
export class ArmorEncoder {
  private pending = Buffer.alloc(0);
  private started = false;

  write(data: Uint8Array): Buffer[] {
    const out: Buffer[] = this.start();
    const all = this.pending.length ? Buffer.concat([this.pending, data]) : Buffer.from(data);
    const whole = all.length - (all.length % LINE_BYTES);
    if (whole > 0) out.push(Buffer.from(lines(all.subarray(0, whole)), 'latin1'));
    this.pending = Buffer.from(all.subarray(whole));
    return out;
  }

  end(): Buffer[] {
    const out: Buffer[] = this.start();
    out.push(Buffer.from(`${lines(this.pending)}${ARMOR_END}\n`, 'latin1'));
    this.pending = Buffer.alloc(0);
    return out;
  }

  private start(): Buffer[] {
    if (this.started) return [];
    this.started = true;
    return [Buffer.from(`${ARMOR_BEGIN}\n`, 'latin1')];
  }
}

function lines(bytes: Buffer): string {
  const text = bytes.toString('base64');
  let out = '';
  for (let at = 0; at < text.length; at += COLUMNS) out += `${text.slice(at, at + COLUMNS)}\n`;
  return out;
}

type State = 'begin' | 'body' | 'short' | 'end';

/** Turns armored text back into binary pieces, line by line, rejecting anything non-canonical. */
export class ArmorDecoder {
  private partial = '';
  private state: State = 'begin';
  private lineNumber = 0;

  write(data: Uint8Array): Buffer[] {
    const text = this.partial + Buffer.from(data).toString('latin1');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    const out: Buffer[] = [];
    // Full body lines (64 columns, no padding) are decoded together, one piece per run of them:
    // line by line, a large file cost a decode, a re-encode and a piece for every 48 bytes.
    let full: string[] = [];
    const flush = () => {
      if (full.length > 0) out.push(this.fullLines(full));
      full = [];
    };
    for (const part of parts) {
      const line = part.endsWith('\r') ? part.slice(0, -1) : part;
      if (this.state === 'body' && line.length === COLUMNS && !line.endsWith('=')) {
        full.push(line);
        continue;
      }
      flush();
      const bytes = this.line(line);
      if (bytes) out.push(bytes);
    }
    flush();
    // Bound every line, the ones after END too: a file without newlines would otherwise be held
    // whole and joined again on every write.
    if (this.partial.length > COLUMNS + 1) {
      this.lineNumber++;
      this.fail(this.state === 'end' ? 'a line after the END line is longer than 64 columns' : 'not a 64-column base64 line');
    }
    return out;
  }

  end(): Buffer[] {
    if (this.partial !== '') this.write(Buffer.from('\n'));
    if (this.state !== 'end') throw new TruncatedError('file truncated: the armored text has no END line');
    return [];
  }

  /**
   * Body lines of 64 columns without padding: canonical whenever they are base64 (48 bytes to a
   * line, no bits left over). When one is not, they go line by line to name it.
   */
  private fullLines(lines: string[]): Buffer {
    const joined = lines.join('');
    const bytes = Buffer.from(joined, 'base64');
    // Node's decoder skips what is not base64 and takes the URL-safe alphabet too: encoded again,
    // only strict base64 gives the same text back.
    if (bytes.toString('base64') !== joined) for (const line of lines) this.line(line);
    this.lineNumber += lines.length;
    return bytes;
  }

  private line(line: string): Buffer | undefined {
    this.lineNumber++;
    switch (this.state) {
      case 'begin':
        if (line !== ARMOR_BEGIN) throw new NotBerthFileError(`not a berth armored file: line 1 is not ${ARMOR_BEGIN}`);
        this.state = 'body';
        return undefined;
      case 'end':
        if (line.trim() !== '') this.fail('unexpected text after the END line');
        return undefined;
      default:
        return this.bodyLine(line);
    }
  }

  private bodyLine(line: string): Buffer | undefined {
    if (line === ARMOR_END) {
      if (this.lineNumber === 2) this.fail('no data between BEGIN and END');
      this.state = 'end';
      return undefined;
    }
    if (this.state === 'short') {
      this.lineNumber--;
      this.fail('the line is shorter than 64 columns but is not the last one');
    }
    if (line.length === 0 || line.length > COLUMNS || line.length % 4 !== 0 || !BASE64_LINE.test(line)) {
      this.fail('not a 64-column base64 line');
    }
    const bytes = Buffer.from(line, 'base64');
    if (bytes.toString('base64') !== line) this.fail('non-canonical base64');
    if (line.length < COLUMNS || line.endsWith('=')) this.state = 'short';
    return bytes;
  }

  private fail(reason: string): never {
    throw new TamperedError(`armored text corrupted at line ${this.lineNumber}: ${reason}`);
  }
}
