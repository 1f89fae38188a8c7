#!/usr/bin/env node
/**
 * @module
 * `docker-credential-berth`: the entry docker, docker-py, buildx and containers/image start once per
 * pull. Only this file touches argv and the exit code; the work is in `handleCommand`. Its import
 * graph stays small: stores and providers are loaded only when an action needs them.
 */
import { writeSync } from 'node:fs';
import { openActiveStore } from '../core/store/index.js';
import type { Env } from '../core/paths.js';
import type { Credentials } from '../core/store/store.js';
import { readAll, readDescriptor } from '../core/io/stdin.js';
import { VERSION } from '../core/version.js';
import { handleCommand, isAction, usage } from './protocol.js';

async function serve(): Promise<number> {
  const args = process.argv.slice(2);
  const action = args[0];
  if (args.length !== 1 || action === undefined || !isAction(action)) {
    process.stdout.write(`${usage('docker-credential-berth')}\n`);
    return 1;
  }
  const env = process.env;
  return handleCommand(
    action,
    { openStore: () => openActiveStore(env), resolve: (serverURL) => resolve(serverURL, env), version: VERSION },
    {
      // process.stdin is created on first use: for a pipe that loads node:net and node:stream
      get stdin() {
        return process.stdin;
      },
      readStdin: () => readDescriptor(0) ?? readAll(process.stdin),
      stdout: descriptorWriter(1),
      stderr: descriptorWriter(2),
    },
  );
}

/**
 * Writes to fd 1 or 2 as it is: what process.stdout does for pipes and files on Linux, without
 * loading node:stream for one line. A reader that went away (EPIPE) is not an error of ours; a
 * non-blocking descriptor that is full (EAGAIN) gets the rest through the stream.
 */
function descriptorWriter(fd: 1 | 2): { write(text: string): boolean } {
  return {
    write(text) {
      const bytes = Buffer.from(text);
      let offset = 0;
      try {
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(offset));
        else if (code !== 'EPIPE') throw err;
      }
      return true;
    },
  };
}

/**
 * A registry the store does not hold: the daemon when it answers, else resolved here (providers and
 * the on-disk cache). Loaded only on a store miss: a plain `get` never imports config, cache or clouds.
 */
async function resolve(serverURL: string, env: Env): Promise<Credentials | undefined> {
  const [{ daemonFirst }, { resolveForHelper }] = await Promise.all([
    import('../core/resolve/daemon-first.js'),
    import('../core/resolve/context.js'),
  ]);
  return daemonFirst(env, {
    direct: (url) => resolveForHelper(url, env, descriptorWriter(2)),
    warn: (line) => descriptorWriter(2).write(`berth: ${line}\n`),
  })(serverURL);
}

// No top-level await: the entry is also bundled as CommonJS (see build.mjs).
void serve().then((code) => {
  process.exitCode = code;
  // A native keychain call abandoned at its deadline keeps a thread busy, and such a thread blocks
  // even process.exit(). The answer is already written; make sure the process does not outlive it.
  // The timer is unref'd, so a normal run exits at once without waiting for it.
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2_000).unref();
});
