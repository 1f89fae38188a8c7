/**
 * @module
 * How the fake AWS decides who sent a request, as AWS does: the access key must be known (with its
 * session token, if temporary, and not expired), the SigV4 scope must name the called service and
 * a valid region, and the signature must verify. Failures carry the code and status each service
 * family answers with: the JSON services (ECR, ECR Public) one way, STS's query protocol another.
 */
import { parseAuthorization, SigV4Error, verifySignature, type SignedRequest } from './sigv4.js';

export interface FakeAwsKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** The principal the key belongs to, e.g. `arn:aws:iam::123456789012:user/ci`. */
  arn: string;
  sessionToken?: string;
  /** Temporary keys stop working at this time (epoch milliseconds). */
  expiresAt?: number;
}

/** An error answer: HTTP status and the error code AWS names. */
export class AwsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+)+-\d+$/;

/** The JSON services' refusal of a request (HTTP 400), or the signing key and region. */
function authenticateJson(request: SignedRequest, service: string, keys: Map<string, FakeAwsKey>) {
  let scope;
  try {
    scope = parseAuthorization(request);
  } catch (err) {
    throw new AwsHttpError(400, 'IncompleteSignatureException', (err as Error).message);
  }
  if (!scope) throw new AwsHttpError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const key = keys.get(scope.accessKeyId);
  const token = request.headers['x-amz-security-token'];
  const tokenSigned = token === undefined || scope.signedHeaders.includes('x-amz-security-token');
  if (!key || key.sessionToken !== token || !tokenSigned) {
    throw new AwsHttpError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (key.expiresAt !== undefined && key.expiresAt <= Date.now()) {
    throw new AwsHttpError(400, 'ExpiredTokenException', 'The security token included in the request is expired');
  }
  if (scope.service !== service) {
    const message = `Credential should be scoped to correct service: '${service}'. `;
    throw new AwsHttpError(400, 'InvalidSignatureException', message);
  }
  // The ECR Public API exists only in us-east-1.
  if (!REGION_PATTERN.test(scope.region) || (service === 'ecr-public' && scope.region !== 'us-east-1')) {
    throw new AwsHttpError(400, 'InvalidSignatureException', 'Credential should be scoped to a valid region. ');
  }
  try {
    verifySignature(request, scope, key.secretAccessKey, Date.now());
  } catch (err) {
    if (!(err instanceof SigV4Error)) throw err;
    const code = err.code === 'SignatureExpired' ? 'InvalidSignatureException' : `${err.code}Exception`;
    throw new AwsHttpError(400, code, err.message);
  }
  return { key, region: scope.region };
}

// STS names the same failures differently, and answers them with 403.
const STS_CODES: Record<string, string> = {
  UnrecognizedClientException: 'InvalidClientTokenId',
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  ExpiredTokenException: 'ExpiredToken',
  IncompleteSignatureException: 'IncompleteSignature',
  InvalidSignatureException: 'SignatureDoesNotMatch',
};

/** Who signed `request` for `service`, and in which region; throws the error AWS would answer. */
export function authenticate(request: SignedRequest, service: string, keys: Map<string, FakeAwsKey>): { key: FakeAwsKey; region: string } {
  if (service !== 'sts') return authenticateJson(request, service, keys);
  try {
    return authenticateJson(request, service, keys);
  } catch (err) {
    if (!(err instanceof AwsHttpError)) throw err;
    throw new AwsHttpError(403, STS_CODES[err.code] ?? err.code, err.message);
  }
}
