/**
 * @module
 * The standalone executable's entry for everything but the credential helper: the `berth` CLI
 * (and through it the daemon) and the generator images' entry, a chunk that standalone/main.ts
 * loads only for them.
 */
/**
 * The executable starts with the JIT tiering up late (build-standalone.mjs): a helper or a `decrypt`
 * is over before compiled code would pay off. The daemon and the Kubernetes controller run for
 * days, so they get the normal policy back.
 */
const LONG_RUNNING = new Set(['daemon', 'kube']);

function restoreJitPolicy(): void {
  (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun?.unsafe?.setJITPolicy?.(1);
}

export async function run(entry: 'cli' | 'generate'): Promise<void> {
  if (entry === 'generate' || LONG_RUNNING.has(process.argv[2] ?? '')) restoreJitPolicy();
  if (entry === 'generate') {
    await import('../generators/main.js'); // runs itself when imported, as its Node bundle does
    return;
  }
  const argv = process.argv.slice(2);
  const [{ runPlain }, { processContext }] = await Promise.all([import('../cli/fast.js'), import('../cli/run.js')]);
  const ctx = processContext({ loadDaemon: () => import('../daemon/main.js') });
  // The command table is loaded only for what cli/fast.ts does not run on its own.
  process.exitCode = (await runPlain(argv, ctx)) ?? (await (await import('../cli/program.js')).main(argv, ctx));
}
