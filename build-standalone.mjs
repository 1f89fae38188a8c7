// The standalone executable, run under the pinned bun by build.mjs: `node_modules/.bin/bun
// build-standalone.mjs OUTFILE VERSION [ORDER…]`. One entry, standalone/main.ts, bundled as ES modules with
// code splitting and compiled with bytecode: what a module imports statically is in the chunk the
// helper starts from, and each dynamic `import()` (the CLI, the daemon, the providers, every
// dependency in core/io/packages.ts) is a chunk of its own, read only when used. Modules that
// several chunks use are shared, not copied, so one class is one class everywhere. A compiled
// executable would read `.env`, `bunfig.toml`, `package.json` and `tsconfig.json` from the working
// directory (where docker starts the helper): off. ORDER files (BUN_BYTECODE_ORDER_OUT of runs of
// the executable, the most important first) lay the bytecode out in the order those runs used it.
// Every module sees core/io/sys.ts as standalone/sys.ts (the hot paths' system calls made with
// Bun's own objects, so a start never loads node:fs) and core/io/path.ts as standalone/path.ts (so
// it never loads the runtime's node:path either).
/* global Bun */
import { resolve } from 'node:path';

// The executable's own versions of core/io modules: each key is replaced by its value for every importer.
const swapped = new Map([
  [resolve('core/io/sys.ts'), resolve('standalone/sys.ts')],
  [resolve('core/io/path.ts'), resolve('standalone/path.ts')],
]);
const [outfile, version, ...bytecodeOrder] = process.argv.slice(2);

const result = await Bun.build({
  entrypoints: ['standalone/main.ts'],
  compile: {
    outfile,
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadPackageJson: false,
    autoloadTsconfig: false,
    // JIT tier-up thresholds 100 times the usual: a `get` is over in milliseconds, before compiled
    // code would pay off (standalone/cli.ts restores the usual for the daemon and the controller).
    jitPolicy: 100,
    ...(bytecodeOrder.length && { bytecodeOrder }),
  },
  bytecode: true,
  format: 'esm',
  splitting: true,
  target: 'bun',
  define: { __BERTH_STANDALONE__: 'true', __BERTH_VERSION__: JSON.stringify(version) },
  plugins: [
    {
      name: 'standalone-io',
      setup(build) {
        build.onResolve({ filter: /\/(sys|path)\.js$/ }, (args) => {
          const own = swapped.get(resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')));
          return own ? { path: own } : undefined;
        });
      },
    },
  ],
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  process.exit(1);
}
