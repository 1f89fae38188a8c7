// Benchmarks `berth daemon` (run after `npm run build`: node bench/daemon.mjs [--calls N] [--quick]):
// 1. `docker-credential-berth get` through the daemon vs direct vs Debian's `docker-credential-ecr-login`,
//    each with a warm cache: p50 and p99 over N calls (default 200);
// 2. the same while tokens expire mid-run (20-second tokens, calls paced over 30 s): the daemon refreshes
//    ahead, so its p99 stays flat; ecr-login refreshes on the call that finds its token past half-life;
// 3. daemon throughput for a cached credential on the unix socket, and its resident memory with 100
//    registries configured and their tokens cached.
// The cloud is a local stand-in for ECR's GetAuthorizationToken that answers after a fixed delay (a
// cloud round trip): reached by the daemon's ECR provider (the AWS SDK) through AWS_ENDPOINT_URL_ECR,
// and by ecr-login through a TLS-terminating CONNECT proxy (Go honours HTTPS_PROXY and SSL_CERT_FILE).
// The daemon is `berth daemon start` with the ECR registry and 99 others in its config file.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEcrCloud } from './lib/ecr-cloud.mjs';
import { benchHome } from './lib/homes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const CALLS = Number(args[args.indexOf('--calls') + 1]) || 200;
const QUICK = args.includes('--quick');
const CLOUD_DELAY_MS = 250;
const REGION = 'eu-west-1';
const ECR = `123456789012.dkr.ecr.${REGION}.amazonaws.com`;
const HELPER = join(ROOT, 'dist/docker-credential-berth.js');
const PEER = '/usr/bin/docker-credential-ecr-login';

const work = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const home = (name) => benchHome(work, name);
const cleanups = [() => rmSync(work, { recursive: true, force: true })];
process.on('exit', () => {
  for (const fn of cleanups.reverse()) fn();
});

// ---- the stand-in cloud (bench/lib/ecr-cloud.mjs) ------------------------------------------------
let cloud;
async function startCloud() {
  cloud = await startEcrCloud({ work, ecr: ECR, region: REGION, delayMs: CLOUD_DELAY_MS });
  cleanups.push(() => cloud.close());
  return { url: cloud.url, ca: cloud.ca };
}

// ---- processes ----------------------------------------------------------------------------------
function run(command, argv, env, input) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    child.stdin.end(input);
  });
}

function socketGet(socketPath, path, agent) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    });
    req.once('error', reject);
    req.end();
  });
}

