/** The one printer: `berth: error|hint|warning: …`, one line each, lower case, no final period, stack only on request. */
import { describe, expect, it } from 'vitest';
import { BerthError, UsageError } from '../../../core/errors.js';
import { messages, sentence } from '../../../core/io/messages.js';

function printer(env: Record<string, string> = {}) {
  let text = '';
  const say = messages({ write: (chunk: string) => (text += chunk) }, env);
  return { say, text: () => text };
}

describe('messages', () => {
  it('prints an error, then its hint, and returns its exit code', () => {
    const { say, text } = printer();
    const code = say.error(new UsageError('BERTH_STORE=vault is not a store', { hint: 'use one of: file, keychain, pass', exitCode: 2 }));
    expect(code).toBe(2);
    expect(text()).toBe('berth: error: BERTH_STORE=vault is not a store\nberth: hint: use one of: file, keychain, pass\n');
  });

  it('puts a library error in berth form: one line, first word lowered, final period dropped', () => {
    const { say, text } = printer();
    expect(say.error(new Error('Invalid JWT Signature.\n  Check the key.'))).toBe(1);
    expect(text()).toBe('berth: error: invalid JWT Signature. Check the key\n');
  });

  it('prints warnings and progress with the same prefix', () => {
    const { say, text } = printer();
    say.warning('the credential cache is unreadable');
    say.info('hub: asking the static provider for docker.io');
    expect(text()).toBe('berth: warning: the credential cache is unreadable\nberth: hub: asking the static provider for docker.io\n');
  });

  it('adds the stack only with BERTH_DEBUG=1', () => {
    const quiet = printer();
    quiet.say.error(new Error('boom'));
    expect(quiet.text()).toBe('berth: error: boom\n');
    const debug = printer({ BERTH_DEBUG: '1' });
    debug.say.error(new Error('boom'));
    expect(debug.text()).toMatch(/^berth: error: boom\nError: boom\n\s+at /);
  });

  it('prints nothing for an error that only carries an exit status', () => {
    const { say, text } = printer();
    expect(say.error(new BerthError('', { exitCode: 7 }))).toBe(7);
    expect(text()).toBe('');
  });
});

describe('sentence', () => {
  it.each([
    ['Invalid key file.', 'invalid key file'],
    ['AWS refused the key.', 'AWS refused the key'],
    ['GetAuthorizationToken answered nothing', 'GetAuthorizationToken answered nothing'],
    ['DOCKER_PASSWORD is not set', 'DOCKER_PASSWORD is not set'],
    ['waiting...', 'waiting...'],
    ['Error', 'error'],
  ])('%j → %j', (input, expected) => {
    expect(sentence(input)).toBe(expected);
  });
});
