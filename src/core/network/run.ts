/**
 * The host's network settings in a run's container: the host's CA certificates (with the public roots, so that the
 * bundle is complete on its own) in a file named by its content in the cache, mounted read-only at CONTAINER_CA_FILE,
 * the usual variables pointing at it, and the package index settings.
 */
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { readRegularFile } from '../util/safeFs';
import { type Certificate, publicRootCertificates } from './pem';
import {
  defaultHostFiles,
  type HostFiles,
  hostNetworkDisabled,
  type HostNetworkSettings,
  hostNetworkSettings,
} from './settings';

/** Where a run's container finds the host's CA bundle. */
export const CONTAINER_CA_FILE = '/etc/ml-containers/ca.pem';

/** The variables that point a container's tools (OpenSSL, requests, pip, curl, Node) at the CA bundle. */
export const CONTAINER_CA_VARIABLES = [
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'PIP_CERT',
  'CURL_CA_BUNDLE',
  'NODE_EXTRA_CA_CERTS',
] as const;

/** What a run gets of the host's network settings. */
export interface RunNetwork {
  /** The CA bundle on this machine, mounted read-only at CONTAINER_CA_FILE. */
  caFile?: string;
  /** The variables (CONTAINER_CA_VARIABLES when there is a bundle, the package index settings). */
  env: Record<string, string>;
}

/**
 * Writes the run's CA bundle (the host's certificates, then the public roots it lacks) to `<cache>/ca/<hash>.pem`,
 * readable by any user of the container, unless that file holds it already; returns its path.
 */
export async function writeRunBundle(certificates: Certificate[], cache: string): Promise<string> {
  const seen = new Set(certificates.map((c) => c.der));
  const all = [...certificates, ...publicRootCertificates().filter((c) => !seen.has(c.der))];
  const text = `${all.map((c) => c.pem).join('\n')}\n`;
  const dir = path.join(cache, 'ca');
  const file = path.join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.pem`);
  if ((await readRegularFile(file, { cap: text.length }).catch(() => null)) === text) return file;
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(file, text);
  await fsp.chmod(file, 0o644);
  return file;
}

/** A run's share of the settings; without a bundle when it cannot be written (the run then keeps the image's). */
export async function runNetworkFor(settings: HostNetworkSettings, files: HostFiles): Promise<RunNetwork | undefined> {
  const env = { ...settings.runEnv };
  const caFile = settings.certificates && (await writeRunBundle(settings.certificates, files.cache).catch(() => null));
  if (caFile) for (const name of CONTAINER_CA_VARIABLES) env[name] = CONTAINER_CA_FILE;
  if (!caFile && Object.keys(env).length === 0) return undefined;
  return { ...(caFile ? { caFile } : {}), env };
}

/** What a run on this host gets (nothing with MLC_NO_HOST_NETWORK=1). */
export async function hostRunNetwork(
  env: NodeJS.ProcessEnv = process.env,
  files: HostFiles = defaultHostFiles(env),
): Promise<RunNetwork | undefined> {
  if (hostNetworkDisabled(env)) return undefined;
  return runNetworkFor(await hostNetworkSettings(env, files), files);
}
