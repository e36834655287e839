/** Where the Docker engine listens: DOCKER_HOST read the way the Docker CLI reads it. Pure (no I/O). */

export type DockerHost =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'npipe'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean; url: string };

export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
export const DEFAULT_NPIPE = '//./pipe/docker_engine';

/** A DOCKER_HOST value this client cannot use; the message is one sentence with what to do. */
export class DockerHostError extends Error {
  readonly value: string;
  constructor(value: string, message: string) {
    super(message);
    this.name = 'DockerHostError';
    this.value = value;
  }
}

export interface ParseDockerHostOptions {
  /** process.platform; decides the default (a unix socket, or the named pipe on Windows). */
  platform?: NodeJS.Platform;
  /** DOCKER_TLS_VERIFY is set: tcp:// speaks TLS (default port 2376 instead of 2375). */
  tlsVerify?: boolean;
}

/**
 * Parses a DOCKER_HOST value: `unix:///path`, `npipe:////./pipe/name`, `tcp://host:port` (also `host:port`,
 * `http://`, `https://`). Empty or unset means the platform's default socket. Throws DockerHostError for `ssh://` and
 * for values that are not addresses.
 */
export function parseDockerHost(value: string | undefined, options: ParseDockerHostOptions = {}): DockerHost {
  const platform = options.platform ?? process.platform;
  const v = (value ?? '').trim();
  if (!v) {
    return platform === 'win32'
      ? { kind: 'npipe', socketPath: DEFAULT_NPIPE, url: `npipe://${DEFAULT_NPIPE}` }
      : { kind: 'unix', socketPath: DEFAULT_UNIX_SOCKET, url: `unix://${DEFAULT_UNIX_SOCKET}` };
  }
  if (v.startsWith('unix://')) {
    const socketPath = v.slice('unix://'.length) || DEFAULT_UNIX_SOCKET;
    return { kind: 'unix', socketPath, url: `unix://${socketPath}` };
  }
  if (v.startsWith('npipe://')) {
    const socketPath = v.slice('npipe://'.length) || DEFAULT_NPIPE;
    return { kind: 'npipe', socketPath, url: `npipe://${socketPath}` };
  }
  if (v.startsWith('ssh://')) {
    throw new DockerHostError(
      v,
      `DOCKER_HOST=${v} uses ssh://, which ML Containers does not support yet: forward the remote socket ` +
        '(`ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock host`) and set DOCKER_HOST=unix:///tmp/docker.sock.',
    );
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `tcp://${v}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new DockerHostError(v, invalid(v));
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!['tcp', 'http', 'https'].includes(scheme) || !url.hostname) throw new DockerHostError(v, invalid(v));
  const tls = scheme === 'https' || options.tlsVerify === true;
  const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const shown = host.includes(':') ? `[${host}]` : host;
  return { kind: 'tcp', host, port, tls, url: `tcp://${shown}:${port}` };
}

function invalid(v: string): string {
  return `DOCKER_HOST=${v} is not an address the Docker engine listens on: use unix:///var/run/docker.sock or tcp://host:2375.`;
}

/** The unix socket or named pipe, or `host:port`: what a user recognises in a message. */
export function describeDockerHost(host: DockerHost): string {
  return host.kind === 'tcp' ? host.url.slice('tcp://'.length) : host.socketPath;
}

/** True when the engine runs on this machine (its CDI spec folders are this machine's). */
export function isLocalDockerHost(host: DockerHost): boolean {
  if (host.kind !== 'tcp') return true;
  return ['localhost', '127.0.0.1', '::1'].includes(host.host.toLowerCase());
}
