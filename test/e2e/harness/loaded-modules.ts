/**
 * @module
 * Which modules a built entry loads on one run: every file (ES modules through a loader hook,
 * CommonJS from the require cache) and every Node built-in (`process.moduleLoadList`), written by a
 * preload when the process exits. The hot-path tests pin these lists; `bench/run.mjs` prints them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (!url.startsWith('node:')) appendFileSync(process.env.BERTH_TRACE_OUT, 'file ' + url + '\\n');
  return next(url, context);
}
`;
const PRELOAD = `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register(new URL('./hooks.mjs', import.meta.url));
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const lines = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'builtin ' + m.slice(13));
  for (const file of Object.keys(cache)) lines.push('file ' + file);
  appendFileSync(process.env.BERTH_TRACE_OUT, lines.join('\\n') + '\\n');
});
`;

export interface LoadedModules {
  /** Files other than Node's own, as paths (file: URLs and require-cache keys alike). */
  files: string[];
  /** Public built-ins loaded beyond those a bare ES module loads under the same preload. */
  builtins: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Tracer {
  run(command: string[], env: Record<string, string | undefined>, input?: string): Promise<LoadedModules>;
  remove(): Promise<void>;
}

export async function moduleTracer(): Promise<Tracer> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-trace-'));
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  await writeFile(join(dir, 'preload.mjs'), PRELOAD);
  await writeFile(join(dir, 'empty.mjs'), '');
  let runs = 0;
  const raw = async (command: string[], env: Record<string, string | undefined>, input = '') => {
    const out = join(dir, `trace-${runs++}.txt`);
    const [program, ...args] = command;
    const child = spawn(process.execPath, ['--import', join(dir, 'preload.mjs'), program!, ...args], {
      env: { ...env, BERTH_TRACE_OUT: out },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const lines = (await readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const pick = (kind: string) => [...new Set(lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1)))];
    const files = [...new Set(pick('file').map((file) => decodeURIComponent(file.replace(/^file:\/\//, ''))))];
    return { files, builtins: pick('builtin'), code, stdout, stderr };
  };
  const floor = new Set((await raw([join(dir, 'empty.mjs')], { PATH: process.env.PATH })).builtins);
  return {
    async run(command, env, input) {
      const result = await raw(command, env, input);
      const builtins = result.builtins.filter((name) => !floor.has(name) && !name.startsWith('internal/')).sort();
      return { ...result, builtins, files: result.files.filter((file) => !file.startsWith(dir)) };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
