// The standalone executable, run under the pinned bun by build.mjs: `node_modules/.bin/bun
// build-standalone.mjs OUTFILE VERSION`. One file with three entries (see standalone/main.ts):
// the start-up entry (the helper), the CLI's and the dependencies'. Every module but the last
// sees core/io/packages.ts as standalone/packages-stub.ts, so no dependency is compiled into
// the entry the helper starts from. `--bytecode` (which needs CommonJS output) is what makes it
// start fast. A compiled executable would read `.env`, `bunfig.toml`, `package.json` and
// `tsconfig.json` from the working directory (where docker starts the helper): off.
/* global Bun */
import { resolve } from 'node:path';

const [outfile, version] = process.argv.slice(2);
const table = resolve('core/io/packages.ts');
const stub = resolve('standalone/packages-stub.ts');
const tableEntry = resolve('standalone/packages.ts');

const result = await Bun.build({
  entrypoints: ['standalone/main.ts', 'standalone/cli.ts', 'standalone/packages.ts'],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false, autoloadPackageJson: false, autoloadTsconfig: false },
  bytecode: true,
  format: 'cjs',
  target: 'bun',
  define: { __BERTH_STANDALONE__: 'true', __BERTH_VERSION__: JSON.stringify(version) },
  plugins: [
    {
      name: 'packages-entry',
      setup(build) {
        build.onResolve({ filter: /\/packages\.js$/ }, (args) => {
          if (args.importer === tableEntry || resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')) !== table) return undefined;
          return { path: stub };
        });
      },
    },
  ],
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  process.exit(1);
}
