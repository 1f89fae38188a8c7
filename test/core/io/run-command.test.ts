/** runCommand: input on stdin, exit codes, a missing command, and a deadline that ends grandchildren too. */
import { describe, expect, it } from 'vitest';
import { CommandNotStartedError, CommandTimeoutError, runCommand } from '../../../core/io/run-command.js';

const env = { PATH: process.env.PATH };

describe('runCommand', () => {
  it('passes input on stdin and returns stdout, stderr and the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'cat; echo oops >&2; exit 3'], { env, input: 'secret-on-stdin', timeoutMs: 30_000 });
    expect(result).toEqual({ code: 3, stdout: 'secret-on-stdin', stderr: 'oops\n' });
  });

  it('a command that is not installed is CommandNotStartedError with ENOENT', async () => {
    const err = await runCommand('berth-no-such-command', [], { env, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandNotStartedError);
    expect(err).toMatchObject({ code: 'ENOENT' });
  });

  it('at the deadline, ends the command and what it started (a grandchild holding the pipes)', async () => {
    const started = Date.now();
    // The shell starts a sleep that inherits stdout: killing only the shell would leave the pipe open.
    const err = await runCommand('sh', ['-c', 'sleep 60; echo late'], { env, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTimeoutError);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('does not wait for a command that ignores its input', async () => {
    const result = await runCommand('true', [], { env, input: 'x'.repeat(1 << 20), timeoutMs: 30_000 });
    expect(result.code).toBe(0);
  });
});
