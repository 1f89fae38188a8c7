/**
 * @module
 * The credential endpoints a workload finds around it, as the fake AWS serves them: the container
 * credentials endpoint of ECS and EKS Pod Identity (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, checked
 * against `AWS_CONTAINER_AUTHORIZATION_TOKEN`) and the EC2 instance metadata service in IMDSv2 form
 * (a session token from `PUT /latest/api/token` required on every read). Both hand out temporary
 * keys of one workload role that the fake's ECR accepts.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeAwsKey } from './aws-auth.js';
import { issueTemporaryKey } from './aws-sts.js';

export const CONTAINER_CREDENTIALS_PATH = '/container-credentials';
const IMDS_CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';
const WORKLOAD_ROLE_NAME = 'berth-workload';

export class FakeWorkloadCredentials {
  /** What `AWS_CONTAINER_AUTHORIZATION_TOKEN` must hold for the container endpoint to answer. */
  readonly containerAuthToken = randomBytes(16).toString('hex');
  /** The role whose session the workload's keys belong to. */
  readonly roleArn = `arn:aws:iam::123456789012:role/${WORKLOAD_ROLE_NAME}`;
  private readonly imdsTokens = new Set<string>();

  constructor(private readonly keys: Map<string, FakeAwsKey>) {}

  /** The principal whose key signs requests made with these credentials. */
  get sessionArn(): string {
    return `arn:aws:sts::123456789012:assumed-role/${WORKLOAD_ROLE_NAME}/workload`;
  }

  handles(path: string): boolean {
    return path === CONTAINER_CREDENTIALS_PATH || path.startsWith('/latest/');
  }

  /** Answers one request for `path`; returns the action name the fake records. */
  answer(req: IncomingMessage, res: ServerResponse, path: string): string {
    if (path === CONTAINER_CREDENTIALS_PATH) {
      if (req.headers.authorization !== this.containerAuthToken) return reply(res, 401, 'ContainerAuthorization');
      return reply(res, 200, 'ContainerCredentials', this.credentialsJson());
    }
    if (path === '/latest/api/token' && req.method === 'PUT') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return reply(res, 400, 'ImdsToken');
      const token = randomBytes(24).toString('base64url');
      this.imdsTokens.add(token);
      return reply(res, 200, 'ImdsToken', token);
    }
    // IMDSv2 only: reads without a session token are refused, as on instances that require it.
    if (!this.imdsTokens.has(String(req.headers['x-aws-ec2-metadata-token']))) return reply(res, 401, 'ImdsRead');
    if (path === IMDS_CREDENTIALS_PATH) return reply(res, 200, 'ImdsRoleName', WORKLOAD_ROLE_NAME);
    if (path === IMDS_CREDENTIALS_PATH + WORKLOAD_ROLE_NAME) {
      return reply(res, 200, 'ImdsCredentials', this.credentialsJson());
    }
    return reply(res, 404, 'ImdsRead');
  }

  private credentialsJson(): string {
    const key = issueTemporaryKey(this.keys, this.sessionArn, 3600);
    return JSON.stringify({
      Code: 'Success',
      LastUpdated: new Date().toISOString(),
      Type: 'AWS-HMAC',
      AccessKeyId: key.accessKeyId,
      SecretAccessKey: key.secretAccessKey,
      Token: key.sessionToken,
      Expiration: new Date(key.expiresAt!).toISOString(),
    });
  }
}

function reply(res: ServerResponse, status: number, action: string, body = ''): string {
  res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' });
  res.end(body);
  return status === 200 ? action : `${action}:${status}`;
}
