/**
 * @module
 * Which build of berth the child-process tests run: the Node build (`dist/*.js` on this Node) or the
 * standalone executable (`dist/bin/berth`, reached as `docker-credential-berth` through its symlink),
 * chosen by `BERTH_BUILD=node|binary` (default node). Every test that starts the helper, the CLI or
 * the generator as a process gets its command line here, so one variable moves them all.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type BuildName = 'node' | 'binary';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const DIST = join(ROOT, 'dist');

function selectBuild(value: string | undefined): BuildName {
  if (value === undefined || value === '' || value === 'node') return 'node';
  if (value === 'binary') return 'binary';
  throw new Error(`BERTH_BUILD=${value}: expected node or binary`);
}

export const BUILD: BuildName = selectBuild(process.env.BERTH_BUILD);

/** A program and the arguments that come before the caller's. */
export interface Command {
  file: string;
  args: string[];
}

export type Program = 'helper' | 'berth' | 'generate';

const NODE_SCRIPTS: Record<Program, string> = {
  helper: 'docker-credential-berth.cjs', // the package's bin entry
  berth: 'berth.cjs', // the package's bin entry: the plain decrypt and encrypt run from berth-fast.cjs, the rest from berth.js
  generate: 'generator/berth-generate.js',
};

/** The standalone executable's own file, and the symlink a user makes for the helper. */
export const BINARY = join(DIST, 'bin/berth');
export const BINARY_HELPER = join(DIST, 'bin/docker-credential-berth');

/** How the selected build runs `program`; throws when it has not been built. */
export function berthCommand(program: Program, build: BuildName = BUILD): Command {
  const command =
    build === 'node'
      ? { file: process.execPath, args: [join(DIST, NODE_SCRIPTS[program])] }
      : program === 'helper'
        ? { file: BINARY_HELPER, args: [] }
        : program === 'generate'
          ? { file: BINARY, args: ['--berth-entry=generate'] }
          : { file: BINARY, args: [] };
  const built = command.args[0]?.endsWith('.js') ? command.args[0] : command.file;
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
  return command;
}

/** [file, ...args] for spawn-style callers. */
export function argvFor(program: Program, args: readonly string[] = []): [string, string[]] {
  const command = berthCommand(program);
  return [command.file, [...command.args, ...args]];
}

/** `exec '…' '…' "$@"`: the last line of a shell shim that runs `program` of the selected build. */
export function shimExec(program: Program): string {
  const { file, args } = berthCommand(program);
  return `exec ${[file, ...args].map((word) => `'${word}'`).join(' ')} "$@"`;
}

/** The file a user starts directly: the bundle with its `#!` line, or the executable (the helper's symlink). */
export function executable(program: Program): string {
  const { file, args } = berthCommand(program);
  return BUILD === 'node' ? args[0]! : file;
}

export type ImageName = 'ecr' | 'google' | 'azure' | 'static' | 'all' | 'daemon';

/**
 * The Dockerfile of an image for the selected build: Node's (`Dockerfiles/NAME.Dockerfile`) or the
 * empty image with the standalone executable (`NAME-binary.Dockerfile`). Both take `BASE_IMAGE`: the
 * image with node, or the one the C library and CA certificates are copied from.
 */
export function imageDockerfile(name: ImageName, build: BuildName = BUILD): string {
  const dockerfile = build === 'node' ? `Dockerfiles/${name}.Dockerfile` : `Dockerfiles/${name}-binary.Dockerfile`;
  berthCommand(name === 'daemon' ? 'berth' : 'generate', build); // throws when the build is missing
  return dockerfile;
}
