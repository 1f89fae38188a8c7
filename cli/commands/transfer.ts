/**
 * @module
 * `berth import --from HELPER` and `berth export --to HELPER`: copy credentials between berth's
 * active store and any docker-credential-* helper on PATH, through that helper's own protocol.
 */
import type { Command } from 'commander';
import { BerthError } from '../../core/errors.js';
import type { TransferReport } from '../../core/clients/transfer.js';
import { warn, type CliContext } from '../run.js';

interface TransferFlags {
  dryRun?: boolean;
  force?: boolean;
}

const VERBS = { copied: 'copy', unchanged: 'same', kept: 'kept', failed: 'FAIL' } as const;

function print(report: TransferReport, flags: TransferFlags, ctx: CliContext, summary: string): void {
  for (const entry of report.entries) {
    const verb = entry.outcome === 'copied' && flags.dryRun ? 'would copy' : VERBS[entry.outcome];
    ctx.stdout.write(`  ${verb.padEnd(10)} ${entry.registryKey} (${entry.username})\n`);
    if (entry.reason) warn(ctx, `${entry.registryKey}: ${entry.reason}`);
  }
  ctx.stdout.write(`${summary}\n`);
  if (report.counts.failed > 0) throw new BerthError(`${report.counts.failed} of ${report.entries.length} entries failed`);
}

export function registerTransferCommands(program: Command, ctx: CliContext): void {
  program
    .command('import')
    .description("copy every credential of another helper (docker-credential-HELPER) into berth's store")
    .requiredOption('--from <helper>', 'the helper: pass, secretservice, osxkeychain, wincred, or a docker-credential-* path')
    .option('--dry-run', 'say what would be copied and write nothing')
    .option('--force', "replace berth's entry when the helper's differs")
    .addHelpText(
      'after',
      '\nThe helper is driven through its own list and get; nothing is removed from it.\n\nExamples:\n  berth import --from pass --dry-run\n  berth import --from secretservice\n',
    )
    .action(async (flags: TransferFlags & { from: string }) => {
      const { openExternalHelper } = await import('../../core/clients/external-helper.js');
      const { importFromHelper, describeCounts } = await import('../../core/clients/transfer.js');
      const { openActiveStore } = await import('../../core/store/index.js');
      const helper = openExternalHelper(ctx.env, flags.from);
      const store = await openActiveStore(ctx.env);
      const report = await importFromHelper(helper, store, flags);
      print(report, flags, ctx, `${helper.program} → berth (${store.name} store): ${describeCounts(report, flags.dryRun)}`);
    });

  program
    .command('export')
    .description("copy every credential in berth's store into another helper (docker-credential-HELPER)")
    .requiredOption('--to <helper>', 'the helper: pass, secretservice, osxkeychain, wincred, or a docker-credential-* path')
    .option('--dry-run', 'say what would be copied and write nothing')
    .option('--force', "replace the helper's entry when berth's differs")
    .addHelpText(
      'after',
      "\nThe helper is driven through its own list, get and store; berth's store is left as it is.\n\nExample:\n  berth export --to pass && berth unconfigure\n",
    )
    .action(async (flags: TransferFlags & { to: string }) => {
      const { openExternalHelper } = await import('../../core/clients/external-helper.js');
      const { exportToHelper, describeCounts } = await import('../../core/clients/transfer.js');
      const { openActiveStore } = await import('../../core/store/index.js');
      const helper = openExternalHelper(ctx.env, flags.to);
      const store = await openActiveStore(ctx.env);
      const report = await exportToHelper(store, helper, flags);
      print(report, flags, ctx, `berth (${store.name} store) → ${helper.program}: ${describeCounts(report, flags.dryRun)}`);
    });
}
