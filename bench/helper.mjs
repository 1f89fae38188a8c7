// Start-up cost of the credential helper, side by side in one run: `docker-credential-berth get` and
// `list` (file store, 10 entries) against Debian's `docker-credential-secretservice` (gnome-keyring in
// a private D-Bus session, same 10 entries) and a bare `node -e 0`. Runs are interleaved round-robin
// so machine load hits every command alike. Target: berth get <= 1.3x node -e 0.
//
//   npm run build && node bench/helper.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKeyring } from './lib/homes.mjs';

const HELPER = fileURLToPath(new URL('../dist/docker-credential-berth.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ENTRIES = 10;
const WARMUP = 3;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;

function have(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

function isolatedEnv(dir) {
  mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
  return {
    ...process.env,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    BERTH_STORE: 'file',
  };
}

function mustRun(command, args, input, env) {
  const result = spawnSync(command, args, { input, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  const p50 = sorted[Math.floor(sorted.length / 2)];
  return { mean, p50, min: sorted[0] };
}

/** Wall time of one spawn, in ms, checking it did what it should. */
function timeOnce(bench) {
  const start = process.hrtime.bigint();
  const result = spawnSync(bench.command[0], bench.command.slice(1), { input: bench.input ?? '', env: bench.env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 || (bench.expect && !result.stdout.toString().includes(bench.expect))) {
    throw new Error(`${bench.name} failed: ${result.stdout}${result.stderr}`);
  }
  return ms;
}

function measure(benches) {
  for (let i = 0; i < WARMUP; i++) for (const bench of benches) timeOnce(bench);
  const samples = new Map(benches.map((bench) => [bench.name, []]));
  for (let i = 0; i < RUNS; i++) for (const bench of benches) samples.get(bench.name).push(timeOnce(bench));
  // Each round runs every command back to back: the ratio within a round cancels slow load drift.
  const base = samples.get(benches[0].name);
  return benches.map((bench) => {
    const own = samples.get(bench.name);
    return { name: bench.name, ...stats(own), paired: stats(own.map((ms, i) => ms / base[i])).p50 };
  });
}

function report(results) {
  const base = results.find((r) => r.name === 'node -e 0');
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  const pad = Math.max(...results.map((r) => r.name.length));
  console.log(`${RUNS} runs each, interleaved, after ${WARMUP} warm-up rounds (${ENTRIES} entries per store)\n`);
  console.log(`${'command'.padEnd(pad)}   mean ms   p50 ms   min ms   p50 / node -e 0   per-round ratio (p50)`);
  for (const r of results) {
    const ratio = `${(r.p50 / base.p50).toFixed(2)}x`;
    const cells = [r.mean, r.p50, r.min].map((ms) => ms.toFixed(1).padStart(8)).join(' ');
    console.log(`${r.name.padEnd(pad)}  ${cells}   ${ratio.padStart(15)}   ${r.paired.toFixed(2).padStart(20)}x`);
  }
  for (const action of ['get', 'list']) {
    const ours = byName[`berth ${action}`];
    const peer = byName[`secretservice ${action}`];
    if (peer) console.log(`berth ${action} / secretservice ${action} (p50): ${(ours.p50 / peer.p50).toFixed(2)}x`);
  }
  const target = byName['berth get'].paired;
  console.log(`\nberth get / node -e 0 (per-round p50): ${target.toFixed(2)}x (target <= 1.30x: ${target <= 1.3 ? 'met' : 'NOT met'})`);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const env = isolatedEnv(dir);
  let keyring;
  try {
    const berth = [process.execPath, HELPER];
    const emptyModule = join(dir, 'empty.mjs');
    writeFileSync(emptyModule, '');
    for (let i = 0; i < ENTRIES; i++) {
      const creds = { ServerURL: `registry${i}.example.com`, Username: `user${i}`, Secret: `secret-${i}-${'x'.repeat(40)}` };
      mustRun(process.execPath, [HELPER, 'store'], JSON.stringify(creds), env);
    }
    const benches = [
      { name: 'node -e 0', command: [process.execPath, '-e', '0'], env },
      // Any ESM entry pays for the module loader; this is the floor for a bundled .js helper.
      { name: 'node empty.mjs', command: [process.execPath, emptyModule], env },
      // The helper's floor: its own modules, no store opened.
      { name: 'berth version', command: [...berth, 'version'], expect: 'docker-credential-berth', env },
      { name: 'berth get', command: [...berth, 'get'], input: 'registry5.example.com', expect: 'user5', env },
      { name: 'berth list', command: [...berth, 'list'], expect: 'registry9.example.com', env },
    ];
    if (process.env.DBUS_SESSION_BUS_ADDRESS && process.argv.includes('--in-session')) {
      keyring = await startKeyring(env);
      for (let i = 0; i < ENTRIES; i++) {
        const creds = { ServerURL: `registry${i}.example.com`, Username: `user${i}`, Secret: `secret-${i}-${'x'.repeat(40)}` };
        mustRun('docker-credential-secretservice', ['store'], JSON.stringify(creds), env);
      }
      benches.push(
        {
          name: 'secretservice get',
          command: ['docker-credential-secretservice', 'get'],
          input: 'registry5.example.com',
          expect: 'user5',
          env,
        },
        { name: 'secretservice list', command: ['docker-credential-secretservice', 'list'], expect: 'registry9.example.com', env },
      );
    } else {
      console.log('docker-credential-secretservice skipped (needs dbus-daemon, gnome-keyring, golang-docker-credential-helpers)\n');
    }
    report(measure(benches));
  } finally {
    keyring?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (
  !process.argv.includes('--in-session') &&
  have('dbus-run-session') &&
  have('gnome-keyring-daemon') &&
  have('docker-credential-secretservice')
) {
  // Re-run inside a private session bus so the keyring is ours and goes away with it.
  const result = spawnSync('dbus-run-session', ['--', process.execPath, SELF, '--in-session', ...process.argv.slice(2)], {
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const stderr = result.stderr
    .toString()
    .split('\n')
    .filter((line) => line && !/Failed to set fd limit/.test(line));
  if (stderr.length) console.error(stderr.join('\n'));
  process.exitCode = result.status ?? 1;
} else {
  await main();
}
