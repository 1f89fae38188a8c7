/**
 * @module
 * Loading a dependency on demand, the same way from source and from the bundle. Node puts a
 * CommonJS package's exports both on the namespace of `import()` and under `default`; esbuild's
 * code-split bundles put them only under `default` (a CommonJS chunk ends in `export default
 * require_x()`), so destructuring the namespace finds nothing there. An ESM package has no
 * `default` and its namespace is used as is.
 */
export async function importPackage<T extends object>(loading: Promise<T>): Promise<T> {
  const namespace = (await loading) as T & { default?: T };
  return namespace.default ?? namespace;
}
