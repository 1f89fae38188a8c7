// Encrypted-file throughput: `berth encrypt|decrypt` against `age` (X25519 identity without a
// passphrase) and `openssl enc -aes-256-ctr` on the same 512 MiB file, side by side in one run, and
// berth's peak RSS while decrypting, for the Node build and, when built, the standalone executable
// (dist/bin/berth, shown as berth-bin). Prints MB/s per tool, each berth build's time ratios to each
// peer (target ≤ 1.00) and peak RSS (target < 100 MiB), decrypting to a file and to a pipe. Run
// after `npm run build`:
//   node bench/crypto.mjs            (BERTH_BENCH_MIB=512, BERTH_BENCH_ROUNDS=7 to change)
// Each command runs under /usr/bin/time for its peak RSS, after a sync; the median and the best wall
// time of the rounds are shown, and the median of the per-round ratios (each round's tools ran under
// the same conditions). The files live in /dev/shm when it has room (BERTH_BENCH_DIR to choose): on
// this machine's disk (ext4 with discard) freeing a previous run's half GiB could add a second to
// whichever tool ran next.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const MIB = 1024 * 1024;
const sizeMiB = Number(process.env.BERTH_BENCH_MIB ?? 512);
const rounds = Number(process.env.BERTH_BENCH_ROUNDS ?? 7);
const berthJs = new URL('../dist/berth.cjs', import.meta.url).pathname;
const berthBin = new URL('../dist/bin/berth', import.meta.url).pathname;
/** Each berth build measured: its name in the table and how it is started. */
const builds = [
  { tool: 'berth', command: process.execPath, prefix: [berthJs] },
  ...(existsSync(berthBin) ? [{ tool: 'berth-bin', command: berthBin, prefix: [] }] : []),
];
const outName = (tool, op) => `${op === 'encrypt' ? 'out' : 'dec'}.${tool === 'openssl' ? 'ssl' : tool}`;
/** /dev/shm if it holds the input, four encrypted copies and four decrypted ones, with room to spare. */
function memoryDir() {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm');
    return bavail * bsize > 12 * sizeMiB * MIB ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}
const base = process.env.BERTH_BENCH_DIR || memoryDir() || tmpdir();
const dir = mkdtempSync(join(base, 'berth-bench-crypto-'));
const path = (name) => join(dir, name);

