/**
 * @module
 * A request's AWS settings, pure: profile, role and region from the registry's options and the
 * environment (the Codeship generators' `AWS_STS_ROLE`/`AWS_STS_ACCOUNT` included), the partition of a
 * region, and the cache identity of a request. No SDK is imported here.
 */
import { ProviderError } from '../errors.js';
import type { OptionSpec, ProviderRequest } from './provider.js';

export type AwsService = 'ecr' | 'ecr-public';

export interface AwsSettings {
  /** The region the API is called in (and the signature scoped to). */
  region: string;
  profile?: string;
  roleArn?: string;
  externalId?: string;
  roleSessionName?: string;
}

/** What the registry's host says about where its API lives. */
export interface AwsTarget {
  region: string;
  /** The registry's account; a bare `AWS_STS_ROLE` name is taken to be in it. */
  accountId?: string;
}

const SHARED_OPTIONS: OptionSpec[] = [
  { name: 'profile', type: 'string', description: 'AWS profile to take credentials from' },
  { name: 'roleArn', type: 'string', description: 'IAM role to assume for the token' },
  { name: 'externalId', type: 'string', description: 'ExternalId the role requires' },
  { name: 'roleSessionName', type: 'string', description: 'session name when assuming the role (default berth)' },
];

/** Each service's registry options: the registration table declares them (./index.ts), awsSettings reads them. */
export const AWS_OPTIONS: Record<AwsService, readonly OptionSpec[]> = {
  ecr: [...SHARED_OPTIONS, { name: 'region', type: 'string', description: "API region (default: the host's)" }],
  'ecr-public': SHARED_OPTIONS,
};

/** The AWS partition of a region, for building role ARNs. */
export function awsPartition(region: string): string {
  const prefixes: [string, string][] = [
    ['cn-', 'aws-cn'],
    ['us-gov-', 'aws-us-gov'],
    ['us-isob-', 'aws-iso-b'],
    ['us-isof-', 'aws-iso-f'],
    ['us-iso-', 'aws-iso'],
    ['eu-isoe-', 'aws-iso-e'],
    ['eusc-', 'aws-eusc'],
  ];
  return prefixes.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/**
 * The role to assume from the variables the Codeship generators read: `AWS_STS_ROLE` is an ARN, or
 * a role name in `AWS_STS_ACCOUNT` (else in the registry's own account).
 */
function codeshipRoleArn(request: ProviderRequest, target: AwsTarget): string | undefined {
  const role = request.env.AWS_STS_ROLE;
  if (!role) return undefined;
  if (role.startsWith('arn:')) return role;
  const account = request.env.AWS_STS_ACCOUNT || target.accountId;
  if (!account) {
    throw new ProviderError(`AWS_STS_ROLE names role "${role}" but no account`, {
      hint: 'set AWS_STS_ACCOUNT to the 12-digit account of the role, or AWS_STS_ROLE to the full role ARN',
    });
  }
  return `arn:${awsPartition(target.region)}:iam::${account}:role/${role}`;
}

/** Reads and checks the registry's options; options win over the environment. */
export function awsSettings(service: AwsService, request: ProviderRequest, target: AwsTarget): AwsSettings {
  const options: Record<string, string> = Object.create(null);
  const names = AWS_OPTIONS[service].map((option) => option.name);
  for (const [name, value] of Object.entries(request.options)) {
    if (!names.includes(name) || typeof value !== 'string' || value === '') {
      throw new ProviderError(`bad option "${name}"`, { hint: `${service} takes the string options ${names.join(', ')}` });
    }
    options[name] = value;
  }
  return {
    region: options.region ?? target.region,
    profile: options.profile ?? (request.env.AWS_PROFILE || undefined),
    roleArn: options.roleArn ?? codeshipRoleArn(request, target),
    externalId: options.externalId,
    roleSessionName: options.roleSessionName,
  };
}

/**
 * The cache identity of a request: the registry and who asks for it (profile, role, external id,
 * region) — never the access key id, so a rotated key still finds its cached token and no key id
 * is written to disk.
 */
export function awsCacheIdentity(service: AwsService, registryHost: string, settings: AwsSettings): string {
  const parts = [`${service}:${registryHost}`, `region=${settings.region}`];
  if (settings.profile) parts.push(`profile=${settings.profile}`);
  if (settings.roleArn) parts.push(`role=${settings.roleArn}`);
  if (settings.externalId) parts.push(`externalId=${settings.externalId}`);
  return parts.join(';');
}
