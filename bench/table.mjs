// The hot paths in one table, in one run, for both builds (the Node bundle in dist/ and the
// standalone binary in dist/bin/), against Debian's Go helpers on the same machine:
//   stored `get`; ECR `get` from the warm disk cache; `get` answered by a running `berth daemon`
//   (p50, p99); `berth decrypt` of a 2 KB file against `age -d`; the peak RSS of a `get`;
//   peers `docker-credential-ecr-login get` (warm cache), `docker-credential-secretservice get`,
//   `docker-credential-pass get`, and `node -e 0`; the floors: a bun-compiled hello-world under the
//   binary rows, and under the Node rows two scripts that do each path's least with no berth code.
// Every command runs once per round, round-robin, so load drifting over the run hits all alike; the
// figures are medians (and the 99th percentile) over the rounds, ratios are ratios of medians.
//
//   npm run bench -- table            (BERTH_TABLE_ROUNDS=N, default 60)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEcrCloud } from './lib/ecr-cloud.mjs';
import { benchHome, startKeyring } from './lib/homes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const ROUNDS = Number(process.env.BERTH_TABLE_ROUNDS) || 60;
const WARMUP = 3;
const REGION = 'eu-west-1';
const ECR = `123456789012.dkr.ecr.${REGION}.amazonaws.com`;
const ECR_DAEMON = `210987654321.dkr.ecr.${REGION}.amazonaws.com`;
const STORED = 'registry.example.com';
const NODE_HELPER = join(ROOT, 'dist/docker-credential-berth.cjs');
const NODE_BERTH = join(ROOT, 'dist/berth.cjs');
const ECR_LOGIN = '/usr/bin/docker-credential-ecr-login';

const work = mkdtempSync(join(tmpdir(), 'berth-bench-table-'));
const cleanups = [() => rmSync(work, { recursive: true, force: true })];
const cleanUp = () => {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // keep cleaning
    }
  }
};
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

/** A scratch home in the work directory, in this process's D-Bus session (the keychain rows need it). */
const home = (name) => ({
  ...benchHome(work, name),
  ...(process.env.DBUS_SESSION_BUS_ADDRESS && { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }),
});

const have = (program) => spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;

