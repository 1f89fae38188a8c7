// Builds dist/: type-checks the whole tree, then bundles each entry with esbuild. Bundling keeps the
// helper's start-up to a single small file; stores, providers and SDKs become chunks loaded on demand.
// Beside the Node build, the standalone executable (dist/bin/, dist/release/): see buildStandalone.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

if (!process.argv.includes('--no-typecheck')) {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' });
  } catch {
    console.error('build: type check failed');
    process.exit(1);
  }
}

rmSync('dist', { recursive: true, force: true });

function isCommonJs(file) {
  if (file.endsWith('.cjs') || file.endsWith('.mjs')) return file.endsWith('.cjs');
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type !== 'module';
  }
  return true;
}

const isIdentifier = (name) => {
  try {
    new Function(`var ${name};`);
    return name !== 'default';
  } catch {
    return false;
  }
};

// importPackage() covers berth's own dynamic imports; dependencies make their own, e.g. gaxios's
// `const { HttpsProxyAgent } = await import('https-proxy-agent')` (Google behind HTTPS_PROXY), which
// code splitting would leave with only `default`. Route every dynamic import of a CommonJS package
// through a module that names its exports (read from the package at build time).
const cjsNamedExports = {
  name: 'cjs-named-exports',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const resolved = await b.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir });
      if (resolved.errors.length > 0 || resolved.external || !isCommonJs(resolved.path)) return undefined;
      let names;
      try {
        names = Object.keys(createRequire(resolved.path)(resolved.path)).filter(isIdentifier);
      } catch {
        return undefined; // not loadable as CommonJS after all: leave it to esbuild
      }
      return { path: resolved.path, namespace: 'cjs-named-exports', pluginData: names };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-named-exports' }, (args) => {
      const contents = `import * as m from ${JSON.stringify(args.path)};\nexport const { ${args.pluginData.join(', ')} } = m;\nexport default m.default;\n`;
      return { contents, resolveDir: dirname(args.path), loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // Prefer a package's ESM build: esbuild exposes a CommonJS module loaded with import() only under
  // `default` (see core/io/packages.ts), and some UMD builds do not bundle at all.
  mainFields: ['module', 'main'],
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __BERTH_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies still call require(); give them one.
  banner: {
    js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [cjsNamedExports],
};

/**
 * dist/bin/berth: one executable for every command (standalone/main.ts picks the entry by the name it
 * is started under), with dist/bin/docker-credential-berth a symlink to it; dist/release/ holds the
 * download (berth-linux-x64) and its SHA256SUMS. Compiled by the pinned bun devDependency running
 * build-standalone.mjs.
 */
async function buildStandalone() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`build: skipping the standalone executable (Linux x64 only; this is ${process.platform}-${process.arch})`);
    return;
  }
  const started = Date.now();
  mkdirSync('dist/bin', { recursive: true });
  const compile = (...orderFiles) =>
    promisify(execFile)(join('node_modules', '.bin', 'bun'), ['build-standalone.mjs', 'dist/bin/berth', pkg.version, ...orderFiles], {
      maxBuffer: 16 << 20,
    }).catch((err) => {
      throw new Error(`bun build --compile failed:\n${err.stderr || err.stdout || err.message}`);
    });
  await compile();
  symlinkSync('berth', 'dist/bin/docker-credential-berth');
  // Compiled again with its bytecode laid out in the order the hot paths ran it: what a start
  // touches sits together, which saves page faults and memory on every start.
  const orders = mkdtempSync(join(tmpdir(), 'berth-build-order-'));
  try {
    await compile(...(await recordHotPaths(orders)));
  } finally {
    rmSync(orders, { recursive: true, force: true });
  }
  mkdirSync('dist/release', { recursive: true });
  copyFileSync('dist/bin/berth', 'dist/release/berth-linux-x64');
  const sum = createHash('sha256').update(readFileSync('dist/release/berth-linux-x64')).digest('hex');
  writeFileSync('dist/release/SHA256SUMS', `${sum}  berth-linux-x64\n`);
  if (process.argv.includes('--verbose')) console.error(`build: standalone executable in ${Date.now() - started} ms`);
}

/**
 * Runs the executable's hot paths with BUN_BYTECODE_ORDER_OUT, one order file each, the most
 * important first: a stored `get`, an ECR `get` from the warm disk cache (filled from a stand-in
 * ECR endpoint), a `get` the daemon answers (a stand-in on the daemon socket), a decrypt, and a
 * `get` resolved through a provider.
 */
