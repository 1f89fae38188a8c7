// `npm run bench`: every benchmark in turn (each prints its figures beside its peer, as ratios).
// `npm run bench -- helper crypto` runs only those.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['helper', 'generate', 'daemon', 'crypto', 'kube'];
const chosen = process.argv.slice(2).filter((name) => !name.startsWith('-'));
let failed = 0;
for (const name of chosen.length ? chosen : ALL) {
  const script = fileURLToPath(new URL(`./${name}.mjs`, import.meta.url));
  if (!existsSync(script)) {
    console.error(`bench: no benchmark named ${name} (have: ${ALL.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const { status } = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