function mustRun(command, args, { env, input } = {}) {
  const result = spawnSync(command, args, { env, input, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? ''}${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Like mustRun, without blocking this process: the stand-in cloud answers from its event loop. */
function mustRunAsync(command, args, { env, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} failed: ${out}`))));
    child.stdin.end(input ?? '');
  });
}

/** The standalone binary in dist/bin/ (`npm run build` writes it on Linux x64). */
function binaries() {
  const built = { helper: join(ROOT, 'dist/bin/docker-credential-berth'), berth: join(ROOT, 'dist/bin/berth') };
  if (!existsSync(built.berth) || !existsSync(built.helper)) return { note: 'no binary rows: dist/bin/berth is not built (npm run build)' };
  return { ...built, note: 'dist/bin/' };
}

/** A bun-compiled executable (bytecode, as dist/bin/berth) that prints `hello`, or undefined. */
function bunHelloWorld() {
  const bun = join(ROOT, 'node_modules/.bin/bun');
  const source = join(work, 'hello.ts');
  writeFileSync(source, "console.log('hello');\n");
  const out = join(work, 'hello');
  const built = spawnSync(bun, ['build', source, '--compile', '--bytecode', '--format=cjs', '--outfile', out], { stdio: 'ignore' });
  return built.status === 0 ? out : undefined;
}

/**
 * A script that does, at the least, what the Node helper does for a path, with none of berth's code:
 * `direct` (an ECR get from the warm disk cache): read stdin, load node:crypto, read the store, the
 * cache and both keys, run AES-256-GCM over both files (not checking that they authenticate), write
 * the answer; `daemon`: read stdin, ask the daemon's socket with one node:net request, write its answer.
 */
function nodeFloor(path) {
  const file = join(work, `floor-${path}.cjs`);
  const direct = `const { readFileSync, readSync, writeSync } = require('node:fs');
const { createDecipheriv } = require('node:crypto');
const input = Buffer.alloc(4096);
const host = input.toString('latin1', 0, readSync(0, input)).trim();
const data = process.env.XDG_DATA_HOME + '/berth/', cache = process.env.XDG_CACHE_HOME + '/berth/';
for (const [sealedFile, keyFile] of [[data + 'credentials.berth', data + 'store.key'], [cache + 'credentials.berth', data + 'cache.aes']]) {
  const sealed = readFileSync(sealedFile);
  const key = Buffer.alloc(32);
  Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64').copy(key);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  decipher.update(sealed.subarray(12, sealed.length - 16));
  try { decipher.final(); } catch {}
}
writeSync(1, JSON.stringify({ ServerURL: host, Username: 'AWS', Secret: 'x'.repeat(2000) }) + '\\n');
`;
  const daemon = `const { readSync, writeSync } = require('node:fs');
const input = Buffer.alloc(4096);
const host = input.toString('latin1', 0, readSync(0, input)).trim();
const socket = require('node:net').connect({ path: process.env.XDG_RUNTIME_DIR + '/berth/daemon.sock' });
let answer = '';
socket.on('data', (chunk) => (answer += chunk));
socket.on('end', () => {
  const { Username, Secret } = JSON.parse(answer.slice(answer.indexOf('\\r\\n\\r\\n') + 4));
  writeSync(1, JSON.stringify({ ServerURL: host, Username, Secret }) + '\\n');
});
socket.write('GET /v1/credentials?registry=' + encodeURIComponent(host) + ' HTTP/1.1\\r\\nhost: localhost\\r\\nconnection: close\\r\\n\\r\\n');
`;
  writeFileSync(file, path === 'direct' ? direct : daemon);
  return file;
}

async function startDaemon(env) {
  const child = spawn(process.execPath, [NODE_BERTH, 'daemon', 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  cleanups.push(() => child.kill('SIGTERM'));
  for (let i = 0; i < 600; i++) {
    const probe = spawnSync(process.execPath, [NODE_BERTH, 'daemon', 'status'], { env, encoding: 'utf8' });
    if (probe.status === 0) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the daemon did not start: ${log}`);
}

/** A pass store with a fresh unprotected GPG key, as docker-credential-pass expects. */
function passEnv(base) {
  const env = { ...base, GNUPGHOME: join(work, 'gnupg'), PASSWORD_STORE_DIR: join(work, 'pass') };
  mkdirSync(env.GNUPGHOME, { recursive: true, mode: 0o700 });
  const spec =
    '%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\nName-Real: berth bench\nName-Email: bench@example.com\nExpire-Date: 0\n%commit\n';
  mustRun('gpg', ['--batch', '--gen-key'], { env, input: spec });
  cleanups.push(() => spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env }));
  const fingerprint = mustRun('gpg', ['--list-secret-keys', '--with-colons'], { env })
    .split('\n')
    .find((line) => line.startsWith('fpr:'))
    .split(':')[9];
  mustRun('pass', ['init', fingerprint], { env });
  return env;
}

