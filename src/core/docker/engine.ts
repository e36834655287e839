/**
 * The Docker engine, through dockerode: where it listens (DOCKER_HOST, unix:// and tcp://), which API version to speak
 * (negotiated from the engine's unversioned /version, never pinned), and what it offers GPU containers. Plain Node.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { CancellationError, throwIfCancelled } from '../util/errors';
import { DEFAULT_CDI_SPEC_DIRS, nvidiaGpuDevices, scanCdiSpecDirs } from './cdi';
import { describeEngineProblem, EngineProblem, EngineTimeoutError, explainEngineError } from './errors';
import { describeDockerHost, DockerHost, DockerHostError, isLocalDockerHost, parseDockerHost } from './host';
import { EngineInfo, EngineVersion, parseEngineInfo, parseEngineVersion } from './info';

export { describeEngineProblem, explainEngineError } from './errors';
export type { EngineProblem, EngineProblemId } from './errors';

/**
 * A container as the engine's API names it in a path: its id (64 hex digits, or a prefix of 12 or more) or its name
 * (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, as the engine allows). dockerode puts the id into the request path as it is, so
 * anything else (`victim/pause?x=`) would be another request: such values never reach the engine.
 */
const CONTAINER_REF = /^(?:[0-9a-f]{64}|[0-9a-f]{12,63}|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254})$/;

export function isContainerRef(value: unknown): value is string {
  return typeof value === 'string' && CONTAINER_REF.test(value);
}

/** The id or name, checked to be one path segment of the API (and encoded all the same); throws one sentence. */
export function containerRef(value: string): string {
  if (!isContainerRef(value)) {
    throw new Error(
      `${JSON.stringify(value)} is not a container id or name, so it is not sent to the Docker engine: a container is ` +
        'named by its id (hex digits) or its name (letters, digits, _ . -).',
    );
  }
  return encodeURIComponent(value);
}

/** dockerode's getContainer for a checked id or name (see containerRef). */
export function getContainer(docker: Docker, id: string): Docker.Container {
  return docker.getContainer(containerRef(id));
}

/** Time limit of each request the adapter makes itself (/version, /info, /_ping) unless the caller gives one. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 10_000;
/** Time limit of getEngineGpuCapability's requests: a status check must answer fast. */
export const DEFAULT_CAPABILITY_TIMEOUT_MS = 5_000;

export interface ConnectEngineOptions {
  /** The engine's address, as DOCKER_HOST would give it; wins over env.DOCKER_HOST. */
  dockerHost?: string;
  /** Where DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default time limit of the adapter's own requests, in ms. */
  timeoutMs?: number;
}

export interface EngineRequestOptions {
  signal?: AbortSignal;
  /** Time limit in ms; the request fails with engine-timeout when it runs out. */
  timeoutMs?: number;
}

/** What the engine offers GPU containers. Values the engine did not give are null. */
export interface EngineGpuCapability {
  /** The engine answered /version. */
  reachable: boolean;
  /** One sentence, what happened and what to do; set when the engine could not be asked (or /info failed). */
  reason?: string;
  problem?: EngineProblem;
  /** The address that was asked, e.g. `unix:///var/run/docker.sock`. */
  dockerHost: string;
  /** e.g. `20.10.24+dfsg1`. */
  engineVersion: string | null;
  /** The API version in use: the one the engine reports (e.g. `1.41`). */
  apiVersion: string | null;
  os: string | null;
  kernel: string | null;
  /** Runtimes the engine knows, sorted (`io.containerd.runc.v2`, `nvidia`, `runc`, …). */
  runtimes: string[];
  defaultRuntime: string | null;
  /** An NVIDIA runtime is registered (`--runtime nvidia` works; `--gpus` works through the toolkit's hook). */
  nvidiaRuntime: boolean;
  /** Which CDI spec folders exist (/etc/cdi, /var/run/cdi); empty for an engine on another machine. */
  cdiSpecDirs: string[];
  /** `nvidia.com/gpu=…` device names defined by the spec files in those folders. */
  cdiGpuDevices: string[];
  cgroupDriver: string | null;
  cgroupVersion: string | null;
  memTotalBytes: number | null;
  ncpu: number | null;
  /** The engine's own warnings and unreadable CDI spec files. */
  warnings: string[];
}

/** A thin adapter over dockerode that speaks the engine's own API version. */
export interface EngineClient {
  readonly host: DockerHost;
  /** `unix:///var/run/docker.sock` or `tcp://host:port`. */
  readonly dockerHost: string;
  /** The engine's unversioned /version (asked once, then cached). */
  version(options?: EngineRequestOptions): Promise<EngineVersion>;
  /** The negotiated API version, e.g. `1.41`. */
  apiVersion(options?: EngineRequestOptions): Promise<string>;
  /** dockerode speaking the negotiated API version, for everything else (containers, images, …). */
  docker(options?: EngineRequestOptions): Promise<Docker>;
  ping(options?: EngineRequestOptions): Promise<void>;
  info(options?: EngineRequestOptions): Promise<EngineInfo>;
  getEngineGpuCapability(options?: GpuCapabilityOptions): Promise<EngineGpuCapability>;
  /** Runs a dockerode call under the adapter's time limit and cancellation: `client.request((d, signal) => …)`. */
  request<T>(
    call: (docker: Docker, abortSignal: AbortSignal) => Promise<T>,
    options?: EngineRequestOptions,
  ): Promise<T>;
}