function run(command, args, { input } = {}) {
  const result = spawnSync(command, args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr.toString().trim()}`);
  }
  return result.stdout.toString();
}

/**
 * Wall seconds and peak RSS (KiB) of one command, measured by /usr/bin/time. The previous command's
 * output is flushed to disk first, outside the timing: otherwise each command pays, in its own
 * writes, for the writeback of the half GiB the one before it left dirty (measured here: the same
 * decrypt took 0.5 s or 2 s depending on what ran before it).
 */
function measure(command, args) {
  const timeFile = path('time.txt');
  run('sync', []);
  const started = process.hrtime.bigint();
  run('/usr/bin/time', ['-f', '%M', '-o', timeFile, command, ...args]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, rssKiB: Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) };
}

function makeInput(file) {
  const fd = openSync(file, 'w');
  const block = Buffer.allocUnsafe(16 * MIB);
  const hash = createHash('sha256');
  for (let written = 0; written < sizeMiB * MIB; written += block.length) {
    const piece = block.subarray(0, Math.min(block.length, sizeMiB * MIB - written));
    randomFillSync(piece);
    hash.update(piece);
    writeSync(fd, piece);
  }
  closeSync(fd);
  return hash.digest('hex');
}

const sha256 = (file) => run('sha256sum', [file]).split(' ')[0];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function cases() {
  run(process.execPath, [berthJs, 'keygen', path('berth.aes')]);
  run('age-keygen', ['-o', path('age.key')]);
  const recipient = run('age-keygen', ['-y', path('age.key')]).trim();
  const [key, iv] = [randomBytes(32).toString('hex'), randomBytes(16).toString('hex')];
  const ssl = (extra, from, to) => ['enc', ...extra, '-aes-256-ctr', '-K', key, '-iv', iv, '-in', path(from), '-out', path(to)];
  const berth = (op, from) =>
    builds.map(({ tool, command, prefix }) => ({
      tool,
      op,
      out: outName(tool, op),
      command,
      args: [...prefix, op, path(from(tool)), path(outName(tool, op)), '--key-path', path('berth.aes')],
    }));
  return [
    ...berth('encrypt', () => 'input'),
    { tool: 'age', op: 'encrypt', out: 'out.age', command: 'age', args: ['-r', recipient, '-o', path('out.age'), path('input')] },
    { tool: 'openssl', op: 'encrypt', out: 'out.ssl', command: 'openssl', args: ssl([], 'input', 'out.ssl') },
    // Each build decrypts the Node build's file, so a format difference between them would show.
    ...berth('decrypt', () => outName('berth', 'encrypt')),
    {
      tool: 'age',
      op: 'decrypt',
      out: 'dec.age',
      command: 'age',
      args: ['-d', '-i', path('age.key'), '-o', path('dec.age'), path('out.age')],
    },
    { tool: 'openssl', op: 'decrypt', out: 'dec.ssl', command: 'openssl', args: ssl(['-d'], 'out.ssl', 'dec.ssl') },
  ];
}

function report(results, digest) {
  const mb = (sizeMiB * MIB) / 1e6;
  const cell = (tool, op) => results.get(`${tool} ${op}`);
  console.log(
    `\n${'tool'.padEnd(9)} ${'op'.padEnd(8)} ${'median s'.padStart(9)} ${'best s'.padStart(7)} ${'MB/s'.padStart(7)} ${'peak RSS'.padStart(9)}`,
  );
  for (const [name, r] of results) {
    const [tool, op] = name.split(' ');
    const seconds = median(r.seconds);
    const best = Math.min(...r.seconds).toFixed(2);
    console.log(
      `${tool.padEnd(9)} ${op.padEnd(8)} ${seconds.toFixed(2).padStart(9)} ${best.padStart(7)} ${(mb / seconds).toFixed(0).padStart(7)} ${`${(Math.max(...r.rss) / 1024).toFixed(0)} MiB`.padStart(9)}`,
    );
  }
  // The noise here only ever adds time (writeback, the host faulting in fresh page-cache pages), so
  // the best round of each is the steadiest figure; medians are shown beside it.
  console.log('\nberth time / peer time (target ≤ 1.00): ratio of medians; median of per-round ratios; ratio of best rounds');
  for (const { tool } of builds) {
    for (const op of ['encrypt', 'decrypt']) {
      const berth = cell(tool, op).seconds;
      const ratios = ['age', 'openssl'].map((peer) => {
        const theirs = cell(peer, op).seconds;
        const paired = median(berth.map((seconds, round) => seconds / theirs[round]));
        const best = Math.min(...berth) / Math.min(...theirs);
        return `${(median(berth) / median(theirs)).toFixed(2)}; ${paired.toFixed(2)}; ${best.toFixed(2)} vs ${peer}`;
      });
      console.log(`  ${tool.padEnd(9)} ${op.padEnd(8)} ${ratios.join('   ')}`);
    }
    const peak = Math.max(...cell(tool, 'decrypt').rss) / 1024;
    console.log(`  ${tool} decrypt peak RSS: ${peak.toFixed(0)} MiB (target < 100 MiB: ${peak < 100 ? 'met' : 'NOT met'})`);
  }
  const tools = [...builds.map(({ tool }) => tool), 'age', 'openssl'];
  for (const tool of tools) {
    if (sha256(path(outName(tool, 'decrypt'))) !== digest) throw new Error(`${tool} did not round-trip the file`);
  }
  console.log(`${tools.join(', ')} round-tripped the file exactly`);
}

/**
 * Peak RSS of each build decrypting the file to a pipe (`berth decrypt FILE - | cat`): stdout is a
 * stream there, not a file, and the first 16 MiB are held until the file verified.
 */
function pipeRss() {
  for (const { tool, command, prefix } of builds) {
    const timeFile = path('time-pipe.txt');
    const args = [...prefix, 'decrypt', path(outName('berth', 'encrypt')), '-', '--key-path', path('berth.aes')];
    const quoted = ['/usr/bin/time', '-f', '%M', '-o', timeFile, command, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`);
    run('sh', ['-c', `${quoted.join(' ')} | cat > /dev/null`]);
    const peak = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) / 1024;
    console.log(`  ${tool} decrypt to a pipe, peak RSS: ${peak.toFixed(0)} MiB (target < 100 MiB: ${peak < 100 ? 'met' : 'NOT met'})`);
  }
}

try {
  for (const [tool, pkg] of [
    ['age', 'age'],
    ['openssl', 'openssl'],
    ['/usr/bin/time', 'time'],
  ]) {
    if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is missing: install the Debian package ${pkg}`);
  }
  if (!existsSync(berthJs)) throw new Error(`${berthJs} is missing: run npm run build first`);
  console.log(
    `berth crypto benchmark: ${sizeMiB} MiB file in ${base}, ${rounds} rounds, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const digest = makeInput(path('input'));
  const results = new Map();
  const all = cases();
  const outputs = (c) => path(outName(c.tool, 'decrypt'));
  for (let round = 1; round <= rounds; round++) {
    // Rotate which tool goes first, so drifting load and writeback do not favour one of them.
    const order = ['encrypt', 'decrypt'].flatMap((op) => {
      const ofOp = all.filter((c) => c.op === op);
      return ofOp.map((_, i) => ofOp[(i + round - 1) % ofOp.length]);
    });
    for (const c of order) {
      if (c.op === 'encrypt') rmSync(path(c.out), { force: true });
      rmSync(outputs(c), { force: true });
      const { seconds, rssKiB } = measure(c.command, c.args);
      const entry = results.get(`${c.tool} ${c.op}`) ?? { seconds: [], rss: [] };
      entry.seconds.push(seconds);
      entry.rss.push(rssKiB);
      results.set(`${c.tool} ${c.op}`, entry);
      process.stdout.write(`round ${round}: ${c.tool} ${c.op} ${seconds.toFixed(2)} s, ${(rssKiB / 1024).toFixed(0)} MiB\n`);
      // Drop a decrypted copy at once (dirty pages of several GiB would throttle the next runs);
      // the last round's copies are kept to check them.
      if (c.op === 'decrypt' && round < rounds) rmSync(outputs(c), { force: true });
    }
  }
  report(results, digest);
  pipeRss();
  console.log(
    `load at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores shared: compare ratios, not absolute figures)`,
  );
} catch (err) {
  console.error(`bench/crypto: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
