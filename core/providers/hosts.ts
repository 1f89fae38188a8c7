/**
 * @module
 * Which cloud a registry host belongs to, from its name alone. Pure string parsing with no SDK
 * import: the helper runs these on every `get`. Every pattern is anchored at both ends, so a host
 * that merely contains a cloud's name (`x.dkr.ecr.us-east-1.amazonaws.com.evil.example`,
 * `evilazurecr.io`) belongs to no cloud and never receives a cloud token.
 */
import { registryHost } from '../registry-host.js';

/** The providers whose registries berth recognises by host alone. */
export type CloudProviderName = 'ecr' | 'ecr-public' | 'google' | 'azure';

export interface EcrHost {
  /** The 12-digit AWS account that owns the registry. */
  accountId: string;
  region: string;
  /** `dkr.ecr-fips` / `dkr-ecr-fips`: the API must be called on its FIPS endpoint too. */
  fips: boolean;
  /** `dkr-ecr`: the IPv4+IPv6 endpoint. */
  dualStack: boolean;
  /** The partition's DNS suffix, e.g. `amazonaws.com`, `amazonaws.com.cn`, `c2s.ic.gov`. */
  partitionDomain: string;
}

export interface GoogleHost {
  /** `gcr` for Container Registry hosts (served by Artifact Registry now), else `artifact-registry`. */
  service: 'gcr' | 'artifact-registry';
  /** `us`, `eu`, `asia`, `marketplace` for gcr.io sub-hosts; the region for pkg.dev; undefined for gcr.io. */
  location: string | undefined;
  /** `docker.<region>.rep.pkg.dev`: a regional endpoint (traffic stays in the region). */
  regionalEndpoint: boolean;
}

export interface AcrHost {
  /** The login server's first label: the registry name, or `<name>-<hash>` with a domain name label. */
  registryName: string;
  /** The Azure cloud the suffix belongs to, named as the Azure CLI names it. */
  cloud: 'AzureCloud' | 'AzureChinaCloud' | 'AzureUSGovernment' | 'AzureGermanCloud';
  /** `azurecr.io`, `azurecr.cn`, `azurecr.us` or `azurecr.de`. */
  domainSuffix: string;
}

// Written as literals, not built from parts at load: a start then pays for a pattern only when it
// first runs one (building them cost the executable about 0.1 ms of every get).
//
// Groups: account, `dkr.ecr` or `dkr-ecr` (dual-stack), `-fips`, region, partition DNS suffix.
// Regions: us-east-1, cn-north-1, us-gov-west-1, us-iso-east-1, us-isob-east-1, eu-isoe-west-1,
// us-isof-south-1, eusc-de-east-1. Suffixes: commercial and GovCloud, European Sovereign Cloud,
// dual-stack, China, China dual-stack, ISO-B, ISO, ISO-E, ISO-F.
const ECR_PATTERN =
  /^([0-9]{12})\.(dkr\.ecr|dkr-ecr)(-fips)?\.([a-z]{2,4}(?:-[a-z]+)+-[0-9]+)\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

const ECR_PUBLIC_HOSTS = new Set(['public.ecr.aws', 'ecr-public.aws.com']);

const GCR_PATTERN = /^(?:(us|eu|asia|marketplace)\.)?gcr\.io$/;
// The location: a multi-region (us, europe, asia) or a region (us-central1, europe-west4, me-central2).
const ARTIFACT_REGISTRY_PATTERN = /^([a-z]+(?:-[a-z]+[0-9]+)?)-docker\.pkg\.dev$/;
const ARTIFACT_REGISTRY_REP_PATTERN = /^docker\.([a-z]+(?:-[a-z]+[0-9]+)?)\.rep\.pkg\.dev$/;

const ACR_CLOUDS = {
  io: 'AzureCloud',
  cn: 'AzureChinaCloud',
  us: 'AzureUSGovernment',
  de: 'AzureGermanCloud',
} as const;
// A DNS label: letters and digits, inner hyphens (a domain-name-label login server is `name-hash`).
const ACR_PATTERN = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.azurecr\.(io|cn|us|de)$/;

/**
 * The bare host name of a server URL, for matching against cloud names: scheme, path and
 * credentials removed, lower-cased. An explicit `:443` names the same endpoint and is dropped; any
 * other port is not a cloud registry, so the result is undefined.
 */
