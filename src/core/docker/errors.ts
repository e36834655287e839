/**
 * Turns what the Docker engine (through dockerode) or the Docker CLI answers into a problem a user can act on. Pure:
 * it reads error objects and texts, never the engine.
 */
import { isCancellation, isProblem, Problem } from '../util/errors';
import { DockerHostError } from './host';

export type EngineProblemId =
  | 'engine-unreachable'
  | 'engine-timeout'
  | 'engine-permission-denied'
  | 'unsupported-docker-host'
  | 'api-version-too-new'
  | 'api-version-too-old'
  | 'no-container-gpu-runtime'
  | 'no-nvidia-runtime'
  | 'unknown-runtime'
  | 'cdi-not-enabled'
  | 'cdi-device-unresolvable'
  | 'image-not-found'
  | 'ulimit-not-permitted'
  | 'registry-unreachable'
  | 'cancelled'
  | 'engine-error';

export interface EngineProblem {
  id: EngineProblemId;
  /** What happened, without a final period (e.g. `The Docker engine has no GPU runtime, so it cannot start …`). */
  message: string;
  /** What to do, without a final period. `describeEngineProblem` joins both into one sentence. */
  fix: string;
  /** The engine's own words (its JSON `message`), or the system error, for logs. */
  detail: string;
  /** The engine's HTTP status, when it answered. */
  statusCode: number | null;
}

/** Where the request went, to name it in messages (e.g. the socket path). */
export interface ExplainContext {
  /** The socket path or host:port. */
  where?: string;
  /** The time limit that ran out, for engine-timeout. */
  timeoutMs?: number;
}

/** `message: fix.`, one sentence: what happened and what to do. */
export function describeEngineProblem(p: EngineProblem): string {
  return `${p.message}: ${p.fix}.`;
}

/** A Problem explaining an engine error: `id`, the sentence, `fix`, `statusCode`, and the error as its `cause`. */
export type EngineProblemError = Problem<EngineProblemId>;

/** The explained engine error as a Problem to throw (its message the one sentence of `describeEngineProblem`). */
export function engineProblem(err: unknown, context: ExplainContext = {}): EngineProblemError {
  const p = explainEngineError(err, context);
  return new Problem(p.id, describeEngineProblem(p), {
    fix: p.fix,
    detail: p.detail,
    ...(p.statusCode !== null ? { statusCode: p.statusCode } : {}),
    cause: err,
  });
}

/**
 * What to throw when a request to the engine failed: a cancellation or a Problem as they are (already explained),
 * anything else explained as a Problem.
 */
export function engineError(err: unknown, context: ExplainContext = {}): Error {
  if (isCancellation(err) || isProblem(err)) return err as Error;
  return engineProblem(err, context);
}

/** A request to the engine ran past its time limit (raised by the engine adapter). */
export class EngineTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, where: string) {
    super(`The Docker engine at ${where} did not answer within ${formatSeconds(timeoutMs)}.`);
    this.name = 'EngineTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

const START_FIX =
  'start it (`sudo systemctl start docker`, or start Docker Desktop) or set DOCKER_HOST to the address of a running engine';
const NVIDIA_TOOLKIT_FIX =
  'install the NVIDIA Container Toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker ' +
  '(`sudo systemctl restart docker`)';

/** The engine's own message in an error: dockerode's `json.message`, or the text after its `(HTTP code N) … - `. */
export function engineMessageOf(err: unknown): string {
  if (typeof err === 'string') return stripCliPrefix(err.trim());
  if (err === null || typeof err !== 'object') return String(err);
  const e = err as { json?: unknown; message?: unknown };
  const json = e.json as { message?: unknown } | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  const msg = typeof e.message === 'string' ? e.message : String(err);
  const m = /^\(HTTP code \d+\) [^-]*- ([\s\S]*)$/.exec(msg);
  return stripCliPrefix((m?.[1] ?? msg).trim());
}

/** `docker: Error response from daemon: X.` (the CLI's words) -> `X`. */
function stripCliPrefix(text: string): string {
  const m = /(?:^|\n)(?:[\w.-]+: )?Error response from daemon: ([^\n]*)/.exec(text);
  return (m?.[1] ?? text).replace(/\.\s*$/, '').trim();
}

function statusOf(err: unknown): number | null {
  if (err && typeof err === 'object') {
    const s = (err as { statusCode?: unknown }).statusCode;
    if (typeof s === 'number') return s;
  }
  if (typeof err === 'string') {
    const m = /\(HTTP code (\d+)\)/.exec(err);
    if (m) return Number(m[1]);
  }
  return null;
}

const CONNECT_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ENOTSOCK',
]);

