#!/usr/bin/env node
// Warm-cache `get` for an ECR registry: docker-credential-berth (token in its encrypted cache) against
// Debian's docker-credential-ecr-login (token in ~/.ecr/cache.json) and `node -e 0`; then the size of each
// generator image. Run after `npm run build`: node bench/generate.mjs [--runs N] [--no-images]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const SECRET = 'bench-password';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 40;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;

/** berth's own modules, bundled on the fly so this script can seed the cache exactly as berth keys it. */
async function loadBerth(dir) {
  const out = join(dir, 'berth-seed.mjs');
  await build({
    stdin: {
      contents: [
        "export { processCache } from './core/resolve/context.ts';",
        "export { cacheKeyFor } from './core/resolve/cache.ts';",
        "export { pickRegistry } from './core/resolve/resolve.ts';",
        "export { PROVIDERS } from './core/providers/index.ts';",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return import(out);
}

async function seedBerth(env, dir) {
  const berth = await loadBerth(dir);
  const registry = berth.pickRegistry(HOST, {});
  if (!registry) throw new Error(`berth does not recognise ${HOST} as an ECR registry`);
  const module = await berth.PROVIDERS[registry.provider]();
  const request = { registryHost: HOST, options: {}, env, now: () => Date.now() };
  const key = await berth.cacheKeyFor(registry, module, request);
  const cache = berth.processCache(
    env,
    {},
    () => Date.now(),
    (line) => console.error(line),
  );
  await cache.put(key, { username: 'AWS', secret: SECRET, expiresAt: new Date(Date.now() + 12 * 3600_000) });
}

/** ecr-login 0.6's cache: key = region-base64(accessKeyId ‖ md5 of nothing)-account (its checksum()). */
function seedEcrLogin(home) {
  const checksum = Buffer.concat([Buffer.from(ACCESS_KEY_ID), createHash('md5').digest()]).toString('base64');
  const entry = {
    AuthorizationToken: Buffer.from(`AWS:${SECRET}`).toString('base64'),
    RequestedAt: new Date().toISOString(),
    ExpiresAt: new Date(Date.now() + 12 * 3600_000).toISOString(),
    ProxyEndpoint: `https://${HOST}`,
  };
  mkdirSync(join(home, '.ecr'), { recursive: true, mode: 0o700 });
  const cache = { Registries: { [`us-east-1-${checksum}-123456789012`]: entry }, Version: '1.0' };
  writeFileSync(join(home, '.ecr', 'cache.json'), JSON.stringify(cache), { mode: 0o600 });
}

/** CPU time (user + system) of this process's finished children, in ms: less shaken by a busy machine than wall time. */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * (1000 / CLOCK_TICKS);
}

function timeOnce(command, commandArgs, env, input) {
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { env, input, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')}: exit ${result.status}: ${result.stdout}${result.stderr}`);
  return { ms, cpuMs: childrenCpuMs() - cpuBefore, stdout: result.stdout, stderr: result.stderr };
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
  return { mean, median: sorted[Math.floor(sorted.length / 2)], min: sorted[0] };
}

async function benchGet() {
  const home = mkdtempSync(join(tmpdir(), 'berth-bench-generate-'));
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CACHE_HOME: join(home, 'cache'),
      BERTH_STORE: 'file',
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: 'not-used-on-a-warm-cache',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    await seedBerth(env, home);
    seedEcrLogin(home);
    // For reference: the same helper answering from its store, where the ECR path looks first.
    timeOnce(process.execPath, [join(ROOT, 'dist/berth.js'), 'login', 'ghcr.io', '-u', 'octocat', '--password-stdin'], env, SECRET);
    const helper = [join(ROOT, 'dist/docker-credential-berth.js'), 'get'];
    const contenders = [
      ['docker-credential-berth get', process.execPath, helper, HOST],
      ['docker-credential-ecr-login get', 'docker-credential-ecr-login', ['get'], HOST],
      ['node -e 0', process.execPath, ['-e', '0'], ''],
      ['(berth get, stored ghcr.io entry)', process.execPath, helper, 'ghcr.io'],
    ];
    for (const [name, command, commandArgs, input] of contenders.slice(0, 2)) {
      const { stdout, stderr } = timeOnce(command, commandArgs, env, input);
      if (JSON.parse(stdout).Secret !== SECRET) throw new Error(`${name} did not answer from its cache: ${stdout}`);
      if (name.includes('berth') && stderr !== '') throw new Error(`${name} wrote to stderr: ${stderr}`);
    }
    const samples = contenders.map(() => []);
    const cpu = contenders.map(() => 0);
    for (let run = 0; run < RUNS + 3; run++) {
      contenders.forEach(([, command, commandArgs, input], index) => {
        const { ms, cpuMs } = timeOnce(command, commandArgs, env, input);
        if (run < 3) return; // the first rounds warm the page cache
        samples[index].push(ms);
        cpu[index] += cpuMs;
      });
    }
    const peer = stats(samples[1]).median;
    const peerCpu = cpu[1];
    console.log(`warm-cache get for ${HOST} (${RUNS} runs each, interleaved; ratios against docker-credential-ecr-login)`);
    contenders.forEach(([name], index) => {
      const { mean, median, min } = stats(samples[index]);
      const wall = `wall median ${median.toFixed(1).padStart(6)} ms (×${(median / peer).toFixed(2)})  mean ${mean.toFixed(1).padStart(6)}  min ${min.toFixed(1).padStart(6)}`;
      console.log(
        `  ${name.padEnd(35)} ${wall}  cpu ${(cpu[index] / RUNS).toFixed(1).padStart(6)} ms (×${(cpu[index] / peerCpu).toFixed(2)})`,
      );
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function dirSize(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

async function benchImages() {
  // Beside node_modules, so the bundle's external packages resolve.
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  const scratch = mkdtempSync(join(ROOT, '.bench', 'images-'));
  const out = join(scratch, 'podman.mjs');
  await build({
    entryPoints: [join(ROOT, 'test/e2e/harness/podman.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
    packages: 'external',
  });
  const { openPodman } = await import(out);
  const podman = await openPodman(ROOT);
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  try {
    const base = await podman.baseImage();
    const size = async (image) => Number((await podman.exec(['image', 'inspect', '--format', '{{.Size}}', image])).stdout.trim());
    const baseSize = await size(base);
    console.log(
      `\ngenerator images (base: this machine's node ${process.version} and its libraries, ${mb(baseSize)}; bundle dist/generator ${mb(dirSize(join(ROOT, 'dist/generator')))})`,
    );
    for (const name of ['ecr', 'google', 'azure', 'static', 'all']) {
      const image = await podman.build(`Dockerfiles/${name}.Dockerfile`, { BASE_IMAGE: base });
      const total = await size(image);
      console.log(`  ${`${name}.Dockerfile`.padEnd(20)} ${mb(total).padStart(9)}  (+${mb(total - baseSize)} over the base)`);
    }
  } finally {
    await podman.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

statSync(join(ROOT, 'dist/docker-credential-berth.js')); // run `npm run build` first
execFileSync('docker-credential-ecr-login', ['version'], { stdio: 'ignore' });
await benchGet();
if (!args.includes('--no-images')) await benchImages();
