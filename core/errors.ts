/**
 * @module
 * The few error classes berth raises. Each carries a one-line message, an exit code and an optional
 * hint that diagnoses the likely mistake; the CLIs print them as `berth: error: …` / `berth: hint: …`.
 */

export class BerthError extends Error {
  override name = 'BerthError';
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad input from the user: arguments, stdin, a config file. */
export class UsageError extends BerthError {
  override name = 'UsageError';
}

/** The command line itself is wrong (an unknown option or value): exit code 2, as for every usage error. */
export class ArgumentError extends UsageError {
  override name = 'ArgumentError';

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** A credential store could not do its job (locked keychain, pass not initialised, unreadable file). */
export class StoreError extends BerthError {
  override name = 'StoreError';
}

/** A provider could not produce a credential (cloud API refused, unreachable, misconfigured). */
export class ProviderError extends BerthError {
  override name = 'ProviderError';
}

/** An encrypted file could not be read: wrong key, tampered, truncated, not a berth file. */
export class FormatError extends BerthError {
  override name = 'FormatError';
}

/** Several sources were tried and none worked; every reason is kept. */
export class AllFailedError extends BerthError {
  override name = 'AllFailedError';
  readonly reasons: readonly Error[];

  constructor(what: string, reasons: readonly Error[], options: { hint?: string } = {}) {
    super(`${what}: ${reasons.map((r) => r.message).join('; ')}`, options);
    this.reasons = reasons;
  }
}

/** The credential-helper protocol's not-found text: clients compare it byte for byte. */
export const NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

export class NotFoundError extends BerthError {
  override name = 'NotFoundError';
  /** `cause` says why (a provider failed); the helper prints it on stderr, never on stdout. */
  constructor(options: { cause?: unknown } = {}) {
    super(NOT_FOUND_MESSAGE, options);
  }
}

/** A failed system call in words (`no space left on device`), or its message when the code is not a common one. */
export function systemErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    EEXIST: 'a parent is not a directory',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  };
  return (code && known[code]) || (err as Error).message;
}

/** One line for a user, whatever was thrown. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}
