// `npm start`: the credential helper's main job on the default encrypted file store, in a throwaway
// HOME so nothing of the user's is touched: log in, let a client `get` and `list`, log out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const home = mkdtempSync(join(tmpdir(), 'berth-quickstart-'));
const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') };
delete env.BERTH_STORE;
delete env.BERTH_CONFIG;
delete env.DOCKER_CONFIG;
delete env.REGISTRY_AUTH_FILE;

// [program, arguments, stdin, expected exit code]
const steps = [
  ['berth', ['login', 'registry.example.com', '-u', 'ci-bot', '--password-stdin', '--no-verify'], 'demo-token-not-a-real-secret\n', 0],
  ['docker-credential-berth', ['get'], 'registry.example.com', 0],
  ['docker-credential-berth', ['list'], '', 0],
  ['berth', ['configure', '--dry-run'], '', 0],
  ['berth', ['logout', 'registry.example.com'], '', 0],
  ['docker-credential-berth', ['get'], 'registry.example.com', 1],
];

let failed = false;
try {
  for (const [program, args, input, expected] of steps) {
    const shown = input && program === 'docker-credential-berth' ? `echo -n ${input} | ` : input ? 'echo *** | ' : '';
    process.stdout.write(`\n$ ${shown}${program} ${args.join(' ')}\n`);
    const result = spawnSync(process.execPath, [join('dist', `${program}.cjs`), ...args], { env, input, encoding: 'utf8' });
    process.stdout.write(result.stdout);
    process.stdout.write(result.stderr);
    if (result.status !== expected) failed = true;
    process.stdout.write(`(exit ${result.status})\n`);
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
process.stdout.write(failed ? '\nquick start: something failed (see above)\n' : '\nquick start: ok\n');
process.exitCode = failed ? 1 : 0;