function cloudHostName(serverURL: string): string | undefined {
  const host = registryHost(serverURL);
  if (host === '') return undefined;
  const port = /:([0-9]*)$/.exec(host);
  if (!port) return host;
  return port[1] === '443' ? host.slice(0, port.index) : undefined;
}

export function parseEcrHost(serverURL: string): EcrHost | undefined {
  const host = cloudHostName(serverURL);
  const match = host === undefined ? null : ECR_PATTERN.exec(host);
  if (!match) return undefined;
  // Groups 1, 2, 4 and 5 always take part in a match; group 3 (`-fips`) is optional.
  const [, accountId, label, fips, region, partitionDomain] = match as unknown as [
    string,
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  return { accountId, region, fips: fips !== undefined, dualStack: label === 'dkr-ecr', partitionDomain };
}

export function isEcrPublicHost(serverURL: string): boolean {
  const host = cloudHostName(serverURL);
  return host !== undefined && ECR_PUBLIC_HOSTS.has(host);
}

export function parseGoogleHost(serverURL: string): GoogleHost | undefined {
  const host = cloudHostName(serverURL);
  if (host === undefined) return undefined;
  const gcr = GCR_PATTERN.exec(host);
  if (gcr) return { service: 'gcr', location: gcr[1], regionalEndpoint: false };
  const artifact = ARTIFACT_REGISTRY_PATTERN.exec(host);
  if (artifact) return { service: 'artifact-registry', location: artifact[1], regionalEndpoint: false };
  const rep = ARTIFACT_REGISTRY_REP_PATTERN.exec(host);
  if (rep) return { service: 'artifact-registry', location: rep[1], regionalEndpoint: true };
  return undefined;
}

export function parseAcrHost(serverURL: string): AcrHost | undefined {
  const host = cloudHostName(serverURL);
  const match = host === undefined ? null : ACR_PATTERN.exec(host);
  if (!match) return undefined;
  const tld = match[2] as keyof typeof ACR_CLOUDS;
  return { registryName: match[1] as string, cloud: ACR_CLOUDS[tld], domainSuffix: `azurecr.${tld}` };
}

/**
 * The registry option that lets a Google or Azure registry have a host the cloud's parser does not
 * accept (a proxy in front of the real registry). It sends this cloud's token to that host.
 */
export const ALLOW_ANY_HOST = 'allowAnyHost';

const CLOUD_HOSTS: Record<CloudProviderName, { accepts: (host: string) => boolean; what: string; optIn: boolean }> = {
  ecr: { accepts: (host) => parseEcrHost(host) !== undefined, what: 'an ECR registry', optIn: false },
  'ecr-public': { accepts: isEcrPublicHost, what: 'ECR Public', optIn: false },
  google: {
    accepts: (host) => parseGoogleHost(host) !== undefined,
    what: 'a Google registry (gcr.io, {us,eu,asia,marketplace}.gcr.io, <location>-docker.pkg.dev, docker.<location>.rep.pkg.dev)',
    optIn: true,
  },
  azure: {
    accepts: (host) => parseAcrHost(host) !== undefined,
    what: 'an Azure container registry (<name>.azurecr.io, .cn, .us, .de)',
    optIn: true,
  },
};

export function isCloudProvider(provider: string): provider is CloudProviderName {
  return Object.hasOwn(CLOUD_HOSTS, provider);
}

/**
 * Why `provider`'s token must not go to `registryHost`, or undefined when it may: the host is one
 * the cloud's anchored parser accepts, or (Google, Azure) the registry sets `allowAnyHost=true`.
 */
export function foreignHostReason(
  provider: CloudProviderName,
  registryHost: string,
  options: Readonly<Record<string, unknown>> = {},
): { message: string; hint?: string } | undefined {
  const cloud = CLOUD_HOSTS[provider];
  if (cloud.accepts(registryHost)) return undefined;
  const optedIn = options[ALLOW_ANY_HOST] === true || options[ALLOW_ANY_HOST] === 'true';
  if (cloud.optIn && optedIn) return undefined;
  const message = `${provider}: ${registryHost} is not ${cloud.what}`;
  if (!cloud.optIn) return { message };
  return {
    message,
    hint: `for a proxy in front of the real registry, set the registry option ${ALLOW_ANY_HOST}=true (it sends this cloud's token to that host)`,
  };
}
