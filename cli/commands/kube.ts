/**
 * @module
 * Kubernetes: `berth kubelet-credential-provider` (the kubelet's exec plugin: one request on stdin,
 * one response on stdout) and `berth kube sync` (pull Secrets kept fresh in every matching
 * namespace through the API server). The Kubernetes client is loaded only by `kube sync`.
 */
import type { Command } from 'commander';
import { BerthError, UsageError } from '../../core/errors.js';
import { say, type CliContext } from '../run.js';

interface SyncFlags {
  namespace: string[];
  allNamespaces?: boolean;
  namespaceSelector?: string;
  excludeNamespace: string[];
  secretName: string;
  registry: string[];
  serviceAccount: string[];
  prune?: boolean;
  once?: boolean;
  resync: string;
  listen: string;
  kubeconfig?: string;
  context?: string;
  concurrency: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerKubeCommands(program: Command, ctx: CliContext): void {
  program
    .command('kubelet-credential-provider')
    .description("the kubelet's image credential provider plugin (CredentialProviderRequest on stdin)")
    .addHelpText(
      'after',
      [
        '',
        'Example:',
        `  echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"ghcr.io/org/app:1"}' | berth kubelet-credential-provider`,
        '',
        'Set up through the kubelet: docs/kubernetes.md',
        '',
      ].join('\n'),
    )
    .action(() => kubeletCredentialProvider(ctx));

  const kube = program.command('kube').description('Kubernetes: pull Secrets kept fresh in namespaces');
  kube
    .command('sync')
    .description('write a kubernetes.io/dockerconfigjson Secret into matching namespaces and keep it fresh')
    .option('-n, --namespace <ns>', 'a namespace to serve (repeatable)', collect, [])
    .option('-A, --all-namespaces', 'serve every namespace')
    .option('-l, --namespace-selector <selector>', 'serve namespaces with these labels (KEY=VALUE[,…])')
    .option('--exclude-namespace <ns>', 'never serve this namespace (repeatable)', collect, [])
    .option('--secret-name <name>', "the Secret's name", 'berth-pull')
    .option('-r, --registry <name>', 'a configured registry or cloud host (repeatable; default: all configured)', collect, [])
    .option('--service-account <name>', "add the Secret to this service account's imagePullSecrets (repeatable)", collect, [])
    .option('--prune', "delete berth's Secret from namespaces that stop matching (and its name from the service accounts)")
    .option('--once', 'one pass, then exit (non-zero if any namespace failed): for a CronJob')
    .option('--resync <duration>', 'full pass every so often (e.g. 90s, 5m, 1h)', '5m')
    .option('--listen <host:port>', '/healthz and /metrics (long-running only)', '0.0.0.0:8080')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, then KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--concurrency <n>', 'namespaces reconciled at once', '16')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  berth kube sync --all-namespaces --exclude-namespace kube-system --service-account default --once',
        '  berth kube sync --namespace-selector team=payments --registry prod --prune',
        '',
      ].join('\n'),
    )
    .action((flags: SyncFlags) => kubeSync(ctx, flags));
}

/** Errors are one line on stderr and nothing on stdout: the kubelet reads stdout as the response. */
async function kubeletCredentialProvider(ctx: CliContext): Promise<void> {
  const { readAll } = await import('../../core/io/stdin.js');
  const { answerKubelet } = await import('../../core/kube/kubelet.js');
  try {
    const text = await readAll(ctx.stdin);
    const response = await answerKubelet(text, { env: ctx.env, warn: say(ctx).warning });
    ctx.stdout.write(`${JSON.stringify(response)}\n`);
  } catch (err) {
    throw new BerthError('', { exitCode: say(ctx).error(err) });
  }
}

/** `90s`, `5m`, `1h30m`, `2h`: Go-style durations, at least a second. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const ms = parts.reduce((sum, [, value, unit]) => sum + Number(value) * (units[unit as string] ?? 0), 0);
  if (parts.map((part) => part[0]).join('') !== text || ms < 1_000) {
    throw new UsageError(`"${text}" is not a duration of at least a second`, { hint: 'write it like 90s, 5m or 1h30m' });
  }
  return ms;
}

function listenAddress(text: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65_535) throw new UsageError(`--listen "${text}" is not HOST:PORT`, { hint: 'e.g. 0.0.0.0:8080' });
  return { host: (match[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

async function kubeSync(ctx: CliContext, flags: SyncFlags): Promise<void> {
  const { checkSelection, describePass, syncPass } = await import('../../core/kube/sync.js');
  const { resolvePullSecretContent } = await import('../../core/kube/content.js');
  const { openKubeApi } = await import('../../core/kube/api.js');
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency "${flags.concurrency}" is not a positive number`);
  const options = {
    namespaces: flags.namespace,
    allNamespaces: flags.allNamespaces === true,
    ...(flags.namespaceSelector !== undefined ? { namespaceSelector: flags.namespaceSelector } : {}),
    excludeNamespaces: flags.excludeNamespace,
    secretName: flags.secretName,
    serviceAccounts: flags.serviceAccount,
    prune: flags.prune === true,
    concurrency,
  };
  checkSelection(options);
  const resyncMs = parseDuration(flags.resync);
  const listen = flags.once ? undefined : listenAddress(flags.listen);
  const { info: log, warning: warn } = say(ctx);
  // --once may share the daemon's or a mounted cache's tokens; the long-running sync refreshes ahead itself
  const resolve = () =>
    resolvePullSecretContent({ env: ctx.env, registries: flags.registry, secretName: flags.secretName, warn, cached: flags.once === true });
  const api = await openKubeApi(ctx.env, {
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
  });
  if (flags.once) {
    const report = await syncPass(api, await resolve(), options);
    log(describePass(report));
    for (const failure of report.failures) say(ctx).error(`${failure.namespace}: ${failure.message}`);
    if (report.failures.length > 0) throw new BerthError('', { exitCode: 1 });
    return;
  }
  const { SyncController } = await import('../../core/kube/controller.js');
  const { serveHealth } = await import('../../core/kube/serve.js');
  const controller = new SyncController({ api, options, resolve, log, resyncMs });
  await controller.start();
  const { server, port } = await serveHealth(controller, listen!.host, listen!.port);
  log(`serving /healthz and /metrics on ${listen!.host}:${port}`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      done();
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
  log('stopping');
  await controller.stop();
  await new Promise<void>((done) => server.close(() => done()));
  server.closeAllConnections?.();
  process.exitCode = 0;
  // The watch's HTTP connection may linger; nothing else is left to do.
  setTimeout(() => process.exit(0), 500).unref();
}
