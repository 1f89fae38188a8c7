/**
 * @module
 * Reading legacy `jet encrypt` files (before jet 2.6.0): base64( IV[16] ‖ AES-256-CFB(key, IV,
 * plaintext) ), one line, no MAC. berth reads them so Codeship users can migrate with `berth rekey`,
 * and never writes them: without a MAC a wrong key or a flipped bit yields garbage, not an error.
 * Files from jet 2.6.0 on start with `codeship:v2` and add a checksum whose layout is not public.
 */
import { createDecipheriv, type Decipher } from 'node:crypto';
import { NotBerthFileError, TruncatedError, WrongKeyError } from './errors.js';
import { keyId } from './key.js';

export const CODESHIP_V2_PREFIX = 'codeship:v2';
const IV_BYTES = 16;

export function codeshipV2Error(): NotBerthFileError {
  return new NotBerthFileError('codeship:v2 files (jet 2.6.0 and later) are not supported: their checksum layout is not public', {
    hint: 'decrypt it once with `jet decrypt`, then encrypt the plaintext with `berth encrypt`',
  });
}

/** Legacy files hold env files and docker configs; anything larger is not one. */
const LEGACY_LIMIT = 64 * 1024 * 1024;

/**
 * Decodes base64 text into CFB plaintext (whitespace ignored, padding only at the end). Without a
 * MAC the only check left is the plaintext itself: jet encrypted text files, and with a wrong key
 * CFB yields random bytes, which are not UTF-8. So the plaintext is held until it passes that test.
 */
export class LegacyDecoder {
  private base64 = '';
  private iv = Buffer.alloc(0);
  private decipher: Decipher | undefined;
  private padded = false;
  private readonly plaintext: Buffer[] = [];
  private size = 0;

  constructor(private readonly key: Buffer) {}

  write(data: Uint8Array): Buffer[] {
    const text = this.base64 + Buffer.from(data).toString('latin1').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || (this.padded && text.length > 0)) {
      throw new NotBerthFileError('not a legacy jet file after all: past its start it holds text that is not base64');
    }
    const whole = text.length - (text.length % 4);
    this.base64 = text.slice(whole);
    if (text.slice(0, whole).includes('=')) this.padded = true;
    this.hold(this.decrypt(Buffer.from(text.slice(0, whole), 'base64')));
    return [];
  }

  end(): Buffer[] {
    if (this.base64.length % 4 !== 0) this.write(Buffer.from('='.repeat(4 - (this.base64.length % 4))));
    if (!this.decipher) throw new TruncatedError('legacy jet file truncated: shorter than its 16-byte IV');
    this.hold(this.decipher.final());
    const plaintext = Buffer.concat(this.plaintext);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    } catch {
      throw new WrongKeyError(
        [],
        keyId(this.key),
        `wrong key for this legacy jet file: key ${keyId(this.key)} decrypts it to binary garbage, not text`,
      );
    }
    return [plaintext];
  }

  private hold(piece: Buffer): void {
    this.size += piece.length;
    if (this.size > LEGACY_LIMIT) throw new NotBerthFileError('not a legacy jet file: too large (legacy files are small text files)');
    this.plaintext.push(piece);
  }

  private decrypt(bytes: Buffer): Buffer {
    if (this.decipher) return this.decipher.update(bytes);
    const all = Buffer.concat([this.iv, bytes]);
    if (all.length < IV_BYTES) {
      this.iv = all;
      return Buffer.alloc(0);
    }
    this.decipher = createDecipheriv('aes-256-cfb', this.key, all.subarray(0, IV_BYTES));
    return this.decipher.update(all.subarray(IV_BYTES));
  }
}