export interface GpuCapabilityOptions extends EngineRequestOptions {
  /** CDI spec folders to look in (default: those the engine reports, else /etc/cdi and /var/run/cdi). */
  cdiDirs?: string[];
}

/**
 * Connects to the engine at `dockerHost`, else env.DOCKER_HOST, else the platform's default socket. Makes no request
 * (the first request negotiates the API version). Throws DockerHostError when DOCKER_HOST is not usable.
 */
export function connectEngine(options: ConnectEngineOptions = {}): EngineClient {
  const env = options.env ?? process.env;
  const tlsVerify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
  const host = parseDockerHost(options.dockerHost ?? env.DOCKER_HOST, { tlsVerify });
  const where = describeDockerHost(host);
  const defaultTimeout = options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
  const base = modemOptions(host, env);

  const unversioned = new Docker(base);
  let versionPromise: Promise<EngineVersion> | undefined;
  let negotiated: Docker | undefined;

  const limited = <T>(call: (signal: AbortSignal) => Promise<T>, opts: EngineRequestOptions = {}): Promise<T> =>
    withLimit(call, opts.signal, opts.timeoutMs ?? defaultTimeout, where);

  const version = (opts?: EngineRequestOptions): Promise<EngineVersion> => {
    if (!versionPromise) {
      // shared by concurrent callers: only the time limit applies to the request, each caller's signal to its wait
      const p = limited((signal) => call0<Docker.DockerVersion>(unversioned, 'version', signal), {
        timeoutMs: opts?.timeoutMs,
      }).then(parseEngineVersion);
      versionPromise = p;
      p.catch(() => {
        if (versionPromise === p) versionPromise = undefined; // ask again next time
      });
    }
    return opts?.signal ? raceSignal(versionPromise, opts.signal) : versionPromise;
  };
  const docker = async (opts?: EngineRequestOptions): Promise<Docker> => {
    const v = await version(opts);
    negotiated ??= new Docker({ ...base, version: `v${v.apiVersion}` });
    return negotiated;
  };

  const client: EngineClient = {
    host,
    dockerHost: host.url,
    version,
    apiVersion: async (opts) => (await version(opts)).apiVersion,
    docker,
    request: async (call, opts) => {
      const d = await docker(opts);
      return limited((signal) => call(d, signal), opts);
    },
    ping: async (opts) => {
      await limited((signal) => call0<unknown>(unversioned, 'ping', signal), opts);
    },
    info: async (opts) => {
      const d = await docker(opts);
      return parseEngineInfo(await limited((signal) => call0<unknown>(d, 'info', signal), opts));
    },
    getEngineGpuCapability: (opts = {}) => gpuCapability(client, where, opts),
  };
  return client;
}

/**
 * What the engine at DOCKER_HOST offers GPU containers. Never throws for an engine that is missing, refuses or is
 * slow: `reachable: false` and a `reason` say what happened and what to do. Throws CancellationError when `signal`
 * fires.
 */
export async function getEngineGpuCapability(
  options: GpuCapabilityOptions & ConnectEngineOptions & { client?: EngineClient } = {},
): Promise<EngineGpuCapability> {
  let client = options.client;
  if (!client) {
    try {
      client = connectEngine(options);
    } catch (err) {
      if (!(err instanceof DockerHostError)) throw err;
      return unreachable(options.dockerHost ?? (options.env ?? process.env).DOCKER_HOST ?? '', explainEngineError(err));
    }
  }
  return client.getEngineGpuCapability(options);
}