async function startDaemon(env) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/berth.js'), 'daemon', 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  cleanups.push(() => child.kill('SIGKILL'));
  const socketPath = join(env.XDG_RUNTIME_DIR, 'berth', 'daemon.sock');
  for (let i = 0; i < 600; i++) {
    if (await socketGet(socketPath, '/healthz').catch(() => 0)) return { child, socketPath };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the daemon did not start: ${log}`);
}

// ---- measuring ----------------------------------------------------------------------------------
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function series(name, call, { paceMs = 0 } = {}) {
  const times = [];
  let failures = 0;
  for (let i = 0; i < CALLS; i++) {
    const started = Date.now();
    const result = await call();
    if (result.code !== 0) failures++;
    times.push(result.ms);
    if (paceMs) await new Promise((r) => setTimeout(r, Math.max(0, paceMs - (Date.now() - started))));
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1), failures };
}

function table(title, rows, baseline) {
  console.log(`\n${title} (${CALLS} calls each, cloud round trip ${CLOUD_DELAY_MS} ms)`);
  console.log(
    `${'tool'.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}  p50 ratio  p99 ratio  failures`,
  );
  for (const row of rows) {
    if (!row.p50) {
      console.log(`${row.name.padEnd(44)} ${row.note}`);
      continue;
    }
    const ratio = (a, b) => `${(a / b).toFixed(2)}×`.padStart(9);
    console.log(
      `${row.name.padEnd(44)} ${row.p50.toFixed(1).padStart(8)} ${row.p99.toFixed(1).padStart(8)} ${row.max.toFixed(1).padStart(8)}  ${ratio(row.p50, baseline.p50)}  ${ratio(row.p99, baseline.p99)}  ${row.failures}`,
    );
  }
}

async function throughput(socketPath, seconds) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const path = `/v1/credentials?registry=${ECR}`;
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        if ((await socketGet(socketPath, path, agent)) !== 200) throw new Error('a cached get failed');
        done++;
      }
    }),
  );
  agent.destroy();
  return done / seconds;
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

// ---- the runs -----------------------------------------------------------------------------------
async function main() {
  if (!existsSync(HELPER)) throw new Error('run npm run build first');
  const cloudAt = await startCloud();
  const aws = {
    AWS_ACCESS_KEY_ID: 'AKIABENCHEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // The daemon resolves with the ECR provider (AWS SDK), its calls sent to the stand-in cloud.
  const berthEnv = { ...home('berth'), ...aws, AWS_ENDPOINT_URL_ECR: cloudAt.url };
  // The direct path: no daemon in this home, so the helper resolves with the ECR provider and keeps the
  // token in its encrypted disk cache; the same stand-in cloud answers the first call.
  const directEnv = { ...home('direct'), ...aws, AWS_ENDPOINT_URL_ECR: cloudAt.url };
  const peerEnv = { PATH: process.env.PATH, HOME: join(work, 'peer'), ...aws, HTTPS_PROXY: cloudAt.url, SSL_CERT_FILE: cloudAt.ca };
  mkdirSync(peerEnv.HOME, { recursive: true });
  const configured = [
    { name: 'bench', provider: 'ecr', host: ECR },
    ...Array.from({ length: 99 }, (_, i) => ({
      name: `r${i}`,
      provider: 'ecr',
      host: `${String(100000000000 + i)}.dkr.ecr.${REGION}.amazonaws.com`,
    })),
  ];
  writeFileSync(join(berthEnv.XDG_CONFIG_HOME, 'berth.json'), JSON.stringify({ registries: configured }));
  berthEnv.BERTH_CONFIG = join(berthEnv.XDG_CONFIG_HOME, 'berth.json');

  const daemon = await startDaemon(berthEnv);
  const viaDaemon = () => run(process.execPath, [HELPER, 'get'], berthEnv, ECR);
  const direct = () => run(process.execPath, [HELPER, 'get'], directEnv, ECR);
  const peer = () => run(PEER, ['get'], peerEnv, ECR);
  const bareNode = () => run(process.execPath, ['-e', '0'], directEnv, '');

  const peerAvailable = existsSync(PEER);
  const directProbe = await direct();
  const directRow =
    directProbe.code === 0
      ? null
      : { name: 'berth helper, direct, warm disk cache', note: `n/a: ${directProbe.stdout.trim() || directProbe.stderr.trim()}` };
  for (const call of [viaDaemon, peerAvailable ? peer : null, directRow ? null : direct]) if (call) await call(); // warm the caches

  const warm = [await series('berth helper → daemon (warm)', viaDaemon)];
  const beforeDirect = cloud.calls;
  warm.push(directRow ?? (await series('berth helper, direct, warm disk cache', direct)));
  const directCloudCalls = cloud.calls - beforeDirect;
  warm.push(
    peerAvailable
      ? await series('docker-credential-ecr-login, warm cache', peer)
      : { name: 'docker-credential-ecr-login', note: 'n/a: install amazon-ecr-credential-helper' },
  );
  warm.push(await series('node -e 0 (start-up floor of any Node helper)', bareNode));
  table(`Helper get, warm cache (cloud calls during the direct run: ${directCloudCalls})`, warm, warm[0]);

  if (!QUICK) {
    cloud.lifetimeMs = 20_000; // from now on every token lives 20 s: several expire during each paced run
    const paceMs = Math.ceil(30_000 / CALLS);
    // Drop the 12-hour tokens both hold, then warm each with a 20-second one.
    await new Promise((resolve, reject) => {
      const req = request(
        { socketPath: daemon.socketPath, path: '/v1/invalidate', method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => res.resume().once('end', resolve),
      );
      req.once('error', reject);
      req.end(JSON.stringify({ registry: ECR }));
    });
    rmSync(join(peerEnv.HOME, '.ecr', 'cache.json'), { force: true });
    for (const call of [viaDaemon, peerAvailable ? peer : null]) if (call) await call();
    const calls0 = cloud.calls;
    const expiring = [await series('berth helper → daemon (tokens expiring)', viaDaemon, { paceMs })];
    const daemonCloudCalls = cloud.calls - calls0;
    if (peerAvailable) expiring.push(await series('docker-credential-ecr-login (tokens expiring)', peer, { paceMs }));
    table(
      `Helper get while 20-second tokens expire (calls paced over 30 s; the daemon made ${daemonCloudCalls} refreshes, none on a caller's path)`,
      expiring,
      expiring[0],
    );
    const jump = (i) =>
      expiring[i] && warm[i === 0 ? 0 : 2]?.p99 ? `${(expiring[i].p99 / warm[i === 0 ? 0 : 2].p99).toFixed(2)}×` : 'n/a';
    console.log(`p99 with expiring tokens / p99 warm: berth via daemon ${jump(0)}, docker-credential-ecr-login ${jump(1)}`);
    cloud.lifetimeMs = 12 * 3600_000;
  }

  const before = rssMiB(daemon.child.pid);
  for (const registry of configured) await socketGet(daemon.socketPath, `/v1/credentials?registry=${registry.host}`);
  const seconds = QUICK ? 2 : 5;
  const rps = await throughput(daemon.socketPath, seconds);
  console.log(
    `\nDaemon: ${Math.round(rps)} requests/s for a cached credential on the unix socket (16 keep-alive connections, ${seconds} s, client and daemon sharing the machine's cores)`,
  );
  console.log(
    `Daemon resident memory: ${before.toFixed(1)} MiB idle with 100 registries configured, ${rssMiB(daemon.child.pid).toFixed(1)} MiB with their 100 tokens cached and after the throughput run`,
  );
}

await main();
process.exit(0);
