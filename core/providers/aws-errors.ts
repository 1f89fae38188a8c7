/**
 * @module
 * One line for every way a token request to AWS can fail: the step (finding
 * credentials, assuming the role, asking for the token), AWS's own error code and message, and a
 * hint for the likely cause (which credentials were used, the role's trust policy, the proxy).
 */
import { oneLine, ProviderError } from '../errors.js';
import type { AwsService, AwsSettings } from './aws-settings.js';
import { NoIdentityError } from './provider.js';

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/** Where a token request failed: finding credentials, assuming the role, or asking for the token. */
export type AwsStep = 'credentials' | 'role' | 'token';

function stepLabel(step: AwsStep, settings: AwsSettings): string {
  if (step === 'credentials') return 'no usable AWS credentials: ';
  if (step === 'role') return `assuming role ${settings.roleArn}: `;
  return '';
}

/**
 * One line naming the step and AWS's own error, with a hint for the likely cause. The registry is
 * named once, by whoever asked for it (core/resolve).
 */
export function awsError(service: AwsService, step: AwsStep, err: unknown, settings: AwsSettings): ProviderError {
  let shape = (err ?? {}) as AwsErrorShape;
  // Node's connection errors may come wrapped in an AggregateError with an empty message.
  if (!shape.message && Array.isArray(shape.errors) && shape.errors.length > 0) {
    shape = shape.errors[0] as AwsErrorShape;
  }
  const status = shape.$metadata?.httpStatusCode;
  // An answer without an AWS error in it (the SDK's `Unknown`) did not come from AWS.
  if (shape.name === 'Unknown' && status !== undefined) {
    const message = `${stepLabel(step, settings)}HTTP ${status} without an AWS error`;
    const hint = 'something other than AWS answered (a proxy or firewall?): check HTTPS_PROXY and NO_PROXY';
    return new ProviderError(message, { hint, cause: err });
  }
  const code = shape.name && shape.name !== 'Error' ? shape.name : shape.code;
  const detail = oneLine(shape.message ?? String(err)).replace(/\.\s*$/, '');
  const label = code && !detail.includes(code) ? `${code}: ` : '';
  const message = `${stepLabel(step, settings)}${label}${detail}`;
  // The chain found nothing at all (not a profile that is broken: that names itself and fails differently).
  const Kind = step === 'credentials' && code === 'CredentialsProviderError' && !settings.profile ? NoIdentityError : ProviderError;
  return new Kind(message, { hint: awsHint(service, code ?? '', step, settings), cause: err });
}

function credentialSource(settings: AwsSettings): string {
  return settings.profile
    ? `profile "${settings.profile}" (AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, default ~/.aws/credentials and ~/.aws/config)`
    : 'the default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity, ECS/EKS, instance metadata)';
}

function awsHint(service: AwsService, code: string, step: AwsStep, settings: AwsSettings): string {
  if (step === 'credentials') {
    return settings.profile
      ? `check that ${credentialSource(settings)} exists; for an SSO profile run \`aws sso login --profile ${settings.profile}\``
      : 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile (AWS_PROFILE or the registry\'s "profile" option); ' +
          'web identity, ECS/EKS and instance metadata credentials were not found either';
  }
  if (/^(UnrecognizedClient|InvalidClientTokenId|InvalidSignature|SignatureDoesNotMatch|IncompleteSignature)/.test(code)) {
    return `AWS refused the credentials from ${credentialSource(settings)}: check the access key and its secret`;
  }
  if (/^ExpiredToken/.test(code)) return `the session credentials from ${credentialSource(settings)} have expired: renew them`;
  if (/^AccessDenied/.test(code)) {
    return step === 'role'
      ? `the role's trust policy must let the caller assume it (and ExternalId must match, if the role requires one)`
      : `the identity needs permission for ${service}:GetAuthorizationToken${service === 'ecr-public' ? ' and sts:GetServiceBearerToken' : ''}`;
  }
  if (/^(Throttl|ServerException|InternalFailure|ServiceUnavailable)/.test(code)) return 'AWS is throttling or failing: try again later';
  if (/^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|TimeoutError)/.test(code)) {
    return 'AWS could not be reached: check the network, HTTPS_PROXY and NO_PROXY';
  }
  return `credentials came from ${credentialSource(settings)}`;
}
