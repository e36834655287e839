/**
 * Registry credentials the way the Docker CLI finds them: the user's Docker config (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`): a registry's `credHelpers` entry, else the `credsStore`, else its `auths` entry (`auth`
 * is base64 `user:password`, or an `identitytoken`). Helpers are run as `docker-credential-<name> get` with the
 * registry on stdin (argv only), as the credential-helper protocol says.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../proc/run';

/** What dockerode passes to the engine as X-Registry-Auth. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** Where the credentials came from, for messages (never the secret). */
export interface FoundAuth {
  auth: RegistryAuth;
  source: string;
}

/** Docker Hub's key in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** The registry host of an image reference: `127.0.0.1:5000/team/img:tag` -> `127.0.0.1:5000`; Docker Hub -> docker.io. */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

/** The keys a registry can have in config.json (`docker.io` is stored under the v1 index URL). */
function authKeys(registry: string): string[] {
  if (registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io') {
    return [DOCKER_HUB_AUTH_KEY, 'docker.io', 'index.docker.io', 'registry-1.docker.io'];
  }
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/**
 * The credentials for `registry`, or undefined when the Docker config has none (an anonymous push may still work).
 * Throws one sentence when the config is unreadable or a helper fails.
 */
export async function findRegistryAuth(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FoundAuth | undefined> {
  const file = dockerConfigPath(env);
  let config: DockerConfig;
  try {
    config = JSON.parse(await fsp.readFile(file, 'utf8')) as DockerConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`The Docker config ${file} cannot be read (${(err as Error).message}): fix it or log in again.`);
  }
  const keys = authKeys(registry);
  const serveraddress = registry === 'docker.io' ? DOCKER_HUB_AUTH_KEY : registry;
  const helper = keys.map((k) => config.credHelpers?.[k]).find((h) => h) ?? config.credsStore;
  if (helper) {
    const fromHelper = await fromCredentialHelper(helper, keys[0]!, env);
    if (fromHelper) return { auth: { ...fromHelper, serveraddress }, source: `docker-credential-${helper}` };
  }
  for (const k of keys) {
    const entry = config.auths?.[k];
    if (!entry) continue;
    if (entry.identitytoken) return { auth: { identitytoken: entry.identitytoken, serveraddress }, source: file };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        return {
          auth: { username: decoded.slice(0, i), password: decoded.slice(i + 1), serveraddress },
          source: file,
        };
      }
    }
    if (entry.username && entry.password) {
      return { auth: { username: entry.username, password: entry.password, serveraddress }, source: file };
    }
  }
  return undefined;
}

/** `docker-credential-<helper> get`: {Username, Secret}; `<token>` as username means Secret is an identity token. */
async function fromCredentialHelper(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
): Promise<Omit<RegistryAuth, 'serveraddress'> | undefined> {
  if (!/^[\w.-]+$/.test(helper)) throw new Error(`"${helper}" is not a credential helper name: fix the Docker config.`);
  const program = `docker-credential-${helper}`;
  let stdout: string;
  try {
    stdout = (await runProcess(program, ['get'], { input: serverUrl, env, timeoutMs: 30_000 })).stdout;
  } catch (err) {
    if ((err as Error).name === 'CommandNotFoundError') {
      throw new Error(
        `The Docker config names the credential helper "${helper}", but ${program} is not installed: install it, or ` +
          'remove "credsStore"/"credHelpers" from the Docker config and log in again.',
      );
    }
    const text = `${(err as { stdout?: string }).stdout ?? ''} ${(err as Error).message}`;
    if (/credentials not found/i.test(text)) return undefined;
    throw new Error(
      `The credential helper ${program} failed (${(err as Error).message.split('\n')[0]}): log in again with \`docker login\`.`,
    );
  }
  let creds: { Username?: string; Secret?: string };
  try {
    creds = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new Error(
      `The credential helper ${program} printed something that is not JSON: log in again with \`docker login\`.`,
    );
  }
  if (!creds.Secret) return undefined;
  if (creds.Username === '<token>') return { identitytoken: creds.Secret };
  return { username: creds.Username, password: creds.Secret };
}
