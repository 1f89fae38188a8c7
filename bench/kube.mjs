#!/usr/bin/env node
// `berth kube sync` at scale (run after `npm run build`: node bench/kube.mjs [--namespaces N]):
// 1,000 namespaces, each with its `default` service account, on the local API server stand-in
// (test/fakes/kube-apiserver.ts, run in this process); `berth kube sync --once --all-namespaces
// --service-account default` with one static registry. Reports the API calls of a first pass
// (target: one list, one write per namespace, one patch per service account) and of a second pass
// with nothing changed (target: zero writes), wall time and the sync process's peak RSS; then the
// long-running mode's RSS after its first pass, and how fast a new namespace gets its Secret.
// Baselines from the same run: `node -e 0`, and `kubectl get namespaces` listing the same cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const NAMESPACES = Number(args[args.indexOf('--namespaces') + 1]) || 1000;
const BERTH = join(ROOT, 'dist/berth.js');
const work = mkdtempSync(join(tmpdir(), 'berth-bench-kube-'));

async function loadFake() {
  const outfile = join(work, 'kube-apiserver.mjs');
  await build({
    entryPoints: [join(ROOT, 'test/fakes/kube-apiserver.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'error',
  });
  return import(outfile);
}

/** Runs a command to completion without blocking this process (the fake answers from here). */
function run(command, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Wall seconds and peak RSS (MiB) of one run, from GNU time. */
async function timed(argv, env) {
  const started = process.hrtime.bigint();
  const result = await run('/usr/bin/time', ['-f', 'BENCH-RSS-KB %M', ...argv], env);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const rssKb = Number(/BENCH-RSS-KB (\d+)/.exec(result.stderr)?.[1]);
  if (result.code !== 0) throw new Error(`${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
  return { wallMs, rssMiB: rssKb / 1024, stderr: result.stderr };
}

function callsSince(fake, from) {
  const counts = {};
  for (const call of fake.calls.slice(from)) counts[`${call.verb} ${call.resource}`] = (counts[`${call.verb} ${call.resource}`] ?? 0) + 1;
  return counts;
}

const writesOf = (counts) =>
  Object.entries(counts)
    .filter(([key]) => /^(create|update|patch|delete) /.test(key))
    .reduce((sum, [, n]) => sum + n, 0);

const format = (counts) =>
  Object.entries(counts)
    .map(([key, n]) => `${n} ${key}`)
    .join(', ');

async function longRunning(fake, env) {
  const child = spawn(
    process.execPath,
    [BERTH, 'kube', 'sync', '--all-namespaces', '--service-account', 'default', '--listen', '127.0.0.1:0'],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const waitFor = (pattern) =>
    new Promise((resolve, reject) => {
      const check = () => pattern.test(stderr) && resolve();
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        check();
      });
      child.on('close', () => reject(new Error(`sync exited early: ${stderr}`)));
      check();
    });
  await waitFor(/serving \/healthz/);
  const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  const afterPass = rssMiB();
  await new Promise((resolve) => setTimeout(resolve, 300)); // the watch is open
  const started = Date.now();
  fake.addNamespace('arrives-later');
  while (!fake.secret('arrives-later', 'berth-pull')) await new Promise((resolve) => setTimeout(resolve, 5));
  const newNamespaceMs = Date.now() - started;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('close', resolve));
  return { afterPass, newNamespaceMs };
}

async function main() {
  if (!existsSync(BERTH)) throw new Error('run `npm run build` first');
  const { FakeKubeApiServer } = await loadFake();
  const fake = await FakeKubeApiServer.start();
  for (let n = 0; n < NAMESPACES; n++) fake.addNamespace(`team-${String(n).padStart(4, '0')}`, { tier: n % 2 ? 'web' : 'batch' });
  const kubeconfig = join(work, 'kubeconfig');
  writeFileSync(kubeconfig, fake.kubeconfig());
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    XDG_CONFIG_HOME: join(work, 'config'),
    XDG_DATA_HOME: join(work, 'data'),
    XDG_CACHE_HOME: join(work, 'cache'),
    XDG_RUNTIME_DIR: join(work, 'run'),
    KUBECONFIG: kubeconfig,
    BENCH_USER: 'octocat',
    BENCH_TOKEN: 'ghp_bench',
  };
  const added = await run(
    process.execPath,
    [
      BERTH,
      'registries',
      'add',
      'gh',
      '--provider',
      'static',
      '--host',
      'ghcr.io',
      '-o',
      'usernameEnv=BENCH_USER',
      '-o',
      'passwordEnv=BENCH_TOKEN',
    ],
    env,
  );
  if (added.code !== 0) throw new Error(added.stderr);

  const nodeBaseline = await timed([process.execPath, '-e', '0'], env);
  const kubectlBaseline = await timed(['kubectl', 'get', 'namespaces', '-o', 'name'], env);
  const sync = [process.execPath, BERTH, 'kube', 'sync', '--once', '--all-namespaces', '--service-account', 'default'];

  let mark = fake.calls.length;
  const first = await timed(sync, env);
  const firstCalls = callsSince(fake, mark);
  mark = fake.calls.length;
  const second = await timed(sync, env);
  const secondCalls = callsSince(fake, mark);
  const long = await longRunning(fake, env);

  const ns = NAMESPACES;
  console.log(`${ns} namespaces, one service account each, on the API server stand-in`);
  console.log(`first pass:  ${format(firstCalls)}`);
  console.log(
    `             writes ${writesOf(firstCalls)} (target ${2 * ns}: ${ns} creates + ${ns} patches), lists ${firstCalls['list namespaces'] ?? 0} (target 1)`,
  );
  console.log(`             ${(first.wallMs / 1000).toFixed(2)} s wall, peak RSS ${first.rssMiB.toFixed(0)} MiB`);
  console.log(`second pass: ${format(secondCalls)}`);
  console.log(`             writes ${writesOf(secondCalls)} (target 0)`);
  console.log(`             ${(second.wallMs / 1000).toFixed(2)} s wall, peak RSS ${second.rssMiB.toFixed(0)} MiB`);
  console.log(
    `long-running: RSS ${long.afterPass.toFixed(0)} MiB after its first pass; a new namespace had its Secret after ${long.newNamespaceMs} ms`,
  );
  console.log(
    `baselines:   node -e 0 ${nodeBaseline.wallMs.toFixed(0)} ms, ${nodeBaseline.rssMiB.toFixed(0)} MiB; ` +
      `kubectl get namespaces (${ns}) ${kubectlBaseline.wallMs.toFixed(0)} ms, ${kubectlBaseline.rssMiB.toFixed(0)} MiB`,
  );
  console.log(
    `ratios:      first pass ${(first.wallMs / kubectlBaseline.wallMs).toFixed(1)}× and second pass ${(second.wallMs / kubectlBaseline.wallMs).toFixed(1)}× one kubectl list; ` +
      `${((first.wallMs / (writesOf(firstCalls) + (firstCalls['get secrets'] ?? 0) + (firstCalls['get serviceaccounts'] ?? 0))) * 1000).toFixed(0)} µs per API call`,
  );
  await fake.close();
  const ok = writesOf(secondCalls) === 0 && (firstCalls['list namespaces'] ?? 0) === 1 && writesOf(firstCalls) === 2 * ns;
  if (!ok) {
    console.error('bench: kube sync missed its targets');
    process.exitCode = 1;
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