async function recordHotPaths(orders) {
  const files = [];
  await withHotPathHome(async (env) => {
    const run = (command, args, input, extra = {}) => runInHome(env, command, args, input, extra);
    const record = async (command, args, input, extra) => {
      const file = join(orders, `${files.length}.txt`);
      await run(command, args, input, { ...extra, BUN_BYTECODE_ORDER_OUT: file });
      if (existsSync(file)) files.push(file);
    };
    const helper = 'dist/bin/docker-credential-berth';
    const key = join(env.HOME, 'build.aes');
    const small = join(env.HOME, 'small.txt');
    writeFileSync(small, 'build\n');
    await run(helper, ['store'], JSON.stringify({ ServerURL: 'stored.example', Username: 'build', Secret: 'build' }));
    await run('dist/bin/berth', ['keygen', key]);
    await run('dist/bin/berth', ['encrypt', small, `${small}.berth`, '--key-path', key]);
    await record(helper, ['get'], 'stored.example');

    await withWarmEcrCache(env, [helper], async (aws) => record(helper, ['get'], ECR_HOST, aws));
    await withDaemonStandIn(env, 200, () => record(helper, ['get'], '210987654321.dkr.ecr.eu-west-1.amazonaws.com'));
    await record('dist/bin/berth', ['decrypt', `${small}.berth`, join(env.HOME, 'out.txt'), '--key-path', key]);
    await record(helper, ['get'], 'build.example');
  });
  if (files.length === 0) throw new Error('build: the executable wrote no bytecode order');
  return files;
}

const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

/**
 * Runs `fn(aws)` once the helper (`[program, ...args]`) has put a token for ECR_HOST in the disk
 * cache of `env`'s home, from a stand-in ECR endpoint; `aws` is the environment that reaches it.
 */
async function withWarmEcrCache(env, [program, ...args], fn) {
  const ecr = await listening(
    createServer((req, res) => {
      req.resume().once('end', () => {
        const authorizationToken = Buffer.from('AWS:build').toString('base64');
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify({ authorizationData: [{ authorizationToken, expiresAt: Date.now() / 1000 + 3600 }] }));
      });
    }),
    0,
  );
  try {
    const aws = {
      AWS_ACCESS_KEY_ID: 'AKIABUILDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'build',
      AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_ECR: `http://127.0.0.1:${ecr.address().port}`,
    };
    await runInHome(env, program, [...args, 'get'], ECR_HOST, aws); // fills the disk cache
    await fn(aws);
  } finally {
    ecr.close();
  }
}

/** Runs `fn` with a stand-in daemon on `env`'s socket that answers every request with `status`. */
async function withDaemonStandIn(env, status, fn) {
  const socketDir = join(env.XDG_RUNTIME_DIR, 'berth');
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  const body =
    status === 200
      ? { Username: 'AWS', Secret: 'build', ExpiresAt: new Date(Date.now() + 3600_000).toISOString() }
      : { error: 'the stand-in daemon answers nothing' };
  const daemon = await listening(
    createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }),
    join(socketDir, 'daemon.sock'),
  );
  try {
    await fn();
  } finally {
    await new Promise((resolve) => daemon.close(resolve));
  }
}

/**
 * Runs one command of the hot-path runs in the scratch home, `input` on its stdin; rejects with its
 * stderr if it fails. Asynchronous: the stand-in servers answer from this process's event loop.
 */
function runInHome(env, command, args, input, extra = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...env, ...extra }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`build: ${command} ${args.join(' ')} failed: ${stderr}`))));
    child.stdin.end(input ?? '');
  });
}

function listening(server, where) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => resolve(server));
  });
}

/**
 * Runs `fn` with the environment of a scratch home for a run of the hot paths: a config file naming
 * one registry served by the static provider (so a `get` of it reads the store, the config file and
 * the credential cache, asks for the daemon and resolves through a provider). Removed afterwards.
 */
async function withHotPathHome(fn) {
  const home = mkdtempSync(join(tmpdir(), 'berth-build-'));
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      DOCKER_USERNAME: 'build',
      DOCKER_PASSWORD: 'build',
    };
    mkdirSync(join(home, 'config', 'berth'), { recursive: true });
    writeFileSync(
      join(home, 'config', 'berth', 'config.json'),
      JSON.stringify({ registries: [{ name: 'build', provider: 'static', host: 'build.example' }] }),
    );
    await fn(env);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** One CommonJS file per entry in dist/: less to scan at every start; names are kept, so a stack trace still reads. */
