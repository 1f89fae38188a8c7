/**
 * @module
 * The one printer for every message a person reads: the CLI, the helper's stderr, the generator
 * images and the daemon's log all write through it. The rules (age's `cmd/age/tui.go`):
 * - one line each, on stderr, every line starting `berth: `;
 * - `berth: error: …` for what stopped the work, then `berth: hint: …` for the likely fix,
 *   `berth: warning: …` for what did not stop it, plain `berth: …` for progress;
 * - no capitalised first word and no final period (a library's sentence is trimmed to fit);
 * - a stack only with `BERTH_DEBUG=1`.
 * Never given a secret: callers pass messages, not credentials.
 */
import { BerthError, oneLine } from '../errors.js';
import type { Env } from '../paths.js';

export interface Output {
  write(text: string): unknown;
}

export interface Messages {
  /** Progress: `berth: …`. */
  info(line: string): void;
  warning(line: string): void;
  hint(line: string): void;
  /** `berth: error: …`, the error's hint, and with BERTH_DEBUG=1 its stack; returns its exit code. */
  error(err: unknown): number;
  /**
   * `berth: error: … (hint: …)` on one line: for the credential helper, whose stderr reaches the user on
   * every pull, so a failed `get` costs one line.
   */
  errorLine(err: unknown): void;
}

export function messages(stderr: Output, env: Env): Messages {
  const line = (text: string) => stderr.write(`berth: ${text}\n`);
  const hint = (text: string) => line(`hint: ${sentence(text)}`);
  return {
    info: (text) => line(sentence(text)),
    warning: (text) => line(`warning: ${sentence(text)}`),
    hint,
    error(err) {
      // An error without a message carries only an exit status (`berth exec` passing on its command's).
      if (err instanceof BerthError && err.message === '') return err.exitCode;
      line(`error: ${sentence(oneLine(err))}`);
      const errorHint = hintOf(err);
      if (errorHint) hint(errorHint);
      if (env.BERTH_DEBUG === '1' && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
      return err instanceof BerthError ? err.exitCode : 1;
    },
    errorLine(err) {
      const errorHint = hintOf(err);
      line(`error: ${sentence(oneLine(err))}${errorHint ? ` (hint: ${sentence(errorHint)})` : ''}`);
      if (env.BERTH_DEBUG === '1' && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
    },
  };
}

/** The hint a berth error carries, if any. */
export function hintOf(err: unknown): string | undefined {
  return err instanceof BerthError ? err.hint : undefined;
}

/**
 * A message in berth's form: one line, a capitalised first word lowered (`Invalid` → `invalid`, but
 * `AWS`, `GetAuthorizationToken` and `DOCKER_PASSWORD` stay), one final period dropped (not `...`).
 */
export function sentence(text: string): string {
  const one = text.replace(/\s*\n\s*/g, ' ').trim();
  const lowered = /^[A-Z][a-z]+(?![A-Za-z0-9_])/.test(one) ? one[0]!.toLowerCase() + one.slice(1) : one;
  return lowered.replace(/(?<!\.)\.$/, '');
}
