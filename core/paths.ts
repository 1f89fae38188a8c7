/**
 * @module
 * Where berth keeps its files, following the XDG base directory spec. Every function takes the
 * environment so tests can point berth at a fresh temporary directory.
 */
import { join } from './io/path.js';
import { homedir } from './io/sys.js';

export type Env = Readonly<Record<string, string | undefined>>;

function home(env: Env): string {
  return env.HOME || homedir();
}

export function configHome(env: Env): string {
  return env.XDG_CONFIG_HOME || join(home(env), '.config');
}

export function dataHome(env: Env): string {
  return env.XDG_DATA_HOME || join(home(env), '.local', 'share');
}

export function cacheHome(env: Env): string {
  return env.XDG_CACHE_HOME || join(home(env), '.cache');
}

/** berth's own directories. */
export function berthConfigDir(env: Env): string {
  return join(configHome(env), 'berth');
}
export function berthDataDir(env: Env): string {
  return join(dataHome(env), 'berth');
}
export function berthCacheDir(env: Env): string {
  return join(cacheHome(env), 'berth');
}

/** The berth config file (`BERTH_CONFIG` overrides). */
export function berthConfigFile(env: Env): string {
  return env.BERTH_CONFIG || join(berthConfigDir(env), 'config.json');
}

/** Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigFile(env: Env): string {
  return join(env.DOCKER_CONFIG || join(home(env), '.docker'), 'config.json');
}

/** containers/image's auth file: `$REGISTRY_AUTH_FILE`, else `$XDG_CONFIG_HOME/containers/auth.json`. */
export function containersAuthFile(env: Env): string {
  return env.REGISTRY_AUTH_FILE || join(configHome(env), 'containers', 'auth.json');
}