async function gpuCapability(
  client: EngineClient,
  where: string,
  opts: GpuCapabilityOptions,
): Promise<EngineGpuCapability> {
  const req = { signal: opts.signal, timeoutMs: opts.timeoutMs ?? DEFAULT_CAPABILITY_TIMEOUT_MS };
  let version: EngineVersion;
  try {
    version = await client.version(req);
  } catch (err) {
    if (err instanceof CancellationError) throw err;
    return unreachable(client.dockerHost, explainEngineError(err, { where, timeoutMs: req.timeoutMs }));
  }
  const cap: EngineGpuCapability = {
    ...noCapability(client.dockerHost),
    reachable: true,
    engineVersion: version.version,
    apiVersion: version.apiVersion,
    os: version.os,
    kernel: version.kernel,
  };
  let info: EngineInfo | undefined;
  try {
    info = await client.info(req);
  } catch (err) {
    if (err instanceof CancellationError) throw err;
    cap.problem = explainEngineError(err, { where, timeoutMs: req.timeoutMs });
    cap.reason = describeEngineProblem(cap.problem);
  }
  if (info) {
    Object.assign(cap, {
      engineVersion: info.engineVersion ?? cap.engineVersion,
      os: info.os ?? cap.os,
      kernel: info.kernel ?? cap.kernel,
      runtimes: info.runtimes,
      defaultRuntime: info.defaultRuntime,
      nvidiaRuntime: info.nvidiaRuntime,
      cgroupDriver: info.cgroupDriver,
      cgroupVersion: info.cgroupVersion,
      memTotalBytes: info.memTotalBytes,
      ncpu: info.ncpu,
      warnings: [...info.warnings],
    });
  }
  // CDI specs live on the engine's machine: only look when that is this machine
  if (isLocalDockerHost(client.host)) {
    throwIfCancelled(opts.signal);
    const dirs = opts.cdiDirs ?? [...new Set([...(info?.cdiSpecDirs ?? []), ...DEFAULT_CDI_SPEC_DIRS])];
    const scan = await scanCdiSpecDirs(dirs);
    cap.cdiSpecDirs = scan.dirs;
    cap.cdiGpuDevices = nvidiaGpuDevices(scan.specs);
    for (const w of scan.warnings) cap.warnings.push(`${w.file}: ${w.message}`);
  }
  return cap;
}

/** What is known of an engine before (or without) asking it: nothing. */
function noCapability(dockerHost: string): EngineGpuCapability {
  return {
    reachable: false,
    dockerHost,
    engineVersion: null,
    apiVersion: null,
    os: null,
    kernel: null,
    runtimes: [],
    defaultRuntime: null,
    nvidiaRuntime: false,
    cdiSpecDirs: [],
    cdiGpuDevices: [],
    cgroupDriver: null,
    cgroupVersion: null,
    memTotalBytes: null,
    ncpu: null,
    warnings: [],
  };
}

function unreachable(dockerHost: string, problem: EngineProblem): EngineGpuCapability {
  return { ...noCapability(dockerHost), reason: describeEngineProblem(problem), problem };
}

/** dockerode's `version`, `ping` and `info` take an abortSignal option that its type declarations do not list. */
function call0<T>(docker: Docker, method: 'version' | 'ping' | 'info', abortSignal: AbortSignal): Promise<T> {
  const fn = docker[method] as unknown as (this: Docker, opts: { abortSignal: AbortSignal }) => Promise<T>;
  return fn.call(docker, { abortSignal });
}

/**
 * dockerode's options for a host. Every connection field is set, even to undefined: docker-modem merges its own
 * defaults read from process.env.DOCKER_HOST, which must not win over the host given here.
 */
function modemOptions(host: DockerHost, env: NodeJS.ProcessEnv): Docker.DockerOptions {
  // One connection per request, none kept open: Node 20's global agent keeps idle sockets for 5 s, which keeps a
  // command-line process alive that long after its last request.
  if (host.kind !== 'tcp') {
    const agent = new http.Agent({ keepAlive: false });
    // (`agent` reaches docker-modem, whose type declarations do not list it)
    return {
      socketPath: host.socketPath,
      host: undefined,
      port: undefined,
      protocol: 'http',
      agent,
    } as Docker.DockerOptions;
  }
  const opts: Docker.DockerOptions = {
    socketPath: undefined,
    host: host.host,
    port: host.port,
    protocol: host.tls ? 'https' : 'http',
    pathPrefix: '/',
    agent: host.tls ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false }),
  } as Docker.DockerOptions;
  if (host.tls) {
    const dir = env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
    const read = (name: string): Buffer => {
      try {
        return fs.readFileSync(path.join(dir, name));
      } catch {
        throw new DockerHostError(
          host.url,
          `DOCKER_HOST=${host.url} needs TLS but ${path.join(dir, name)} cannot be read: set DOCKER_CERT_PATH to the ` +
            'folder with ca.pem, cert.pem and key.pem.',
        );
      }
    };
    Object.assign(opts, { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
  }
  return opts;
}

/**
 * Runs a request with an AbortSignal that fires when the caller's signal does (-> CancellationError) or when the time
 * limit runs out (-> EngineTimeoutError). Settles at the limit even if the request ignores its signal.
 */
function withLimit<T>(
  call: (signal: AbortSignal) => Promise<T>,
  outer: AbortSignal | undefined,
  timeoutMs: number,
  where: string,
): Promise<T> {
  throwIfCancelled(outer);
  const ctrl = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      finish(() => reject(new CancellationError()));
      ctrl.abort();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new EngineTimeoutError(timeoutMs, where)));
      ctrl.abort();
    }, timeoutMs);
    outer?.addEventListener('abort', onAbort, { once: true });
    call(ctrl.signal).then(
      (v) => finish(() => resolve(v)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

/** A shared promise, abandoned (CancellationError) when this caller's signal fires. */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  throwIfCancelled(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new CancellationError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
