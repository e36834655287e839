/**
 * The host's network settings for builds and runs: the CA certificates it trusts explicitly (SSL_CERT_FILE,
 * REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS, pip's cert) and its package index (config.ts), turned into
 * the build arguments a generated Dockerfile declares (MLC_CA_BUNDLE, PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
 * PIP_TRUSTED_HOST, FRAMEWORK_INDEX_URL), the variables a run gets, and findings for what cannot be passed.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Finding } from '../compat/types';
import { errorMessage } from '../util/errors';
import { readRegularFile, UnsafePathError } from '../util/safeFs';
import { type HostPaths, type IndexConfig, readIndexConfig, type Setting } from './config';
import { type Certificate, isPublicRoot, pemCertificates } from './pem';

/** Where the host keeps its configuration, and where runs' CA bundles are written. */
export interface HostFiles extends HostPaths {
  /** ML Containers' cache folder (`~/.cache/ml-containers`). */
  cache: string;
}

export interface HostNetworkSettings {
  /** The build arguments to pass (a user's own `--build-arg` wins over them). */
  buildArgs: Record<string, string>;
  /** `host` when a build needs the host's network (an index on loopback). */
  network?: 'host';
  /** Every certificate of the CA bundles the host configures, deduplicated (none configured: undefined). */
  certificates?: Certificate[];
  /** The index settings a run's container gets, as pip's and uv's variables (none with credentials or on loopback). */
  runEnv: Record<string, string>;
  /** What is passed and what is left out, one sentence each (for the build log). */
  notes: string[];
  /** Settings that cannot be passed, as the doctor reports them. */
  problems: Finding[];
}

/** The environment variables that name a CA bundle, besides pip's own `cert`. */
export const CA_VARIABLES = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS'] as const;
/** The most bytes one CA bundle may have (a full public bundle is about 220 KB). */
const CA_FILE_CAP = 4 * 1024 * 1024;
/**
 * The most bytes MLC_CA_BUNDLE may carry: a build argument becomes a variable of each RUN step, and Linux refuses to
 * start a process with one variable over 128 KiB (every step of the stage would fail).
 */
export const CA_BUILD_ARG_MAX = 120 * 1024;

const PIP_CERTS_DOC = 'https://pip.pypa.io/en/stable/topics/https-certificates/';
const PIP_CONFIG_DOC = 'https://pip.pypa.io/en/stable/topics/configuration/';
const ARG_HISTORY_DOC = 'https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/';

const problem = (id: string, severity: Finding['severity'], message: string, fix: string, source: string): Finding => ({
  id,
  severity,
  message,
  fix,
  source,
});

/** The default places: the user's home, `/etc`, and `$XDG_CACHE_HOME/ml-containers` (`~/.cache/ml-containers`). */
export function defaultHostFiles(env: NodeJS.ProcessEnv = process.env): HostFiles {
  const home = os.homedir();
  return { home, etc: '/etc', cache: path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'ml-containers') };
}

/** Whether the user turned the host's network settings off (`MLC_NO_HOST_NETWORK=1`). */
export function hostNetworkDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.MLC_NO_HOST_NETWORK ?? '');
}

/** The CA bundles the host names, by file: `/etc/ssl/certs/ca-certificates.crt` <- [SSL_CERT_FILE, PIP_CERT]. */
function caFiles(env: NodeJS.ProcessEnv, config: IndexConfig, home: string): Map<string, string[]> {
  const named: Setting[] = CA_VARIABLES.flatMap((v) => (env[v]?.trim() ? [{ value: env[v]!.trim(), from: v }] : []));
  if (config.cert) named.push(config.cert);
  const files = new Map<string, string[]>();
  for (const s of named) {
    const file = path.resolve(s.value.replace(/^~(?=\/|$)/, home));
    files.set(file, [...(files.get(file) ?? []), s.from]);
  }
  return files;
}

