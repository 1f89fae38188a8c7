/**
 * @module
 * Runs a provider in a child process. `bundleProviderChild` builds test/fakes/provider-child.ts
 * with the production bundler settings (SDKs bundled in, dynamic imports lazy); `runProvider`
 * starts it with exactly the environment given, so nothing leaks in from the test runner.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface ProviderRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  credential?: { username: string; secret: string; expiresAt?: string };
  error?: { name: string; message: string; hint?: string };
}

/** Bundles the child entry into `dir`; returns the script path. */
export async function bundleProviderChild(dir: string): Promise<string> {
  const outfile = join(dir, 'provider-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./provider-child.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The dependency table (core/io/packages.ts) names the native keychain addon: loaded from node_modules.
    external: ['@napi-rs/keyring'],
    banner: {
      js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return outfile;
}

/**
 * The source files in the chunk that loads first when `entry` is imported, bundled as the
 * production build does (code splitting): what a process pays for before any dynamic import runs.
 */
export async function eagerInputs(entry: string, external: string[] = []): Promise<string[]> {
  const result = await build({
    external: ['@napi-rs/keyring', ...external],
    entryPoints: { entry },
    outdir: '/nonexistent',
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    metafile: true,
    logLevel: 'error',
  });
  // dynamic imports are entry points of their own chunks: find the one for `entry`
  const output = Object.values(result.metafile.outputs).find((meta) => meta.entryPoint === entry);
  const eager = new Set<string>();
  const visit = (meta: typeof output): void => {
    for (const input of Object.keys(meta?.inputs ?? {})) eager.add(input);
    for (const imported of meta?.imports ?? []) {
      if (imported.kind === 'import-statement' && !eager.has(imported.path)) {
        eager.add(imported.path);
        visit(result.metafile.outputs[imported.path]);
      }
    }
  };
  visit(output);
  return [...eager];
}

export async function runProvider(
  script: string,
  provider: string,
  request: { registryHost: string; options?: Record<string, string | number | boolean> },
  env: Record<string, string>,
): Promise<ProviderRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [script, provider, JSON.stringify(request)],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 60_000 },
      (_err, stdout, stderr) => resolve({ exitCode: child.exitCode, stdout, stderr, ...lastJsonLine(stdout) }),
    );
  });
}

/** The child's result line; nothing when it crashed before printing one (the test sees stderr). */
function lastJsonLine(stdout: string): Partial<ProviderRun> {
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Partial<ProviderRun>;
  } catch {
    return {};
  }
}
