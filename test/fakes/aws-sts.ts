/**
 * @module
 * The STS half of the fake AWS: `AssumeRole` (signed by a known key) and
 * `AssumeRoleWithWebIdentity` (an RS256 JWT from this fake's own identity provider), answered in
 * STS's query-protocol XML. Each role session gets a fresh temporary key with a session token,
 * added to the shared key table so the fake's ECR accepts requests signed with it.
 */
import { createSign, createVerify, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { AwsHttpError, type FakeAwsKey } from './aws-auth.js';

export interface FakeAwsRole {
  /** When set, AssumeRole must pass exactly this ExternalId. */
  externalId?: string;
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function stsResponse(action: string, result: string): string {
  return (
    `<${action}Response xmlns="${STS_NS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function stsErrorResponse(err: AwsHttpError): string {
  return (
    `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${err.code}</Code>` +
    `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

/** A fresh temporary key (ASIA…, with a session token) for `arn`, added to `keys` so it signs. */
export function issueTemporaryKey(keys: Map<string, FakeAwsKey>, arn: string, lifetimeSeconds: number): FakeAwsKey {
  const key: FakeAwsKey = {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: randomBytes(48).toString('base64'),
    arn,
    expiresAt: Date.now() + lifetimeSeconds * 1000,
  };
  keys.set(key.accessKeyId, key);
  return key;
}

export class FakeSts {
  private readonly identityProviderKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

  constructor(
    private readonly keys: Map<string, FakeAwsKey>,
    private readonly roles: Map<string, FakeAwsRole>,
    /** The identity provider's name in tokens and answers. */
    private readonly issuer: () => string,
  ) {}

  /** A web identity token (RS256 JWT) this STS accepts, like one an OIDC provider issues. */
  webIdentityToken(claims: { sub?: string; aud?: string; lifetimeSeconds?: number } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const payload = {
      iss: this.issuer(),
      sub: claims.sub ?? 'system:serviceaccount:ci:berth',
      aud: claims.aud ?? 'sts.amazonaws.com',
      iat: now,
      exp: now + (claims.lifetimeSeconds ?? 3600),
    };
    const body = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(payload)}`;
    const signature = createSign('RSA-SHA256').update(body).sign(this.identityProviderKeys.privateKey);
    return `${body}.${signature.toString('base64url')}`;
  }

  assumeRole(params: URLSearchParams, caller: FakeAwsKey): string {
    const roleArn = params.get('RoleArn') ?? '';
    const role = this.roles.get(roleArn);
    if (!role || (role.externalId !== undefined && role.externalId !== params.get('ExternalId'))) {
      throw new AwsHttpError(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    return this.issueRoleCredentials(roleArn, params);
  }

  assumeRoleWithWebIdentity(params: URLSearchParams): string {
    const [header, payload, signature] = (params.get('WebIdentityToken') ?? '').split('.');
    const valid =
      header !== undefined &&
      payload !== undefined &&
      signature !== undefined &&
      createVerify('RSA-SHA256')
        .update(`${header}.${payload}`)
        .verify(this.identityProviderKeys.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) {
      throw new AwsHttpError(400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS.');
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
      exp: number;
      sub: string;
      aud: string;
    };
    if (claims.exp * 1000 < Date.now()) throw new AwsHttpError(400, 'ExpiredTokenException', 'Token expired');
    const roleArn = params.get('RoleArn') ?? '';
    if (!this.roles.has(roleArn)) {
      throw new AwsHttpError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    return (
      `<SubjectFromWebIdentityToken>${escapeXml(claims.sub)}</SubjectFromWebIdentityToken>` +
      `<Audience>${escapeXml(claims.aud)}</Audience>${this.issueRoleCredentials(roleArn, params)}` +
      `<Provider>${escapeXml(this.issuer())}</Provider>`
    );
  }

  /** Mints a temporary key for a role session and remembers it, so requests signed with it pass. */
  private issueRoleCredentials(roleArn: string, params: URLSearchParams): string {
    const session = params.get('RoleSessionName') ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw new AwsHttpError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint`,
      );
    }
    const [, , , , account, resource] = roleArn.split(':');
    const assumedArn = `arn:aws:sts::${account}:assumed-role/${resource?.replace(/^role\//, '')}/${session}`;
    const key = issueTemporaryKey(this.keys, assumedArn, Number(params.get('DurationSeconds') ?? 3600));
    const expiration = new Date(key.expiresAt!).toISOString();
    return (
      `<AssumedRoleUser><Arn>${assumedArn}</Arn><AssumedRoleId>AROAFAKE:${session}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${key.accessKeyId}</AccessKeyId>` +
      `<SecretAccessKey>${key.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${key.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>`
    );
  }
}
