import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../core/errors.js';
import { NotBerthFileError, TamperedError, TruncatedError, WrongKeyError } from '../../../core/crypto/errors.js';
import { createDecryptStream, createEncryptStream } from '../../../core/crypto/format-stream.js';
import { decryptBuffer, encryptBuffer, FileOpener, FileSealer } from '../../../core/crypto/format.js';
import { keyId, parseKey } from '../../../core/crypto/key.js';

const CHUNK = 65536;
const SEALED = CHUNK + 16;
const HEADER_ONE_KEY = 46 + 68 + 32;
const keyA = randomBytes(32);
const keyB = randomBytes(32);

/** Runs bytes through a stream, feeding them in pieces of `pieceSize`. */
async function throughStream(stream: NodeJS.ReadWriteStream, input: Buffer, pieceSize = 8192): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; at += pieceSize) pieces.push(input.subarray(at, at + pieceSize));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

function flip(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

describe('round trip', () => {
  const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1];
  for (const size of sizes) {
    for (const armor of [false, true]) {
      it(`${size} bytes, ${armor ? 'armored' : 'binary'}`, async () => {
        const plaintext = randomBytes(size);
        const file = encryptBuffer(plaintext, [keyA], { armor });
        expect(decryptBuffer(file, keyA).equals(plaintext)).toBe(true);
        // The stream path, fed in odd-sized pieces, gives the same bytes both ways.
        const streamed = await throughStream(createEncryptStream([keyA], { armor }), plaintext, 7777);
        expect((await throughStream(createDecryptStream(keyA), streamed, 1000)).equals(plaintext)).toBe(true);
      });
    }
  }

  it('sizes follow the format: header, sealed chunks, only an empty file has an empty chunk', () => {
    expect(encryptBuffer(Buffer.alloc(0), [keyA]).length).toBe(HEADER_ONE_KEY + 16);
    expect(encryptBuffer(Buffer.alloc(CHUNK), [keyA]).length).toBe(HEADER_ONE_KEY + SEALED);
    expect(encryptBuffer(Buffer.alloc(CHUNK + 1), [keyA]).length).toBe(HEADER_ONE_KEY + SEALED + 17);
  });

  it('text stays text and armor is 64-column PEM-style base64', () => {
    const text = Buffer.from('FOO=bar\nBAZ="quoted value"\n');
    const armored = encryptBuffer(text, [keyA], { armor: true }).toString('latin1');
    const lines = armored.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN BERTH ENCRYPTED FILE-----');
    expect(lines.at(-1)).toBe('-----END BERTH ENCRYPTED FILE-----');
    for (const line of lines.slice(1, -2)) expect(line).toMatch(/^[A-Za-z0-9+/]{64}$/);
    expect(decryptBuffer(Buffer.from(armored), keyA).toString()).toBe(text.toString());
  });

  it('a file for several keys opens with each of them', () => {
    const file = encryptBuffer(Buffer.from('x'), [keyA, keyB, keyA]);
    expect(file.length).toBe(HEADER_ONE_KEY + 68 + 17); // the duplicate key made no second block
    expect(decryptBuffer(file, keyA).toString()).toBe('x');
    expect(decryptBuffer(file, keyB).toString()).toBe('x');
  });

  it("coders keep nothing of the caller's buffer: one scratch buffer refilled for every piece", () => {
    const plaintext = randomBytes(3 * CHUNK + 12345);
    const scratch = Buffer.alloc(70_000);
    const feed = (coder: FileSealer | FileOpener, input: Buffer, sizes: number[]) => {
      const out: Buffer[] = [];
      for (let at = 0, i = 0; at < input.length; i++) {
        const size = Math.min(sizes[i % sizes.length]!, input.length - at);
        input.copy(scratch, 0, at, at + size);
        out.push(...coder.write(scratch.subarray(0, size)).map((piece) => Buffer.from(piece)));
        scratch.fill(0xee); // what a reader does next: overwrite the buffer
        at += size;
      }
      return Buffer.concat([...out, ...coder.end()]);
    };
    for (const armor of [false, true]) {
      const file = feed(new FileSealer([keyA], { armor }), plaintext, [50_000, 1, 4096, 777]);
      expect(feed(new FileOpener(keyA), file, [10, 50_000, 333, 65_552]).equals(plaintext)).toBe(true);
    }
  });

  it('100 MiB through the streams, in constant memory', async () => {
    const block = randomBytes(1 << 20);
    const expected = createHash('sha256');
    const actual = createHash('sha256');
    async function* source() {
      for (let i = 0; i < 100; i++) {
        expected.update(block);
        yield block;
      }
    }
    await pipeline(source(), createEncryptStream([keyA]), createDecryptStream(keyA), async (decrypted: AsyncIterable<Buffer>) => {
      for await (const piece of decrypted) actual.update(piece);
    });
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
  }, 120_000);
});

