// Writes the known-answer files of test/vectors/berth-v1/ and their manifest, from
// docs/encrypted-format.md alone: node:crypto's HMAC, HKDF and AES-256-GCM, nothing of berth's own code,
// so the vectors check berth against the document rather than against itself. Every "random" value
// (salt, file key, nonces) is derived from a fixed seed and the file's name, so running it again writes
// the same bytes: `node test/vectors/generate.mjs [out-dir]` (default: berth-v1 beside this script).
// Broken files each carry one defect, made from good ones.
import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? join(import.meta.dirname, 'berth-v1');
const SEED = Buffer.from('berth known-answer vectors, version 1');

/** `length` bytes that stand in for randomness: SHA-256 in counter mode over the seed and a label. */
function seeded(label, length = 32) {
  const blocks = [];
  for (let i = 0; blocks.length * 32 < length; i++) {
    blocks.push(createHash('sha256').update(SEED).update(`\0${label}\0${i}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const hkdf = (ikm, salt, info) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
const hmac = (key, ...parts) => parts.reduce((mac, part) => mac.update(part), createHmac('sha256', key)).digest();
function gcm(key, nonce, aad, plaintext) {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

const MAGIC = Buffer.from('berth.enc\0', 'latin1');
const keyId = (key) => hmac(key, Buffer.from('berth key id v1')).subarray(0, 8);

/** A berth v1 file of `plaintext` for `keys`; `name` seeds its salt, file key and nonces. */
function encrypt(name, plaintext, keys, { exponent = 16, chunks } = {}) {
  const salt = seeded(`${name} salt`);
  const fileKey = seeded(`${name} file key`);
  const preamble = Buffer.concat([MAGIC, Buffer.from([1, 1, exponent]), salt]);
  const blocks = keys.map((key, i) => {
    const id = keyId(key);
    const nonce = seeded(`${name} key block ${i} nonce`, 12);
    const wrapKey = hkdf(key, salt, 'berth wrap v1');
    return Buffer.concat([id, nonce, gcm(wrapKey, nonce, Buffer.concat([preamble, id]), fileKey)]);
  });
  const beforeMac = Buffer.concat([preamble, Buffer.from([keys.length]), ...blocks]);
  const mac = hmac(hkdf(fileKey, salt, 'berth header v1'), beforeMac);
  const payloadKey = hkdf(fileKey, salt, 'berth payload v1');
  const pieces = chunks ?? split(plaintext, 2 ** exponent);
  const sealed = pieces.map((piece, i) => gcm(payloadKey, chunkNonce(i, i === pieces.length - 1), Buffer.alloc(0), piece));
  return Buffer.concat([beforeMac, mac, ...sealed]);
}

/** The chunks of a plaintext: full ones, then a last of 1..size bytes (one empty chunk for empty input). */
function split(plaintext, size) {
  const pieces = [];
  for (let at = 0; at < plaintext.length; at += size) pieces.push(plaintext.subarray(at, at + size));
  return pieces.length ? pieces : [Buffer.alloc(0)];
}

function chunkNonce(counter, last) {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6); // 11-byte big-endian counter; the top 5 bytes stay 0 here
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function armor(binary) {
  const base64 = binary.toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return Buffer.from(['-----BEGIN BERTH ENCRYPTED FILE-----', ...lines, '-----END BERTH ENCRYPTED FILE-----', ''].join('\n'));
}

/** Plaintext of `length` bytes: byte i = i mod 251 (no period aligned with chunks). */
const pattern = (length) => Buffer.from(Array.from({ length }, (_, i) => i % 251));
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const flip = (data, at, mask = 0x01) => {
  const copy = Buffer.from(data);
  copy[at] ^= mask;
  return copy;
};

mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) rmSync(join(out, name), { recursive: true, force: true });
const files = new Map();
const manifest = [];
const good = (file, data, plaintext, key = 'key-a.aes') => {
  files.set(file, data);
  manifest.push({ file, key, length: plaintext.length, sha256: sha256(plaintext) });
};
const bad = (file, data, error, message, key = 'key-a.aes') => {
  files.set(file, data);
  manifest.push({ file, key, error, message });
};

const keyA = seeded('key a');
const keyB = seeded('key b');
files.set('key-a.aes', `${keyA.toString('base64')}\n`);
files.set('key-b.aes', `${keyB.toString('base64')}\n`);
files.set('key-short.aes', keyA.toString('base64').slice(0, 40));
files.set('key-not-base64.aes', 'this is not a key, it is a sentence here!!!\n');

for (const [name, length] of [
  ['empty', 0],
  ['one-byte', 1],
  ['chunk-minus-one', 65535],
  ['chunk', 65536],
  ['chunk-plus-one', 65537],
  ['two-chunks-plus-one', 131073],
]) {
  good(`${name}.berth`, encrypt(name, pattern(length), [keyA]), pattern(length));
}
const text = Buffer.from('FOO=bar\nQUOTED=it\'s "here"\n');
good('two-keys.berth', encrypt('two-keys', text, [keyA, keyB]), text, 'key-b.aes');
good('small-chunks.berth', encrypt('small-chunks', pattern(5000), [keyA], { exponent: 10 }), pattern(5000));
const armored = armor(encrypt('armored', pattern(5000), [keyA]));
good('armored.asc', armored, pattern(5000));
good('armored-crlf.asc', Buffer.from(armored.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'), pattern(5000));

const three = encrypt('three-chunks', pattern(150000), [keyA]); // chunks of 65536, 65536, 18928
const headerLength = 46 + 68 + 32;
const sealed = 65536 + 16;
bad('wrong-key.berth', encrypt('wrong-key', text, [keyB]), 'WrongKeyError', 'your key is');
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
  Buffer.concat([encrypt('trailing-byte', pattern(65536), [keyA]), Buffer.from([0])]),
  'TamperedError',
  'after the final chunk',
);
// A full non-final chunk followed by an empty final one: what a truncating attacker would need.
bad(
  'empty-final-chunk.berth',
  encrypt('empty-final-chunk', undefined, [keyA], { chunks: [pattern(65536), Buffer.alloc(0)] }),
  'TamperedError',
  'empty final chunk',
);
bad('exponent-9.berth', encrypt('exponent-9', text, [keyA], { exponent: 9 }), 'NotBerthFileError', 'chunk size exponent 9');
bad('exponent-25.berth', encrypt('exponent-25', text, [keyA], { exponent: 25 }), 'NotBerthFileError', 'chunk size exponent 25');
bad('version-2.berth', flip(encrypt('version-2', text, [keyA]), 10, 0x03), 'NotBerthFileError', 'version 2');
bad('not-berth.txt', Buffer.from('just some text, not encrypted\n'), 'NotBerthFileError', 'not a berth encrypted file');
bad(
  'codeship-v2.encrypted',
  Buffer.from('codeship:v2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'),
  'NotBerthFileError',
  'codeship:v2',
);
const lines = armored.toString('latin1').split('\n');
bad('armor-short-line.asc', Buffer.from([lines[0], lines[1].slice(0, 60), ...lines.slice(2)].join('\n')), 'TamperedError', 'line 2');
bad('armor-no-end.asc', Buffer.from(`${lines.slice(0, -2).join('\n')}\n`), 'TruncatedError', 'END');
bad('armor-junk-after-end.asc', Buffer.from(`${armored.toString('latin1')}more\n`), 'TamperedError', 'after the END');

for (const [file, data] of files) writeFileSync(join(out, file), data);
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
if (!process.argv[2]) console.log(`wrote ${manifest.length} vectors to ${out}`);