/**
 * Explains an error from a Docker engine request (a dockerode error, a Node system error, or the text the Docker CLI
 * printed) as `{id, message, fix}`. Never throws; unknown errors become `engine-error` with the engine's words.
 */
export function explainEngineError(err: unknown, context: ExplainContext = {}): EngineProblem {
  const statusCode = statusOf(err);
  const detail = engineMessageOf(err);
  const make = (id: EngineProblemId, message: string, fix: string): EngineProblem => ({
    id,
    message,
    fix,
    detail,
    statusCode,
  });

  if (isCancellation(err)) {
    return make('cancelled', 'The request to the Docker engine was cancelled', 'run it again when needed');
  }
  if (err instanceof DockerHostError) {
    // its message already is one sentence, `what: what to do.`
    const i = err.message.lastIndexOf(': ');
    if (i < 0) return make('unsupported-docker-host', err.message.replace(/\.$/, ''), 'fix DOCKER_HOST');
    return make('unsupported-docker-host', err.message.slice(0, i), err.message.slice(i + 2).replace(/\.$/, ''));
  }

  // --- the engine could not be reached (Node system errors, no HTTP status) ---
  const sys =
    err && typeof err === 'object' ? (err as NodeJS.ErrnoException & { address?: string; port?: number }) : null;
  const code = statusCode === null && typeof sys?.code === 'string' ? sys.code : undefined;
  const where =
    context.where ?? (sys?.address ? (sys.port ? `${sys.address}:${sys.port}` : sys.address) : 'the Docker socket');
  if (code === 'EACCES' || code === 'EPERM') {
    return make(
      'engine-permission-denied',
      `Permission denied on the Docker socket ${where}`,
      'add your user to the docker group (`sudo usermod -aG docker $USER`), then log out and back in',
    );
  }
  if (code === 'ENOENT') {
    return make('engine-unreachable', `No Docker engine is running at ${where} (the socket does not exist)`, START_FIX);
  }
  if (code && CONNECT_CODES.has(code)) {
    return make('engine-unreachable', `No Docker engine answers at ${where} (${code})`, START_FIX);
  }
  if (err instanceof EngineTimeoutError || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    const ms = err instanceof EngineTimeoutError ? err.timeoutMs : context.timeoutMs;
    const within = ms ? ` within ${formatSeconds(ms)}` : '';
    return make(
      'engine-timeout',
      `The Docker engine at ${where} did not answer${within}`,
      'check that it is running and not overloaded, or set DOCKER_HOST to the address of a running engine',
    );
  }

  // --- the same, as the Docker CLI words it ---
  let m: RegExpExecArray | null;
  if ((m = /permission denied while trying to connect to the Docker daemon socket at (\S+?):? /i.exec(detail))) {
    return make(
      'engine-permission-denied',
      `Permission denied on the Docker socket ${context.where ?? m[1]}`,
      'add your user to the docker group (`sudo usermod -aG docker $USER`), then log out and back in',
    );
  }
  if ((m = /Cannot connect to the Docker daemon at (\S+?)\.? Is the docker daemon running/i.exec(detail))) {
    return make('engine-unreachable', `No Docker engine answers at ${context.where ?? m[1]}`, START_FIX);
  }

  // --- the engine answered with an error ---
  if ((m = /client version ([\d.]+) is too new\. Maximum supported API version is ([\d.]+)/i.exec(detail))) {
    return make(
      'api-version-too-new',
      `The client asked for Docker API ${m[1]}, but this engine supports at most ${m[2]}`,
      'let the client negotiate the API version (unset DOCKER_API_VERSION) or upgrade the Docker engine',
    );
  }
  if ((m = /client version ([\d.]+) is too old\. Minimum supported API version is ([\d.]+)/i.exec(detail))) {
    return make(
      'api-version-too-old',
      `The client asked for Docker API ${m[1]}, but this engine needs at least ${m[2]}`,
      'unset DOCKER_API_VERSION so that the client negotiates the API version',
    );
  }
  if ((m = /could not select device driver "([^"]*)" with capabilities: (\[\[.*?\]\])/.exec(detail))) {
    const driver = m[1] ? ` (driver "${m[1]}")` : '';
    return make(
      'no-container-gpu-runtime',
      `The Docker engine cannot give containers a GPU${driver}: no NVIDIA container runtime is set up for the ` +
        `request ${m[2]}`,
      NVIDIA_TOOLKIT_FIX,
    );
  }
  if ((m = /unknown runtime specified ([^\s,;]+)/i.exec(detail))) {
    const runtime = m[1] ?? '';
    if (/^nvidia/i.test(runtime)) {
      return make(
        'no-nvidia-runtime',
        `The Docker engine has no runtime named "${runtime}" (the NVIDIA Container Toolkit is not configured)`,
        `${NVIDIA_TOOLKIT_FIX}, or request GPUs with \`--gpus all\` instead of \`--runtime ${runtime}\``,
      );
    }
    return make(
      'unknown-runtime',
      `The Docker engine has no runtime named "${runtime}"`,
      'register it under "runtimes" in /etc/docker/daemon.json and restart Docker, or remove the runtime setting',
    );
  }
  if ((m = /unresolvable CDI devices? ([^\s,;]+)/i.exec(detail))) {
    return make(
      'cdi-device-unresolvable',
      `No CDI spec on the engine's host defines the device ${m[1]}`,
      'generate one with `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` (`nvidia-ctk cdi list` shows ' +
        'the device names) and restart Docker',
    );
  }
  if ((m = /adding custom device "([\w.-]+\/[\w.-]+=[^"]*)"/.exec(detail))) {
    return make(
      'cdi-not-enabled',
      `The Docker engine does not resolve CDI devices such as ${m[1]}`,
      'use Docker 25 or newer with CDI enabled (`"features": {"cdi": true}` in /etc/docker/daemon.json) and a spec ' +
        'from `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`, or request GPUs with `--gpus all`',
    );
  }
  if ((m = /error setting rlimit type (\d+): operation not permitted/.exec(detail))) {
    const name = { '3': 'stack', '7': 'nofile', '8': 'memlock' }[m[1]!] ?? `type ${m[1]}`;
    return make(
      'ulimit-not-permitted',
      `The Docker engine may not raise the container's ${name} limit (its own limit is lower)`,
      `raise LimitMEMLOCK/LimitSTACK of the docker service (\`systemctl edit docker\`), or remove \`--ulimit ${name}=…\``,
    );
  }
  if ((m = /Get "?(https?:\/\/([^/"]+)\/v2\/?)"?: (?:dial tcp|net\/http|proxyconnect)/.exec(detail))) {
    return make(
      'registry-unreachable',
      `The registry ${m[2]} cannot be reached from the Docker engine`,
      "check the engine host's network and proxy settings, or use an image that is already on this engine",
    );
  }
  if (
    (m = /no such image: (\S+?)(?::?\s|:?$)/i.exec(detail)) ||
    (m = /pull access denied for ([^\s,]+), repository does not exist/i.exec(detail)) ||
    (m = /manifest for ([^\s]+) not found/i.exec(detail)) ||
    (m = /(?:repository|image) ([^\s]+) not found/i.exec(detail))
  ) {
    const image = m[1] ?? 'the image';
    return make(
      'image-not-found',
      `The image ${image} is neither on this engine nor in its registry`,
      `build or pull it first (\`docker pull ${image}\`), or check its name and tag`,
    );
  }

  if (statusCode !== null) {
    return make(
      'engine-error',
      `The Docker engine refused the request (HTTP ${statusCode}: ${detail})`,
      "check the request and the engine's log (`journalctl -u docker`)",
    );
  }
  return make(
    'engine-error',
    `The request to the Docker engine failed (${detail})`,
    'check that the engine is running and that DOCKER_HOST points at it',
  );
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
