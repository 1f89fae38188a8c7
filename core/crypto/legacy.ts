/**
 * @module
 * Reading legacy `jet encrypt` files (before jet 2.6.0): base64( IV[16] ‖ AES-256-CFB(key, IV,
 * plaintext) ), one line, no MAC. berth reads them so Codeship users can migrate with `berth rekey`,
 * and never writes them: without a MAC a wrong key or a flipped bit yields garbage, not an error.
 * Files from jet 2.6.0 on start with `codeship:v2` and add a checksum whose layout is not public.
 */
import { createDecipheriv, type Decipher } from 'node:crypto';
import { NotBerthFileError, TruncatedError } from './errors.js';

export const CODESHIP_V2_PREFIX = 'codeship:v2';
const IV_BYTES = 16;

export function codeshipV2Error(): NotBerthFileError {
  return new NotBerthFileError('codeship:v2 files (jet 2.6.0 and later) are not supported: their checksum layout is not public', {
    hint: 'decrypt it once with `jet decrypt`, then encrypt the plaintext with `berth encrypt`',
  });
}

/** Streams base64 text into CFB plaintext; whitespace is ignored, padding only at the end. */
export class LegacyDecoder {
  private base64 = '';
  private iv = Buffer.alloc(0);
  private decipher: Decipher | undefined;
  private padded = false;

  constructor(private readonly key: Buffer) {}

  write(data: Uint8Array): Buffer[] {
    const text = this.base64 + Buffer.from(data).toString('latin1').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || (this.padded && text.length > 0)) {
      throw new NotBerthFileError('not a berth encrypted file (nor a legacy jet file: it is not base64 text)');
    }
    const whole = text.length - (text.length % 4);
    this.base64 = text.slice(whole);
    if (text.slice(0, whole).includes('=')) this.padded = true;
    return this.decrypt(Buffer.from(text.slice(0, whole), 'base64'));
  }

  end(): Buffer[] {
    if (this.base64.length % 4 !== 0) this.write(Buffer.from('='.repeat(4 - (this.base64.length % 4))));
    if (!this.decipher) throw new TruncatedError('legacy jet file truncated: shorter than its 16-byte IV');
    return [this.decipher.final()];
  }

  private decrypt(bytes: Buffer): Buffer[] {
    if (this.decipher) return [this.decipher.update(bytes)];
    const all = Buffer.concat([this.iv, bytes]);
    if (all.length < IV_BYTES) {
      this.iv = all;
      return [];
    }
    this.decipher = createDecipheriv('aes-256-cfb', this.key, all.subarray(0, IV_BYTES));
    return [this.decipher.update(all.subarray(IV_BYTES))];
  }
}
