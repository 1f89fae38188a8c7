// Regenerates the known-answer files in test/vectors/berth-v1/ and their manifest. The files are
// committed: they pin the format, so run this only when the format version changes
// (`node test/vectors/generate.mjs`). Broken files are made from good ones, one defect each.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;
const out = join(here, 'berth-v1');
const bundle = '/tmp/berth-vectors-core.mjs';
await build({
  stdin: {
    contents: "export * from './core/crypto/format.ts'; export * from './core/crypto/header.ts'; export * from './core/crypto/key.ts';",
    resolveDir: join(here, '../..'),
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: bundle,
  logLevel: 'warning',
});
const c = await import(bundle);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const keyA = Buffer.from('BfXrZ3Zf0gpY3C3dtcUjkV8G3g2JUvVGn0fWc4Hqk3I=', 'base64');
const keyB = Buffer.from('q0uX6Hd8TtGZkQzv1nE4rJ2mV7yP3sC9aLfD5bW0eKo=', 'base64');
writeFileSync(join(out, 'key-a.aes'), c.formatKey(keyA));
writeFileSync(join(out, 'key-b.aes'), c.formatKey(keyB));
writeFileSync(join(out, 'key-short.aes'), 'BfXrZ3Zf0gpY3C3dtcUjkV8G3g2JUvVGn0fWc4Hqk3=\n'.slice(0, 40));
writeFileSync(join(out, 'key-not-base64.aes'), 'this is not a key, it is a sentence here!!!\n');

/** Plaintext of `length` bytes: byte i = i mod 251 (no period aligned with chunks). */
const pattern = (length) => Buffer.from(Array.from({ length }, (_, i) => i % 251));
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const manifest = [];
const good = (file, data, plaintext, key = 'key-a.aes') => {
  writeFileSync(join(out, file), data);
  manifest.push({ file, key, length: plaintext.length, sha256: sha256(plaintext) });
};
const bad = (file, data, error, message, key = 'key-a.aes') => {
  writeFileSync(join(out, file), data);
  manifest.push({ file, key, error, message });
};

for (const [name, length] of [
  ['empty', 0],
  ['one-byte', 1],
  ['chunk-minus-one', 65535],
  ['chunk', 65536],
  ['chunk-plus-one', 65537],
  ['two-chunks-plus-one', 131073],
]) {
  good(`${name}.berth`, c.encryptBuffer(pattern(length), [keyA]), pattern(length));
}
const text = Buffer.from('FOO=bar\nQUOTED=it\'s "here"\n');
good('two-keys.berth', c.encryptBuffer(text, [keyA, keyB]), text, 'key-b.aes');
const armored = c.encryptBuffer(pattern(5000), [keyA], { armor: true });
good('armored.asc', armored, pattern(5000));
good('armored-crlf.asc', Buffer.from(armored.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'), pattern(5000));

const three = c.encryptBuffer(pattern(150000), [keyA]); // chunks of 65536, 65536, 18928
const headerLength = 46 + 68 + 32;
const sealed = 65536 + 16;
const flip = (data, at, mask = 0x01) => {
  const copy = Buffer.from(data);
  copy[at] ^= mask;
  return copy;
};
bad('wrong-key.berth', c.encryptBuffer(text, [keyB]), 'WrongKeyError', 'your key is');
bad('flipped-salt.berth', flip(three, 20), 'TamperedError', 'header');
bad('flipped-key-block.berth', flip(three, 46 + 30), 'TamperedError', 'key block');
bad('flipped-key-count.berth', flip(three, 45, 0x02), 'TamperedError', 'header MAC');
bad('zero-key-blocks.berth', flip(three, 45), 'NotBerthFileError', 'no key blocks');
bad('flipped-header-mac.berth', flip(three, headerLength - 1), 'TamperedError', 'header MAC');
bad('flipped-middle-chunk.berth', flip(three, headerLength + sealed + 1000), 'TamperedError', 'chunk 1');
bad('flipped-tag.berth', flip(three, three.length - 1), 'TamperedError', 'chunk 2');
bad('dropped-last-chunk.berth', three.subarray(0, headerLength + 2 * sealed), 'TruncatedError', 'without the final chunk');
bad('cut-mid-chunk.berth', three.subarray(0, headerLength + sealed + 1000), 'TamperedError', 'chunk 1');
bad('cut-in-tag.berth', three.subarray(0, headerLength + sealed + 10), 'TruncatedError', 'chunk 1 is incomplete');
bad('header-only.berth', three.subarray(0, headerLength), 'TruncatedError', 'after the header');
bad('cut-in-header.berth', three.subarray(0, 60), 'TruncatedError', 'inside the header');
const swapped = Buffer.concat([
  three.subarray(0, headerLength),
  three.subarray(headerLength + sealed, headerLength + 2 * sealed),
  three.subarray(headerLength, headerLength + sealed),
  three.subarray(headerLength + 2 * sealed),
]);
bad('swapped-chunks.berth', swapped, 'TamperedError', 'chunk 0');
bad(
  'trailing-byte.berth',
  Buffer.concat([c.encryptBuffer(pattern(65536), [keyA]), Buffer.from([0])]),
  'TamperedError',
  'after the final chunk',
);

// A full non-final chunk followed by an empty final one: what a truncating attacker would need.
{
  const { header, fileKey } = c.newHeader();
  const withBlock = { ...header, blocks: [c.wrapFileKey(header, fileKey, keyA)] };
  const key = c.payloadKey(fileKey, header.salt);
  const seal = (plaintext, counter, last) => {
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(counter, 5, 6);
    nonce[11] = last ? 1 : 0;
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  };
  const body = [seal(pattern(65536), 0, false), seal(Buffer.alloc(0), 1, true)];
  bad('empty-final-chunk.berth', Buffer.concat([c.serializeHeader(withBlock, fileKey), ...body]), 'TamperedError', 'empty final chunk');
}
const version2 = Buffer.from(c.encryptBuffer(text, [keyA]));
version2[10] = 2;
bad('version-2.berth', version2, 'NotBerthFileError', 'version 2');
bad('not-berth.txt', Buffer.from('just some text, not encrypted\n'), 'NotBerthFileError', 'not a berth encrypted file');
bad(
  'codeship-v2.encrypted',
  Buffer.from('codeship:v2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'),
  'NotBerthFileError',
  'codeship:v2',
);
const lines = armored.toString('latin1').split('\n');
bad('armor-short-line.asc', [lines[0], lines[1].slice(0, 60), ...lines.slice(2)].join('\n'), 'TamperedError', 'line 2');
bad('armor-no-end.asc', `${lines.slice(0, -2).join('\n')}\n`, 'TruncatedError', 'END');
bad('armor-junk-after-end.asc', `${armored.toString('latin1')}more\n`, 'TamperedError', 'after the END');

writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
rmSync(bundle);
console.log(`wrote ${manifest.length} vectors to ${out}`);