/** The certificates of one CA bundle, or the finding that says why it gives none. */
async function readBundle(file: string, names: string[]): Promise<Certificate[] | Finding> {
  const what = `The CA bundle ${file} (${names.join(', ')})`;
  const fix = `Point ${names.join(' and ')} at a readable PEM file of the certificates your network needs, or unset ${names.length > 1 ? 'them' : 'it'}.`;
  let text: string | null;
  try {
    text = await readRegularFile(file, { cap: CA_FILE_CAP });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const denied = !(err instanceof UnsafePathError) && (code === 'EACCES' || code === 'EPERM');
    const why = denied ? 'permission denied' : errorMessage(err).replace(/\.$/, '');
    return problem(
      'network-ca-unreadable',
      'warning',
      `${what} cannot be read (${why}), so builds and runs do not trust it and downloads through a TLS-inspecting proxy fail.`,
      fix,
      PIP_CERTS_DOC,
    );
  }
  const certificates = text === null ? [] : pemCertificates(text).certificates;
  if (certificates.length > 0) return certificates;
  return problem(
    text === null ? 'network-ca-unreadable' : 'network-ca-no-certificate',
    'warning',
    text === null
      ? `${what} does not exist, so builds and runs trust only their own certificates.`
      : `${what} has no PEM certificate (-----BEGIN CERTIFICATE----- block), so builds and runs get none from it.`,
    fix,
    PIP_CERTS_DOC,
  );
}

/** Every certificate of the bundles the host configures, deduplicated, and the findings of those that give none. */
async function hostCertificates(
  env: NodeJS.ProcessEnv,
  config: IndexConfig,
  home: string,
): Promise<{ certificates?: Certificate[]; files: Map<string, string[]>; problems: Finding[] }> {
  const files = caFiles(env, config, home);
  const problems: Finding[] = [];
  const byDer = new Map<string, Certificate>();
  for (const [file, names] of files) {
    const read = await readBundle(file, names);
    if (!Array.isArray(read)) problems.push(read);
    else for (const c of read) byDer.set(c.der, c);
  }
  return { certificates: files.size > 0 ? [...byDer.values()] : undefined, files, problems };
}

/** MLC_CA_BUNDLE: the certificates images do not trust already (not public roots, not expired), when they fit. */
function caBuildArg(
  certificates: Certificate[],
  files: Map<string, string[]>,
  { now = Date.now(), caBuildArgMax = CA_BUILD_ARG_MAX }: SettingsOptions,
): { value?: string; note: string; problem?: Finding } {
  const names = [...files.values()].flat();
  const where = `${[...files.keys()].join(', ')} (${names.join(', ')})`;
  const needed = certificates.filter((c) => !isPublicRoot(c) && c.notAfter > now);
  if (needed.length === 0) {
    return { note: `The CA bundle ${where} has only public roots, which images trust already: none is passed.` };
  }
  const value = needed.map((c) => c.pem).join('\n');
  if (value.length <= caBuildArgMax) {
    return { value, note: `Builds trust ${needed.length} CA certificate(s) of ${where} (MLC_CA_BUNDLE).` };
  }
  const kib = (n: number): string => `${Math.ceil(n / 1024)} KiB`;
  return {
    note: `MLC_CA_BUNDLE is not passed: ${kib(value.length)} of certificates is too much for a build argument.`,
    problem: problem(
      'network-ca-too-large',
      'warning',
      `The ${needed.length} certificates of ${where} that are not public roots take ${kib(value.length)}, more than a build argument may carry (${kib(caBuildArgMax)}), so builds do not trust them.`,
      `Point ${names.join(' and ')} at a bundle of the certificates your network needs (its proxy's CA), or add them to the base image.`,
      PIP_CERTS_DOC,
    ),
  };
}

const isLoopback = (host: string): boolean =>
  host === 'localhost' ||
  host.endsWith('.localhost') ||
  /^127(?:\.\d{1,3}){3}$/.test(host) ||
  host === '[::1]' ||
  host === '[::ffff:127.0.0.1]' ||
  host === '[::ffff:7f00:1]';

/** The URL with its password (and user) replaced by `***`, for messages. */
function redacted(url: URL): string {
  const copy = new URL(url.href);
  if (copy.username) copy.username = '***';
  if (copy.password) copy.password = '***';
  return copy.href;
}

interface Index {
  url: string;
  loopback: boolean;
}