const commonJsFile = {
  ...common,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  splitting: false,
  minifyWhitespace: true,
  minifySyntax: true,
  banner: {},
  plugins: [],
};

await Promise.all([
  process.argv.includes('--no-standalone') ? undefined : buildStandalone(),
  // docker starts the helper for every pull, so its start-up is one CommonJS file of berth's own
  // code: CommonJS because a bundled module's imports then become require() calls inside the lazy
  // wrapper esbuild gives each module (an ES module bundle hoists them all to the top, and the helper
  // would load node:tls or valibot to answer a stored `get`), and one file because every module file
  // costs a read, a parse and a link. Dependencies (cloud SDKs, the lock library) stay in
  // node_modules and are loaded only on the paths that use them. The plain `berth decrypt` and
  // `berth encrypt` (cli/plain-forms.ts) are one such file too, berth-fast.cjs. The package's bins
  // are small loaders (helper/loader.ts, cli/loader.ts) that run these bundles with the code cache
  // writeCodeCaches makes.
  build({
    ...commonJsFile,
    entryPoints: { helper: 'helper/main.ts', 'berth-fast': 'cli/fast-main.ts' },
    // A dependency is loaded with require(), not import(): the loaders run these bundles as vm
    // scripts (for their code cache), where import() has no loader.
    supported: { 'dynamic-import': false },
    packages: 'external',
  }),
  // cli/loader.ts imports the ES module program (berth.js) for every other command.
  build({ ...commonJsFile, entryPoints: { 'docker-credential-berth': 'helper/loader.ts', berth: 'cli/loader.ts' } }),
  build({
    ...common,
    // The CLI loads the daemon's bundle by path when `berth daemon start` runs, so no other command
    // loads express; the two share chunks.
    entryPoints: { berth: 'cli/berth.ts', 'berth-daemon': 'daemon/main.ts' },
    outdir: 'dist',
    external: ['@napi-rs/keyring'],
  }),
  // The generator images copy dist/generator/ alone: it holds every chunk the generator can load
  // and nothing it uses is external, so an image needs no node_modules. The dependency table
  // (core/io/packages.ts) also names the keychain addon and the Kubernetes client, which no
  // generator reaches: left out.
  build({
    ...common,
    entryPoints: { 'berth-generate': 'generators/main.ts' },
    outdir: 'dist/generator',
    external: ['@napi-rs/keyring', '@kubernetes/client-node'],
  }),
]);
// dist/docker-credential-berth.js, for whoever starts the helper by that path: loads the same file.
writeFileSync(
  'dist/docker-credential-berth.js',
  "#!/usr/bin/env node\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./docker-credential-berth.cjs');\n",
  { mode: 0o755 },
);
for (const bin of ['dist/docker-credential-berth.cjs', 'dist/berth.cjs']) chmodSync(bin, 0o755);
await writeCodeCaches();
// Outside the repository (in an image) nothing else says these files are ES modules.
writeFileSync('dist/generator/package.json', `${JSON.stringify({ type: 'module' })}\n`);

/**
 * The V8 code caches the loaders start their bundles with (core/io/code-cache.ts), each written by one
 * run, so every function that run calls is in it: dist/helper.cjs.cache from an ECR `get` that reads
 * the store, asks a daemon that answers 503 (the socket client and its fallback), and answers from
 * the warm disk cache; dist/berth-fast.cjs.cache from a decrypt of a small file.
 */
async function writeCodeCaches() {
  await withHotPathHome(async (env) => {
    const helperBin = 'dist/docker-credential-berth.cjs';
    const helper = (action, input, extra) => runInHome(env, process.execPath, [helperBin, action], input, extra);
    await helper('store', JSON.stringify({ ServerURL: 'stored.example', Username: 'build', Secret: 'build' }));
    await withWarmEcrCache(env, [process.execPath, helperBin], (aws) =>
      withDaemonStandIn(env, 503, () => helper('get', ECR_HOST, { ...aws, BERTH_BUILD_CODE_CACHE: '1' })),
    );
    const berth = (args, extra) => runInHome(env, process.execPath, ['dist/berth.cjs', ...args], '', extra);
    const file = (name) => join(env.HOME, name);
    writeFileSync(file('small.txt'), 'x'.repeat(2048));
    await berth(['keygen', file('build.aes')]);
    await berth(['encrypt', file('small.txt'), file('small.berth'), '--key-path', file('build.aes')]);
    await berth(['decrypt', file('small.berth'), file('out.txt'), '--key-path', file('build.aes')], { BERTH_BUILD_CODE_CACHE: '1' });
  });
}
