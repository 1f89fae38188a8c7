// `npm run bench`: the hot-path table (bench/table.mjs: both builds against the Go helpers) and the
// encrypted-file throughput (bench/crypto.mjs). `npm run bench -- NAME…` runs those named, among
// them the older, narrower ones (helper, generate, daemon, kube).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['table', 'helper', 'generate', 'daemon', 'crypto', 'kube'];
const DEFAULT = ['table', 'crypto'];
const chosen = process.argv.slice(2).filter((name) => !name.startsWith('-'));
let failed = 0;
for (const name of chosen.length ? chosen : DEFAULT) {
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