/** An index URL as it may be passed, or undefined (with the note or finding that says why) when it may not. */
function checkIndex(s: Setting, notes: string[], problems: Finding[]): Index | undefined {
  let url: URL;
  try {
    url = new URL(s.value);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    notes.push(`The package index "${s.value}" (${s.from}) is not an http(s) URL: builds and runs do not get it.`);
    return undefined;
  }
  if (url.username || url.password) {
    problems.push(
      problem(
        'network-index-credentials',
        'warning',
        `The package index ${redacted(url)} (${s.from}) has credentials in its URL, so builds and runs do not get it: build arguments are kept in the image's history.`,
        'Give pip the credentials another way (a netrc file or a keyring), or use a mirror that needs none.',
        ARG_HISTORY_DOC,
      ),
    );
    return undefined;
  }
  const loopback = isLoopback(url.hostname);
  if (loopback) {
    problems.push(
      problem(
        'network-index-loopback',
        'info',
        `The package index ${s.value} (${s.from}) is on this machine's loopback, so builds use the host's network to reach it; runs, in a network of their own, do not get it.`,
        'Nothing to do for builds on this machine; for runs, or a Docker engine on another machine, give the index an address containers can reach.',
        PIP_CONFIG_DOC,
      ),
    );
  }
  return { url: s.value, loopback };
}

const TRUSTED_HOST = /^[A-Za-z0-9._\-[\]:]+$/;

/** The index build arguments and run variables, and whether a build needs the host's network. */
function indexSettings(
  config: IndexConfig,
  notes: string[],
  problems: Finding[],
): { buildArgs: Record<string, string>; runEnv: Record<string, string>; hostNetwork: boolean } {
  const main = config.indexUrl && checkIndex(config.indexUrl, notes, problems);
  const extra = (config.extraIndexUrls ?? []).flatMap((s) => checkIndex(s, notes, problems) ?? []);
  const trusted = (config.trustedHosts ?? []).map((s) => s.value).filter((h) => TRUSTED_HOST.test(h));
  const buildArgs: Record<string, string> = {};
  const runEnv: Record<string, string> = {};
  const both = (name: string, indexes: Index[], uvName?: string): void => {
    if (indexes.length > 0) buildArgs[name] = indexes.map((i) => i.url).join(' ');
    const reachable = indexes.filter((i) => !i.loopback).map((i) => i.url);
    if (reachable.length === 0) return;
    runEnv[name] = reachable.join(' ');
    if (uvName) runEnv[uvName] = runEnv[name];
  };
  both('PIP_INDEX_URL', main ? [main] : [], 'UV_INDEX_URL');
  both('PIP_EXTRA_INDEX_URL', extra, 'UV_EXTRA_INDEX_URL');
  if (trusted.length > 0) buildArgs.PIP_TRUSTED_HOST = runEnv.PIP_TRUSTED_HOST = trusted.join(' ');
  for (const [name, value] of Object.entries(buildArgs)) notes.push(`Builds use ${name}=${value}.`);
  const hostNetwork = [main, ...extra].some((i) => i?.loopback);
  if (hostNetwork) notes.push('Builds use the host network: a package index is on loopback.');
  return { buildArgs, runEnv, hostNetwork };
}

/** The clock and the limit of MLC_CA_BUNDLE (tests make them small). */
export interface SettingsOptions {
  now?: number;
  caBuildArgMax?: number;
}

/**
 * Reads the host's network settings (`env`: the process's environment; `files`: where its configuration lives) and
 * turns them into build arguments, run variables and findings. Never throws for a setting: what cannot be used is a
 * note or a finding. `MLC_FRAMEWORK_INDEX_URL` (even empty) becomes FRAMEWORK_INDEX_URL.
 */
export async function hostNetworkSettings(
  env: NodeJS.ProcessEnv = process.env,
  files: HostFiles = defaultHostFiles(env),
  options: SettingsOptions = {},
): Promise<HostNetworkSettings> {
  const { config, notes } = await readIndexConfig(env, files);
  const ca = await hostCertificates(env, config, files.home);
  const problems = [...ca.problems];
  const index = indexSettings(config, notes, problems);
  const buildArgs = { ...index.buildArgs };
  if (ca.certificates && ca.certificates.length > 0) {
    const arg = caBuildArg(ca.certificates, ca.files, options);
    notes.unshift(arg.note);
    if (arg.value !== undefined) buildArgs.MLC_CA_BUNDLE = arg.value;
    if (arg.problem) problems.push(arg.problem);
  }
  if (env.MLC_FRAMEWORK_INDEX_URL !== undefined) buildArgs.FRAMEWORK_INDEX_URL = env.MLC_FRAMEWORK_INDEX_URL.trim();
  return {
    buildArgs,
    ...(index.hostNetwork ? { network: 'host' as const } : {}),
    ...(ca.certificates && ca.certificates.length > 0 ? { certificates: ca.certificates } : {}),
    runEnv: index.runEnv,
    notes,
    problems,
  };
}
