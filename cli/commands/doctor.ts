/**
 * @module
 * `berth doctor`: prints each check (store, helper, client config files) on one line and exits
 * non-zero when something is broken.
 */
import type { Command } from 'commander';
import { BerthError } from '../../core/errors.js';
import type { CliContext } from '../run.js';

const LABELS = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check the active store, the helper on PATH, the client config files, plaintext logins and other helpers')
    .addHelpText(
      'after',
      '\nExits 1 when something is broken; warnings alone exit 0.\n\nExamples:\n  berth doctor\n  BERTH_STORE=pass berth doctor\n',
    )
    .action(async () => {
      const { runChecks } = await import('../../core/clients/doctor.js');
      const checks = await runChecks(ctx.env);
      const width = Math.max(...checks.map((check) => check.subject.length));
      for (const check of checks) {
        ctx.stdout.write(`${LABELS[check.level]}  ${check.subject.padEnd(width)}  ${check.message}\n`);
        if (check.hint && check.level !== 'ok') ctx.stdout.write(`      ${''.padEnd(width)}  hint: ${check.hint}\n`);
      }
      const failures = checks.filter((check) => check.level === 'fail').length;
      if (failures > 0) throw new BerthError(`${failures} ${failures === 1 ? 'check' : 'checks'} failed`);
    });
}
