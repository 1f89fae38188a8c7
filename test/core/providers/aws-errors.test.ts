import { describe, expect, it } from 'vitest';
import { awsError } from '../../../core/providers/aws-errors.js';

describe('awsError', () => {
  const settings = { region: 'us-east-1' };

  it('names the connection error inside an AggregateError', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const err = awsError('ecr', 'token', new AggregateError([inner], ''), settings);
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:9`);
    expect(err.hint).toContain('HTTPS_PROXY');
  });

  it('keeps a multi-line SDK message on one line without its final period', () => {
    const cause = Object.assign(new Error('Could not load credentials\n  from any providers.'), {
      name: 'CredentialsProviderError',
    });
    const err = awsError('ecr-public', 'credentials', cause, settings);
    expect(err.message).toBe('no usable AWS credentials: CredentialsProviderError: Could not load credentials from any providers');
    expect(err.hint).toContain('AWS_ACCESS_KEY_ID');
  });

  it('names an answer that carries no AWS error, with its status', () => {
    const cause = Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 407 } });
    const err = awsError('ecr', 'token', cause, settings);
    expect(err.message).toBe(`HTTP 407 without an AWS error`);
    expect(err.hint).toContain('proxy');
  });

  it('tells a refused role from a missing permission', () => {
    const denied = Object.assign(new Error('User: x is not authorized.'), { name: 'AccessDenied' });
    const withRole = { region: 'us-east-1', roleArn: 'arn:aws:iam::1:role/r' };
    expect(awsError('ecr', 'role', denied, withRole).message).toBe(
      `assuming role arn:aws:iam::1:role/r: AccessDenied: User: x is not authorized`,
    );
    expect(awsError('ecr', 'role', denied, withRole).hint).toContain('trust policy');
    const noPermission = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    expect(awsError('ecr-public', 'token', noPermission, settings).hint).toContain(
      'ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken',
    );
  });
});
