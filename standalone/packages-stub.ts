/**
 * @module
 * core/io/packages.ts as the standalone executable's other entries see it (build-standalone.mjs swaps
 * the module): the table lives in the entry standalone/packages.ts, loaded the first time a dependency
 * is needed. The path is given at run time, so the bundler does not pull that entry in here.
 */
import type { PackageName, PackageOf } from '../core/io/packages.js';

export type { PackageName, PackageOf };

const PACKAGES_ENTRY = './packages.js';

export async function loadPackage<N extends PackageName>(name: N): Promise<PackageOf<N>> {
  const table = (await import(PACKAGES_ENTRY)) as typeof import('../core/io/packages.js');
  return table.loadPackage(name);
}
