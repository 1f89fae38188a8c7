/**
 * @module
 * Every dependency berth loads on demand, named once: the cloud SDKs, the Kubernetes client, the
 * keychain addon, the HTTP client, the lock and retry libraries, the JSONC parser. Nothing loads
 * them at start-up; a path that needs one calls `loadPackage`. In the standalone executable each
 * is a chunk of its own, read the first time it is loaded (see build-standalone.mjs).
 */
const PACKAGES = {
  '@aws-sdk/client-ecr': () => import('@aws-sdk/client-ecr'),
  '@aws-sdk/client-ecr-public': () => import('@aws-sdk/client-ecr-public'),
  '@aws-sdk/credential-providers': () => import('@aws-sdk/credential-providers'),
  '@azure/identity': () => import('@azure/identity'),
  '@kubernetes/client-node': () => import('@kubernetes/client-node'),
  '@napi-rs/keyring': () => import('@napi-rs/keyring'),
  '@smithy/node-http-handler': () => import('@smithy/node-http-handler'),
  'google-auth-library': () => import('google-auth-library'),
  'jsonc-parser': () => import('jsonc-parser'),
  'proper-lockfile': () => import('proper-lockfile'),
  retry: () => import('retry'),
  undici: () => import('undici'),
};

export type PackageName = keyof typeof PACKAGES;
export type PackageOf<N extends PackageName> = Awaited<ReturnType<(typeof PACKAGES)[N]>>;

/**
 * The package's exports, the same from source and from a bundle: a CommonJS package's
 * `module.exports`, an ES module's namespace. Node puts a CommonJS package's exports both on the
 * namespace of `import()` and under `default`; esbuild's code-split bundles put them only under
 * `default` (a CommonJS chunk ends in `export default require_x()`), so the namespace alone would
 * have nothing to destructure there. An ES module has no `default` and its namespace is used as is.
 */
export async function loadPackage<N extends PackageName>(name: N): Promise<PackageOf<N>> {
  const namespace = (await PACKAGES[name]()) as PackageOf<N> & { default?: PackageOf<N> };
  return namespace.default ?? namespace;
}