describe('errors', () => {
  const three = encryptBuffer(randomBytes(2 * CHUNK + 500), [keyA]);
  const cases: [string, () => Buffer, new (...args: never[]) => FormatError, RegExp][] = [
    ['a flipped salt byte', () => flip(three, 20), TamperedError, /header corrupted or tampered/],
    ['a flipped wrapped key', () => flip(three, 46 + 40), TamperedError, /key block .* failed authentication/],
    ['a flipped header MAC', () => flip(three, HEADER_ONE_KEY - 1), TamperedError, /header MAC/],
    ['a flipped middle chunk', () => flip(three, HEADER_ONE_KEY + SEALED + 5), TamperedError, /chunk 1 failed/],
    ['a flipped last tag', () => flip(three, three.length - 1), TamperedError, /chunk 2 failed/],
    [
      'the last chunk dropped',
      () => three.subarray(0, HEADER_ONE_KEY + 2 * SEALED),
      TruncatedError,
      /ends after chunk 1 without the final chunk/,
    ],
    ['everything after the header dropped', () => three.subarray(0, HEADER_ONE_KEY), TruncatedError, /ends after the header/],
    ['a cut in the header', () => three.subarray(0, 50), TruncatedError, /inside the header/],
    [
      'two chunks swapped',
      () =>
        Buffer.concat([
          three.subarray(0, HEADER_ONE_KEY),
          three.subarray(HEADER_ONE_KEY + SEALED, HEADER_ONE_KEY + 2 * SEALED),
          three.subarray(HEADER_ONE_KEY, HEADER_ONE_KEY + SEALED),
          three.subarray(HEADER_ONE_KEY + 2 * SEALED),
        ]),
      TamperedError,
      /chunk 0 failed/,
    ],
    [
      'data after the final chunk',
      () => Buffer.concat([encryptBuffer(randomBytes(CHUNK), [keyA]), Buffer.from('x')]),
      TamperedError,
      /after the final chunk/,
    ],
    ['a different magic', () => flip(three, 0), NotBerthFileError, /not a berth encrypted file/],
    ['a newer version', () => Buffer.concat([three.subarray(0, 10), Buffer.from([2]), three.subarray(11)]), NotBerthFileError, /version 2/],
    ['plain text', () => Buffer.from('hello, this is not encrypted at all\n'), NotBerthFileError, /not a berth encrypted file/],
    ['empty input', () => Buffer.alloc(0), NotBerthFileError, /empty/],
    [
      'a codeship:v2 file',
      () => Buffer.from('codeship:v2\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n'),
      NotBerthFileError,
      /codeship:v2 .* not supported/,
    ],
    ['an age file', () => Buffer.from('age-encryption.org/v1\n-> X25519 abc\n'), NotBerthFileError, /age file/],
  ];
  for (const [what, make, errorClass, message] of cases) {
    it(`${what}: ${errorClass.name}, from buffers and from streams`, async () => {
      const file = make();
      expect(() => decryptBuffer(file, keyA)).toThrow(errorClass);
      expect(() => decryptBuffer(file, keyA)).toThrow(message);
      await expect(throughStream(createDecryptStream(keyA), file)).rejects.toThrow(errorClass);
    });
  }

  it('another key: names the ids the file is for and the id given', () => {
    const file = encryptBuffer(Buffer.from('x'), [keyA, keyB]);
    const other = randomBytes(32);
    let error: unknown;
    try {
      decryptBuffer(file, other);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WrongKeyError);
    expect((error as WrongKeyError).message).toBe(
      `wrong key: the file is encrypted for ${keyId(keyA)}, ${keyId(keyB)}; your key is ${keyId(other)}`,
    );
  });

  it('releases no plaintext when the header is tampered', async () => {
    const out: Buffer[] = [];
    const stream = createDecryptStream(keyA).on('data', (piece: Buffer) => out.push(piece));
    await expect(pipeline(Readable.from([flip(three, HEADER_ONE_KEY - 1)]), stream)).rejects.toThrow(TamperedError);
    expect(out).toEqual([]);
  });

  it('a flipped armored character is caught', () => {
    const armored = encryptBuffer(randomBytes(3000), [keyA], { armor: true });
    const at = armored.indexOf('\n', 200) - 3; // a base64 character in the body
    const changed = Buffer.from(armored);
    changed[at] = changed[at] === 0x41 ? 0x42 : 0x41;
    expect(() => decryptBuffer(changed, keyA)).toThrow(FormatError);
  });
});

describe('known-answer vectors (test/vectors/berth-v1)', () => {
  const dir = join(import.meta.dirname, '../../vectors/berth-v1');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    file: string;
    key: string;
    length?: number;
    sha256?: string;
    error?: string;
    message?: string;
  }[];
  for (const vector of manifest) {
    it(`${vector.file}: ${vector.error ?? `${vector.length} bytes`}`, async () => {
      const file = readFileSync(join(dir, vector.file));
      const key = parseKey(readFileSync(join(dir, vector.key), 'utf8'), vector.key);
      if (vector.error) {
        let error: Error | undefined;
        try {
          decryptBuffer(file, key);
        } catch (err) {
          error = err as Error;
        }
        expect(error?.name).toBe(vector.error);
        expect(error?.message).toContain(vector.message);
        await expect(throughStream(createDecryptStream(key), file, 4096)).rejects.toThrow(vector.message);
      } else {
        const plaintext = decryptBuffer(file, key);
        expect(plaintext.length).toBe(vector.length);
        expect(createHash('sha256').update(plaintext).digest('hex')).toBe(vector.sha256);
      }
    });
  }
});