function timeOnce(row) {
  const started = process.hrtime.bigint();
  // a timed run never reaches the stand-in cloud (this process cannot answer while it waits)
  const result = spawnSync(row.command[0], row.command.slice(1), { input: row.input ?? '', env: row.env, timeout: 20_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 || (row.expect && !result.stdout.toString().includes(row.expect))) {
    throw new Error(`${row.name} failed (${result.status}): ${result.stdout}${result.stderr}`);
  }
  return ms;
}

/** Peak RSS (MiB) of one run, from /usr/bin/time. */
function peakRss(row) {
  const file = join(work, 'time.txt');
  spawnSync('/usr/bin/time', ['-f', '%M', '-o', file, ...row.command], { input: row.input ?? '', env: row.env });
  return Number(readFileSync(file, 'utf8').trim().split('\n').at(-1)) / 1024;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const step = (text) => process.stderr.write(`bench/table: ${text}\n`);

async function main() {
  const notes = [];
  const rows = [];
  const add = (row) => rows.push(row);
  const aws = {
    AWS_ACCESS_KEY_ID: 'AKIABENCHEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const cloud = await startEcrCloud({ work, ecr: ECR, region: REGION, delayMs: 50 });
  cleanups.push(() => cloud.close());
  step('binaries');
  const bin = binaries();
  notes.push(`binary: ${bin.note}`);

  // one home for the direct paths: a stored entry, and the ECR token in the disk cache
  const direct = { ...home('direct'), ...aws, AWS_ENDPOINT_URL_ECR: cloud.url };
  mustRun(process.execPath, [NODE_HELPER, 'store'], {
    env: direct,
    input: JSON.stringify({ ServerURL: STORED, Username: 'user', Secret: 'stored-secret' }),
  });
  await mustRunAsync(process.execPath, [NODE_HELPER, 'get'], { env: direct, input: ECR }); // fills the disk cache from the stand-in
  // the daemon's home: no stored entry, the daemon holds the token
  const viaDaemon = { ...home('daemon'), ...aws, AWS_ENDPOINT_URL_ECR: cloud.url };
  writeFileSync(
    join(viaDaemon.XDG_CONFIG_HOME, 'berth.json'),
    JSON.stringify({ registries: [{ name: 'bench', provider: 'ecr', host: ECR_DAEMON }] }),
  );
  viaDaemon.BERTH_CONFIG = join(viaDaemon.XDG_CONFIG_HOME, 'berth.json');
  step('daemon');
  await startDaemon(viaDaemon);
  await mustRunAsync(process.execPath, [NODE_HELPER, 'get'], { env: viaDaemon, input: ECR_DAEMON });
  // 2 KB file for decrypt
  const plain = join(work, 'small.txt');
  writeFileSync(plain, 'x'.repeat(2048));
  mustRun(process.execPath, [NODE_BERTH, 'keygen', join(work, 'berth.aes')]);
  mustRun(process.execPath, [NODE_BERTH, 'encrypt', plain, join(work, 'small.berth'), '--key-path', join(work, 'berth.aes')]);
  const decryptArgs = (out) => ['decrypt', join(work, 'small.berth'), join(work, out), '--key-path', join(work, 'berth.aes')];

  add({ name: 'node -e 0', command: [process.execPath, '-e', '0'], env: direct, group: 'node' });
  // The floors under the Node rows: what a Node process does at the least for each path, with no berth code.
  add({
    name: 'node floor: node:crypto, 4 reads, 2 AES-GCM opens',
    command: [process.execPath, nodeFloor('direct')],
    input: ECR,
    expect: 'AWS',
    env: direct,
    build: 'node',
    kind: 'floor',
  });
  add({
    name: 'node floor: one node:net request to the daemon',
    command: [process.execPath, nodeFloor('daemon')],
    input: ECR_DAEMON,
    expect: '"Username":"AWS"',
    env: viaDaemon,
    build: 'node',
    kind: 'floor',
  });
  const builds = [{ build: 'node', run: (file) => [process.execPath, file], helper: NODE_HELPER, berth: NODE_BERTH }];
  if (bin.helper) builds.push({ build: 'binary', run: (file) => [file], helper: bin.helper, berth: bin.berth });
  for (const b of builds) {
    add({
      name: `${b.build}: stored get`,
      command: [...b.run(b.helper), 'get'],
      input: STORED,
      expect: 'stored-secret',
      env: direct,
      build: b.build,
      kind: 'get',
    });
    add({
      name: `${b.build}: ECR get, warm disk cache`,
      command: [...b.run(b.helper), 'get'],
      input: ECR,
      expect: 'pw-1',
      env: direct,
      build: b.build,
      kind: 'ecr',
    });
    add({
      name: `${b.build}: get through the daemon`,
      command: [...b.run(b.helper), 'get'],
      input: ECR_DAEMON,
      expect: '"Username":"AWS"',
      env: viaDaemon,
      build: b.build,
      kind: 'daemon',
    });
    // a fresh output each run: decrypt refuses to overwrite nothing, but keep the runs alike
    add({
      name: `${b.build}: berth decrypt 2 KB`,
      command: [...b.run(b.berth), ...decryptArgs(`out-${b.build}.txt`)],
      env: direct,
      build: b.build,
      kind: 'decrypt',
      before: () => rmSync(join(work, `out-${b.build}.txt`), { force: true }),
    });
  }
  if (have('age') && have('age-keygen')) {
    mustRun('age-keygen', ['-o', join(work, 'age.key')]);
    const recipient = mustRun('age-keygen', ['-y', join(work, 'age.key')]).trim();
    mustRun('age', ['-r', recipient, '-o', join(work, 'small.age'), plain]);
    add({
      name: 'age -d 2 KB',
      command: ['age', '-d', '-i', join(work, 'age.key'), '-o', join(work, 'out-age.txt'), join(work, 'small.age')],
      env: direct,
      group: 'age',
      before: () => rmSync(join(work, 'out-age.txt'), { force: true }),
    });
  } else notes.push('age -d: not installed (apt install age)');
  if (existsSync(ECR_LOGIN)) {
    const peer = { PATH: process.env.PATH, HOME: join(work, 'peer'), ...aws, HTTPS_PROXY: cloud.url, SSL_CERT_FILE: cloud.ca };
    mkdirSync(peer.HOME, { recursive: true });
    await mustRunAsync(ECR_LOGIN, ['get'], { env: peer, input: ECR }); // warms its cache
    add({
      name: 'docker-credential-ecr-login get, warm cache',
      command: [ECR_LOGIN, 'get'],
      input: ECR,
      expect: 'AWS',
      env: peer,
      group: 'ecr-login',
    });
  } else notes.push('docker-credential-ecr-login: not installed (apt install amazon-ecr-credential-helper)');
  if (process.env.DBUS_SESSION_BUS_ADDRESS && have('docker-credential-secretservice') && have('gnome-keyring-daemon')) {
    const env = home('secretservice');
    step('keyring');
    const keyring = await startKeyring(env);
    cleanups.push(() => keyring.kill('SIGTERM'));
    mustRun('docker-credential-secretservice', ['store'], {
      env,
      input: JSON.stringify({ ServerURL: STORED, Username: 'user', Secret: 'ss-secret' }),
    });
    add({
      name: 'docker-credential-secretservice get',
      command: ['docker-credential-secretservice', 'get'],
      input: STORED,
      expect: 'ss-secret',
      env,
    });
  } else notes.push('docker-credential-secretservice: needs dbus-run-session, gnome-keyring, golang-docker-credential-helpers');
  if (have('docker-credential-pass') && have('pass') && have('gpg')) {
    step('pass');
    const env = passEnv(home('pass'));
    mustRun('docker-credential-pass', ['store'], {
      env,
      input: JSON.stringify({ ServerURL: STORED, Username: 'user', Secret: 'pass-secret' }),
    });
    add({ name: 'docker-credential-pass get', command: ['docker-credential-pass', 'get'], input: STORED, expect: 'pass-secret', env });
  } else notes.push('docker-credential-pass: needs pass, gnupg, golang-docker-credential-helpers');

  // The floor under every binary row: an executable from the same bun that prints one line.
  const floor = bunHelloWorld();
  if (floor) add({ name: 'bun compiled hello-world (floor)', command: [floor], expect: 'hello', env: direct, kind: 'floor' });
  else notes.push('bun compiled hello-world: bun build failed or the bun package is missing');

  const chosen = process.env.BERTH_BENCH_ONLY ? rows.filter((row) => row.name.includes(process.env.BERTH_BENCH_ONLY) || row.group) : rows;
  step(`timing ${chosen.length} commands`);
  const cloudBefore = cloud.calls;
  for (let i = 0; i < WARMUP; i++) for (const row of chosen) row.before?.(), timeOnce(row);
  const samples = new Map(chosen.map((row) => [row, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // rotate the starting row, so no command always follows the same one
    for (let k = 0; k < chosen.length; k++) {
      const row = chosen[(k + round) % chosen.length];
      row.before?.();
      samples.get(row).push(timeOnce(row));
    }
  }
  const rss = new Map(
    chosen
      .filter((row) => row.kind === 'get' || row.kind === 'ecr' || row.kind === 'floor')
      .map((row) => [row, Math.max(peakRss(row), peakRss(row), peakRss(row))]),
  );
  if (cloud.calls !== cloudBefore)
    notes.push(`the stand-in cloud was asked ${cloud.calls - cloudBefore} times during the timed runs (expected 0)`);

  const stat = (row) => {
    const sorted = [...samples.get(row)].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  const byGroup = (group) => chosen.find((row) => row.group === group);
  const node = byGroup('node') && stat(byGroup('node'));
  const ecrLogin = byGroup('ecr-login') && stat(byGroup('ecr-login'));
  const age = byGroup('age') && stat(byGroup('age'));
  const lines = [];
  const verdicts = [];
  const ratio = (value, base) => (base ? `${(value / base).toFixed(2)}×` : 'n/a');
  const target = (label, value, limit) => {
    if (value === undefined || Number.isNaN(value)) return '';
    const met = value <= limit;
    verdicts.push({ label, met });
    return `${met ? 'met' : 'NOT met'} (${label})`;
  };
  for (const row of chosen) {
    const s = stat(row);
    let versus = '';
    let goal = '';
    if (row.build === 'node' && row.kind !== 'decrypt') {
      versus = `${ratio(s.p50, node?.p50)} node -e 0`;
      if (row.kind !== 'get' && row.kind !== 'floor') goal = target(`node ${row.kind} ≤ 1.3× node -e 0`, s.p50 / node?.p50, 1.3);
    }
    if (row.build === 'binary' && row.kind !== 'decrypt') {
      versus = `${ratio(s.p50, ecrLogin?.p50)} ecr-login`;
      goal = target(`binary ${row.kind} p50 ≤ 2× ecr-login`, s.p50 / ecrLogin?.p50, 2);
    }
    if (row.kind === 'decrypt') {
      versus = `${ratio(s.p50, age?.p50)} age -d`;
      if (row.build === 'binary') goal = target('binary decrypt 2 KB ≤ 3× age -d', s.p50 / age?.p50, 3);
    }
    if (!row.build && row.group !== 'node') versus = `${ratio(s.p50, ecrLogin?.p50)} ecr-login`;
    let p99 = '';
    if (row.kind === 'daemon') {
      p99 = `${s.p99.toFixed(1)}`;
      if (row.build === 'binary') goal += ` ${target('binary daemon p99 ≤ 2× ecr-login p99', s.p99 / ecrLogin?.p99, 2)}`;
      versus += `; p99 ${ratio(s.p99, ecrLogin?.p99)} ecr-login`;
    }
    const peak = rss.get(row);
    if (peak !== undefined && row.build === 'binary') goal += ` ${target(`binary ${row.kind} RSS < 40 MiB`, peak, 40)}`;
    lines.push([row.name, s.p50.toFixed(1), p99 || '', peak === undefined ? '' : `${peak.toFixed(0)} MiB`, versus, goal.trim()]);
  }
  const header = ['command', 'p50 ms', 'p99 ms', 'peak RSS', 'ratio (p50 unless said)', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) =>
    cells
      .map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(
    `berth hot paths: ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(format(line));
  for (const note of notes) console.log(`note: ${note}`);
  console.log(
    `targets: ${verdicts.filter((v) => v.met).length} of ${verdicts.length} met; load at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores shared: compare ratios)`,
  );
}

if (
  !process.argv.includes('--in-session') &&
  !process.env.DBUS_SESSION_BUS_ADDRESS &&
  have('dbus-run-session') &&
  have('gnome-keyring-daemon')
) {
  // Re-run inside a private session bus, so the keyring is ours and goes away with it.
  const result = spawnSync('dbus-run-session', ['--', process.execPath, SELF, '--in-session'], { stdio: ['ignore', 'inherit', 'pipe'] });
  const stderr = result.stderr
    .toString()
    .split('\n')
    .filter((line) => line && !/Failed to set fd limit/.test(line));
  if (stderr.length) console.error(stderr.join('\n'));
  cleanUp();
  process.exitCode = result.status ?? 1;
} else {
  try {
    await main();
  } catch (err) {
    console.error(`bench/table: ${err.message}`);
    process.exitCode = 1;
  }
  cleanUp();
  process.exit();
}
