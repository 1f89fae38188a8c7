// Builds dist/: type-checks the whole tree, then bundles each entry with esbuild. Bundling keeps the
// helper's start-up to a single small file; stores, providers and SDKs become chunks loaded on demand.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
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
await build({
  entryPoints: {
    'docker-credential-berth': 'helper/main.ts',
    berth: 'cli/berth.ts',
    'berth-daemon': 'daemon/main.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // Prefer a package's ESM build: esbuild exposes a CommonJS module loaded with import() only under
  // `default` (see core/import-package.ts), and some UMD builds do not bundle at all.
  mainFields: ['module', 'main'],
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // Native addon: loaded from node_modules at run time.
  external: ['@napi-rs/keyring'],
  define: { __BERTH_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies still call require(); give them one.
  banner: {
    js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
