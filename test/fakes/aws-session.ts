import { afterEach, beforeEach, vi } from 'vitest';
import type { ProviderRequest } from '../../core/providers/provider.js';
import { FakeAws, fakeAwsEnv, TEST_KEY } from './aws.js';
import { fixtureDir, removeDir } from './temp.js';

export const AWS_ENV_KEYS = { AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey };

export interface AwsSession {
  readonly fake: FakeAws;
  readonly home: string;
  request(vars: Record<string, string>, options?: ProviderRequest['options'], registryHost?: string): ProviderRequest;
}

/** Registers the hooks; the session's fields are fresh in every test. */
export function useFakeAws(tempPrefix: string, defaultHost: string): AwsSession {
  let fake: FakeAws | undefined;
  let home: string | undefined;
  beforeEach(async () => {
    fake = await FakeAws.start();
    home = await fixtureDir(tempPrefix);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fake?.close();
    if (home) await removeDir(home);
  });
  const session: AwsSession = {
    get fake() {
      if (!fake) throw new Error('the fake AWS runs only inside a test');
      return fake;
    },
    get home() {
      if (!home) throw new Error('the temporary home exists only inside a test');
      return home;
    },
    request(vars, options = {}, registryHost = defaultHost) {
      const env = fakeAwsEnv(session.fake, session.home, vars);
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      return { registryHost, options, env, now: Date.now };
    },
  };
  return session;
}
