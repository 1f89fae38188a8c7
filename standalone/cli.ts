/**
 * @module
 * The standalone executable's entry for everything but the credential helper: the `berth` CLI
 * (and through it the daemon) and the generator images' entry, a chunk that standalone/main.ts
 * loads only for them.
 */
export async function run(entry: 'cli' | 'generate'): Promise<void> {
  if (entry === 'generate') {
    await import('../generators/main.js'); // runs itself when imported, as its Node bundle does
    return;
  }
  const [{ main }, { processContext }] = await Promise.all([import('../cli/program.js'), import('../cli/run.js')]);
  process.exitCode = await main(process.argv.slice(2), processContext({ loadDaemon: () => import('../daemon/main.js') }));
}
