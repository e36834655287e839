/**
 * Runs training containers through the engine's API (dockerode): create and start from a RunSpec, follow the log into
 * `log.txt` and to the caller, wait for the exit, and keep the run's record up to date. Also stop, remove, and adopt
 * runs started by another window or process (found by their labels). Every engine error becomes one sentence.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { type EngineClient, getContainer, isContainerRef } from '../docker/engine';
import { engineError, engineProblem, explainEngineError } from '../docker/errors';
import { writeFileAtomic } from '../util/atomic';
import { errorMessage, isCancellation, Problem } from '../util/errors';
import { explainRunExit } from './explain';
import { containerCreateOptions, containerNameFor, newRunId } from './spec';
import { type RunStore, STATE_DIR } from './store';
import { LABELS, type RunHost, type RunRecord, type RunSpec } from './types';

/** How many bytes of the end of a log are read to explain a failure and find the last metric. */
export const LOG_TAIL_BYTES = 64 * 1024;

/**
 * A run's record names a container that is not that run's (not labelled as this run of this project), or something
 * that is not a container id or name at all: records are files a cloned repository may have forged, so nothing is done
 * to that container and the record is not updated from it. `message` is one sentence.
 */
export class ForeignContainerError extends Error {
  override readonly name = 'ForeignContainerError';
}

/** The run's container, checked on the engine: it carries our labels for this run and this project. */
export interface OwnContainer {
  container: Docker.Container;
  info: Docker.ContainerInspectInfo;
}

/**
 * Looks up the container a run's record names and checks, before anything is done to it, that it is that run's: a
 * container id or name (nothing else goes into the engine's API path), labelled with this run's id and this project.
 * Returns 'gone' when the engine has no such container; throws ForeignContainerError when it is not the run's. The
 * container returned is addressed by the engine's own id.
 */
export async function runContainer(
  docker: Docker,
  record: Pick<RunRecord, 'id' | 'containerId'>,
  projectRoot: string,
): Promise<OwnContainer | 'gone'> {
  const ref = record.containerId;
  const where = path.join(STATE_DIR, 'runs', record.id);
  if (!isContainerRef(ref)) {
    throw new ForeignContainerError(
      `The record of run ${record.id} names ${JSON.stringify(ref)} as its container, which is not a container id or ` +
        `name, so it is not sent to the Docker engine: delete ${where} if you did not make that run.`,
    );
  }
  let info: Docker.ContainerInspectInfo;
  try {
    info = await getContainer(docker, ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return 'gone';
    throw engineError(err);
  }
  const labels = info.Config?.Labels ?? {};
  if (labels[LABELS.run] !== record.id || !(await sameProject(labels[LABELS.project], projectRoot))) {
    throw new ForeignContainerError(
      `The container ${ref} named by the record of run ${record.id} is not this run's container (it lacks the labels ` +
        `of run ${record.id} of ${projectRoot}), so ML Containers leaves it alone: delete ${where} if you did not ` +
        'make that run.',
    );
  }
  return { container: docker.getContainer(info.Id), info };
}

/** A container's project label names `root` (as given, or the same folder through symlinks). */
async function sameProject(label: string | undefined, root: string): Promise<boolean> {
  if (!label || !path.isAbsolute(label)) return false;
  if (path.resolve(label) === path.resolve(root)) return true;
  const real = (p: string): Promise<string | undefined> => fsp.realpath(p).catch(() => undefined);
  const [a, b] = await Promise.all([real(label), real(root)]);
  return a !== undefined && a === b;
}

/**
 * A run could not be started: the engine's Problem (its `id`, one-sentence `message`, `fix`, `statusCode` and `cause`)
 * with `record`, the failed run's record.
 */
export class RunStartError extends Problem {
  readonly record: RunRecord;
  constructor(problem: Problem, record: RunRecord) {
    super(problem.id, problem.message, {
      fix: problem.fix,
      statusCode: problem.statusCode,
      detail: problem.detail,
      cause: problem.cause,
    });
    this.name = 'RunStartError';
    this.record = record;
  }

  /** The same as `id`. */
  get problemId(): string {
    return this.id;
  }
}

export interface RunnerOptions {
  client: EngineClient;
  store: RunStore;
  /** What the run is made on (engine, driver, GPUs); asked once per runner. */
  host?: () => Promise<RunHost>;
  /** Debug log. */
  log?: (message: string) => void;
}

export interface FollowOptions {
  /** Each chunk of output as the container prints it (terminal bytes: colours, `\r`). */
  onOutput?: (chunk: Buffer) => void;
  /** Stops following (the container keeps running). */
  signal?: AbortSignal;
  /**
   * Write what comes into log.txt (default true). Viewers (a log terminal, `logs --follow`) pass false: one writer
   * per run, so two followers never write the file at different offsets; the run's end still saves the whole log.
   */
  writeLog?: boolean;
}

export interface StartedRun {
  record: RunRecord;
  /** Settles with the final record when the container has exited and its log is saved. */
  done: Promise<RunRecord>;
}

const FINAL_STATES = new Set(['succeeded', 'failed', 'stopped']);

export function isFinished(record: RunRecord): boolean {
  return FINAL_STATES.has(record.state);
}

export class Runner {
  private readonly client: EngineClient;
  readonly store: RunStore;
  private readonly log: (message: string) => void;
  private hostPromise: Promise<RunHost> | undefined;
  private readonly hostFn: () => Promise<RunHost>;
  /** Runs this runner is following, so a second follow waits for the first instead of racing it. */
  private readonly following = new Map<string, Promise<RunRecord>>();
  /** Runs whose log.txt a follower of this runner is writing. */
  private readonly writing = new Set<string>();

  constructor(options: RunnerOptions) {
    this.client = options.client;
    this.store = options.store;
    this.log = options.log ?? (() => undefined);
    this.hostFn =
      options.host ??
      (async () => ({
        dockerHost: this.client.dockerHost,
        engineVersion: (await this.client.version().catch(() => undefined))?.version ?? null,
        driverVersion: null,
        gpus: [],
      }));
  }

  private host(): Promise<RunHost> {
    this.hostPromise ??= this.hostFn().catch(() => ({
      dockerHost: this.client.dockerHost,
      engineVersion: null,
      driverVersion: null,
      gpus: [],
    }));
    return this.hostPromise;
  }

  /**
   * Creates and starts a container for `spec`, records it, and follows it. Throws RunStartError (one sentence) when
   * the engine refuses: unreachable, image missing, no GPU runtime, …; the record says so too.
   */
  async start(spec: RunSpec, options: FollowOptions & { runId?: string } = {}): Promise<StartedRun> {
    const docker = await this.connect();
    const id = options.runId ?? newRunId();
    const name = containerNameFor(spec.projectRoot, id);
    const record = newRecord({
      id,
      project: spec.projectRoot,
      containerName: name,
      image: spec.image,
      command: spec.command,
      gpus: spec.gpus,
      mountWorkspace: spec.mountWorkspace,
      requestedPorts: spec.ports,
      ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
      sweepId: spec.sweepId ?? null,
      params: spec.params ?? {},
      host: await this.host(),
    });
    await this.store.writeRecord(record);
    const fail = async (err: unknown, container?: Docker.Container): Promise<never> => {
      const problem = engineProblem(err);
      record.state = 'failed';
      record.finishedAt = new Date().toISOString();
      record.explanation = problem.message;
      this.log(`run ${id}: ${problem.detail ?? problem.message}`);
      // recorded as failed before its container goes: a window that sees the container's destroy event (and brings
      // the record up to date) must find the run ended, or it records "removed before its end" over the reason
      await this.store.writeRecord(record);
      // the container goes with the failed start; its id stays in the record when it could not be removed
      if (
        !container ||
        (await container.remove({ force: true }).then(
          () => true,
          () => false,
        ))
      ) {
        record.containerId = null;
        await this.store.writeRecord(record);
      }
      throw new RunStartError(problem, record);
    };

    try {
      const image = await docker.getImage(spec.image).inspect();
      record.imageId = image.Id;
      record.repoDigests = image.RepoDigests ?? [];
    } catch (err) {
      await fail(err);
    }
    const createOptions = containerCreateOptions(spec, id, name);
    const ulimitWarning = (u: { Name?: string; Hard?: number }): string =>
      `The Docker engine may not raise the ${u.Name} limit to ${u.Hard === -1 ? 'unlimited' : u.Hard} (its own limit ` +
      "is lower), so the run uses the engine's default: raise LimitMEMLOCK/LimitSTACK of the docker service if the " +
      'training needs it.';
    // limits this engine refused before are not asked for again (each refusal costs a container create and start)
    const refused = await refusedUlimits(this.client.dockerHost);
    for (const u of (createOptions.HostConfig.Ulimits ?? []).filter((x) => refused.has(x.Name ?? ''))) {
      record.warnings.push(ulimitWarning(u));
    }
    createOptions.HostConfig.Ulimits = (createOptions.HostConfig.Ulimits ?? []).filter(
      (x) => !refused.has(x.Name ?? ''),
    );
    this.log(`run ${id}: create ${JSON.stringify({ ...createOptions, Env: ['…'] })}`);
    let container: Docker.Container | undefined;
    for (;;) {
      try {
        container = await docker.createContainer(createOptions);
      } catch (err) {
        await fail(err);
      }
      record.containerId = container!.id;
      await this.store.writeRecord(record); // a container that exists is never unrecorded
      try {
        await container!.start();
        break;
      } catch (err) {
        // an engine whose own limit is lower cannot raise memlock/stack: run with its limit, and say so
        const dropped = droppableUlimit(err, createOptions.HostConfig.Ulimits ?? []);
        if (!dropped) await fail(err, container);
        await container!.remove({ force: true }).catch(() => undefined);
        createOptions.HostConfig.Ulimits = (createOptions.HostConfig.Ulimits ?? []).filter((u) => u !== dropped);
        await rememberRefusedUlimit(this.client.dockerHost, dropped!.Name ?? '');
        record.warnings.push(ulimitWarning(dropped!));
        this.log(`run ${id}: ${record.warnings[record.warnings.length - 1]}`);
      }
    }
    const info = await container!.inspect();
    record.state = 'running';
    record.startedAt = info.State.StartedAt || new Date().toISOString();
    record.ports = publishedPorts(info);
    await this.store.writeRecord(record);
    this.log(`run ${id}: started container ${name} (${container!.id.slice(0, 12)})`);
    return { record: { ...record }, done: this.follow(id, options) };
  }

  /**
   * Follows a run until its container exits: the whole log (from its start) into `log.txt` and to `onOutput`, then
   * the exit code, OOMKilled and an explanation into the record. Safe after a reload: the engine keeps the log.
   * Resolves with the final record; when `signal` fires it stops following and resolves with the current one.
   */
  follow(runId: string, options: FollowOptions = {}): Promise<RunRecord> {
    const current = this.following.get(runId);
    if (current && !options.onOutput) return current;
    const p = this.doFollow(runId, options).finally(() => {
      if (this.following.get(runId) === p) this.following.delete(runId);
    });
    this.following.set(runId, p);
    return p;
  }

  private async doFollow(runId: string, options: FollowOptions): Promise<RunRecord> {
    const record = await this.store.findRecord(runId);
    if (!record.containerId || isFinished(record)) return record;
    const docker = await this.connect();
    const own = await runContainer(docker, record, this.store.root);
    if (own === 'gone') return this.containerGone(record);
    const container = own.container;
    const ctrl = new AbortController();
    const onAbort = (): void => ctrl.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // a signal that fired before (`run --detach`, a window closed while the run started) fires no event again
    if (options.signal?.aborted) ctrl.abort();
    try {
      // one writer per run: a second follower (a viewer) only passes the output on
      const writes = options.writeLog !== false && !this.writing.has(record.id);
      if (writes) this.writing.add(record.id);
      // log.txt inside the project (no link out of it), before the engine is asked for the stream
      let sink: NodeJS.WritableStream = new Writable({ write: (_chunk, _enc, done) => done() });
      if (writes) {
        try {
          sink = await this.store.createLogStream(record.id);
        } catch (err) {
          this.writing.delete(record.id);
          throw err;
        }
      }
      let stream: NodeJS.ReadableStream;
      try {
        stream = (await container.logs({
          follow: true,
          stdout: true,
          stderr: true,
          abortSignal: ctrl.signal,
        } as Docker.ContainerLogsOptions & { follow: true })) as NodeJS.ReadableStream;
      } catch (err) {
        if (writes) this.writing.delete(record.id);
        (sink as fs.WriteStream).destroy?.();
        throw err;
      }
      const onOutput = options.onOutput;
      // the engine sends a chunk per line: batch them (64 KiB or 50 ms) into one write and one onOutput call
      const tap = batchChunks(64 * 1024, 50, onOutput);
      try {
        await pipeline(stream, tap, sink);
      } catch (err) {
        if (!ctrl.signal.aborted) throw err;
      } finally {
        if (writes) this.writing.delete(record.id);
      }
      if (ctrl.signal.aborted) return (await this.store.readRecord(runId)) ?? record;
      if (!writes) {
        // a viewer: the whole log is saved (never shortened) once the container has stopped, then the end recorded
        await container.wait({ condition: 'not-running' } as object).catch(() => undefined);
        await this.saveLog(record.id, container).catch(() => undefined);
        return await this.finish(record, container);
      }
      return await this.finish(record, container, onOutput, true);
    } catch (err) {
      if (ctrl.signal.aborted || isCancellation(err)) {
        return (await this.store.readRecord(runId)) ?? record;
      }
      // 404: removed; 409: being removed ("dead or marked for removal")
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) return this.containerGone(record);
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Records the end of a run whose container has exited (waits for the exit first). */
  private async finish(
    record: RunRecord,
    container: Docker.Container,
    onOutput?: (chunk: Buffer) => void,
    wroteLog = false,
  ): Promise<RunRecord> {
    let info: Docker.ContainerInspectInfo;
    try {
      await container.wait({ condition: 'not-running' } as object);
      info = await container.inspect();
      if (wroteLog) {
        // best effort: a container being removed (409) keeps the log as it was followed
        await this.completeLog(record.id, container, onOutput).catch((e: unknown) =>
          this.log(`run ${record.id}: could not check the saved log against the engine's (${errorMessage(e)})`),
        );
      }
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) return this.containerGone(record);
      throw err;
    }
    // another process (`ml-containers stop`) may have marked it stopped meanwhile: read the record again
    const latest = (await this.store.readRecord(record.id)) ?? record;
    if (isFinished(latest)) return latest;
    const exitCode = info.State.ExitCode;
    const stoppedByUser = latest.stopRequestedAt !== null;
    const tail = await this.store.readLogTail(record.id, LOG_TAIL_BYTES);
    const failure = explainRunExit({
      exitCode,
      oomKilled: info.State.OOMKilled,
      logTail: tail,
      stoppedByUser,
      memoryLimitBytes: info.HostConfig.Memory || undefined,
    });
    latest.exitCode = exitCode;
    latest.oomKilled = info.State.OOMKilled;
    latest.finishedAt = info.State.FinishedAt || new Date().toISOString();
    latest.state = stoppedByUser ? 'stopped' : exitCode === 0 ? 'succeeded' : 'failed';
    latest.explanation = failure?.message ?? null;
    await this.store.writeRecord(latest);
    this.log(`run ${record.id}: ${latest.state}, exit ${exitCode}${latest.oomKilled ? ' (OOMKilled)' : ''}`);
    return latest;
  }

  private async containerGone(record: RunRecord): Promise<RunRecord> {
    const latest = (await this.store.readRecord(record.id)) ?? record;
    if (isFinished(latest)) return latest;
    latest.state = latest.stopRequestedAt !== null ? 'stopped' : 'failed';
    latest.finishedAt = new Date().toISOString();
    latest.explanation =
      'The container was removed before its end was recorded: its log up to then is kept in log.txt.';
    await this.store.writeRecord(latest);
    return latest;
  }

  /** Stops a run (SIGTERM, then SIGKILL after `timeoutS`); its record says it was stopped, not failed. */
  async stop(runId: string, timeoutS = 10): Promise<RunRecord> {
    const found = await this.store.findRecord(runId);
    if (isFinished(found) || !found.containerId) return found;
    const docker = await this.connect();
    // read again just before writing: the run may have ended meanwhile (its follower wrote how)
    const record = (await this.store.readRecord(found.id)) ?? found;
    if (isFinished(record) || !record.containerId) return record;
    // the container is checked to be this run's before anything is written or sent
    const own = await runContainer(docker, record, this.store.root);
    record.stopRequestedAt = new Date().toISOString();
    await this.store.writeRecord(record);
    if (own === 'gone') return this.containerGone(record);
    try {
      await own.container.stop({ t: timeoutS });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 304 && status !== 404) throw engineError(err);
    }
    return this.refresh(record.id);
  }

  /**
   * Removes a run's container after saving its whole log; the record and log stay. A running run is stopped first.
   */
  async removeContainer(runId: string): Promise<RunRecord> {
    let record = await this.store.findRecord(runId);
    if (!record.containerId) return record;
    const docker = await this.connect();
    const own = await runContainer(docker, record, this.store.root);
    if (!isFinished(record)) record = await this.stop(record.id);
    if (own !== 'gone') {
      try {
        await this.saveLog(record.id, own.container);
        await own.container.remove({ force: true, v: true });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) {
          throw engineError(err);
        }
      }
    }
    record = (await this.store.readRecord(record.id)) ?? record;
    record.containerId = null;
    await this.store.writeRecord(record);
    return record;
  }

  /** Deletes a finished run's record and log (its container must be gone). */
  async deleteRecord(runId: string): Promise<void> {
    const record = await this.store.findRecord(runId);
    if (record.containerId) {
      // a record naming a container that is not its run's is deleted alone: that container is left as it is
      await this.removeContainer(record.id).catch((err: unknown) => {
        if (!(err instanceof ForeignContainerError)) throw err;
        this.log(`run ${record.id}: ${err.message}`);
      });
    }
    await this.store.removeRunDir(record.id);
  }

  /** Brings a record up to date with its container (for runs nobody follows: detached, or another window's). */
  async refresh(runId: string): Promise<RunRecord> {
    const record = await this.store.findRecord(runId);
    if (isFinished(record) || !record.containerId) return record;
    const docker = await this.connect();
    const own = await runContainer(docker, record, this.store.root);
    if (own === 'gone') return this.containerGone(record);
    const { container, info } = own;
    if (info.State.Running || info.State.Status === 'created' || info.State.Restarting) return record;
    if (this.following.has(record.id)) return this.following.get(record.id)!;
    await this.saveLog(record.id, container);
    return this.finish(record, container);
  }

  /**
   * Every run of the project: the records, brought up to date, plus our containers on the engine that have no record
   * (a record deleted by hand, or written on another machine), which get one.
   */
  async list(options: { refresh?: boolean; warn?: (message: string) => void } = {}): Promise<RunRecord[]> {
    const records = await this.store.listRecords(options.warn);
    const known = new Set(records.map((r) => r.id));
    const docker = await this.connect();
    const containers = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABELS.run}`, `${LABELS.project}=${this.store.root}`] }),
    });
    for (const c of containers) {
      const id = c.Labels[LABELS.run];
      if (!id || known.has(id)) continue;
      const adopted = await this.adoptContainer(c);
      if (adopted) records.push(adopted);
    }
    if (options.refresh === false) return records;
    const out: RunRecord[] = [];
    for (const r of records) {
      // a record that cannot be brought up to date (its container is not its run's, …) is listed as it is
      out.push(
        isFinished(r)
          ? r
          : await this.refresh(r.id).catch((err: unknown) => {
              options.warn?.(errorMessage(err));
              return r;
            }),
      );
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** Runs that were running when this process started (after a reload): follow each again. */
  async adoptRunning(options: FollowOptions = {}): Promise<RunRecord[]> {
    const runs = await this.list();
    const running = runs.filter((r) => r.state === 'running');
    for (const r of running) void this.follow(r.id, { signal: options.signal }).catch(() => undefined);
    return running;
  }

  private async adoptContainer(c: Docker.ContainerInfo): Promise<RunRecord | undefined> {
    const id = c.Labels[LABELS.run]!;
    let params: Record<string, string> = {};
    try {
      params = JSON.parse(c.Labels[LABELS.params] ?? '{}') as Record<string, string>;
    } catch {
      // a label we did not write: keep no parameters
    }
    const record = newRecord({
      id,
      project: this.store.root,
      // adopted: refresh() below records how it ended
      state: 'running',
      containerId: c.Id,
      containerName: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      imageId: c.ImageID,
      sweepId: c.Labels[LABELS.sweep] ?? null,
      params,
      createdAt: new Date(c.Created * 1000).toISOString(),
      host: await this.host(),
    });
    try {
      await this.store.writeRecord(record);
    } catch (err) {
      this.log(`cannot record the adopted run ${id}: ${errorMessage(err)}`);
      return undefined;
    }
    return record;
  }

  /**
   * The engine's follow stream can end before the log does (seen with engine 20.10 on fast output): once the container
   * has stopped, compare the end of log.txt with the engine's last lines and, when they differ, save the whole log
   * again and pass on what the stream missed.
   */
  private async completeLog(
    runId: string,
    container: Docker.Container,
    onOutput?: (chunk: Buffer) => void,
  ): Promise<void> {
    const file = this.store.logFile(runId);
    const last = (await container.logs({ follow: false, stdout: true, stderr: true, tail: 100 })) as unknown as Buffer;
    const size = await fsp.stat(file).then(
      (st) => st.size,
      () => 0,
    );
    if (
      last.length === 0 ||
      (size >= last.length && (await this.store.readLogTail(runId, last.length)) === last.toString('utf8'))
    ) {
      return;
    }
    const whole = (await container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
    if (whole.length <= size) return;
    this.log(`run ${runId}: the engine's log stream ended early; saved the whole log (${whole.length} bytes) again`);
    await this.writeLogAtomic(runId, whole);
    onOutput?.(whole.subarray(size));
  }

  private async writeLogAtomic(runId: string, buf: Buffer): Promise<void> {
    await this.store.writeLog(runId, buf);
  }

  /**
   * Writes the container's whole log to log.txt (atomically), e.g. before the container is removed; never replaces a
   * longer log (the engine may have rotated away the start of a long one).
   */
  async saveLog(runId: string, container?: Docker.Container): Promise<void> {
    const record = await this.store.findRecord(runId);
    if (!container) {
      if (!record.containerId) return;
      const own = await runContainer(await this.connect(), record, this.store.root);
      if (own === 'gone') return;
      container = own.container;
    }
    const buf = (await container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
    const size = await fsp.stat(this.store.logFile(record.id)).then(
      (st) => st.size,
      () => -1,
    );
    if (buf.length >= size) await this.writeLogAtomic(record.id, buf);
  }

  /** The end of a run's saved log (at most `bytes`). */
  async logTail(runId: string, bytes = LOG_TAIL_BYTES): Promise<string> {
    return this.store.readLogTail(runId, bytes);
  }

  private async connect(): Promise<Docker> {
    try {
      return await this.client.docker();
    } catch (err) {
      throw engineError(err);
    }
  }
}

/** How long a refused ulimit is remembered for an engine (then asked for again: the engine may have been fixed). */
const REFUSED_ULIMIT_TTL_MS = 24 * 3600 * 1000;
const refusedInProcess = new Map<string, Set<string>>();

function refusedUlimitsFile(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ml-containers', 'refused-ulimits.json');
}

type RefusedCache = Record<string, Record<string, string>>;

/** The ulimits the engine at `dockerHost` refused within the last day (in this process, or recorded by another). */
async function refusedUlimits(dockerHost: string): Promise<Set<string>> {
  const known = refusedInProcess.get(dockerHost);
  if (known) return known;
  const set = new Set<string>();
  try {
    const cache = JSON.parse(await fsp.readFile(refusedUlimitsFile(), 'utf8')) as RefusedCache;
    for (const [name, at] of Object.entries(cache[dockerHost] ?? {})) {
      if (Date.now() - Date.parse(at) < REFUSED_ULIMIT_TTL_MS) set.add(name);
    }
  } catch {
    // no cache yet, or unreadable: ask the engine
  }
  refusedInProcess.set(dockerHost, set);
  return set;
}

async function rememberRefusedUlimit(dockerHost: string, name: string): Promise<void> {
  (await refusedUlimits(dockerHost)).add(name);
  const file = refusedUlimitsFile();
  try {
    let cache: RefusedCache = {};
    try {
      cache = JSON.parse(await fsp.readFile(file, 'utf8')) as RefusedCache;
    } catch {
      cache = {};
    }
    cache[dockerHost] = { ...cache[dockerHost], [name]: new Date().toISOString() };
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(cache, null, 2)}\n`);
  } catch {
    // a cache we cannot write only costs the next process one retry
  }
}

const RLIMIT_NAMES: Record<string, string> = { '3': 'stack', '7': 'nofile', '8': 'memlock' };

/** The ulimit an engine refused to set (`error setting rlimit type 8: operation not permitted`), if that was the error. */
function droppableUlimit(
  err: unknown,
  ulimits: NonNullable<Docker.HostConfig['Ulimits']>,
): NonNullable<Docker.HostConfig['Ulimits']>[number] | undefined {
  const m =
    /error setting rlimits? (?:for ready process: error setting rlimit )?type (\d+): operation not permitted/.exec(
      explainEngineError(err).detail,
    );
  const name = m ? RLIMIT_NAMES[m[1]!] : undefined;
  return name ? ulimits.find((u) => u.Name === name) : undefined;
}

function publishedPorts(info: Docker.ContainerInspectInfo): Record<string, number> {
  const out: Record<string, number> = {};
  const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, { HostPort: string }[] | null>;
  for (const [key, bindings] of Object.entries(ports)) {
    const hostPort = Number(bindings?.[0]?.HostPort);
    if (Number.isInteger(hostPort) && hostPort > 0) out[key.replace(/\/tcp$/, '')] = hostPort;
  }
  return out;
}

/** Groups small chunks into one of up to `maxBytes`, or whatever came within `maxMs`; calls `onChunk` per group. */
function batchChunks(maxBytes: number, maxMs: number, onChunk?: (chunk: Buffer) => void): Transform {
  let parts: Buffer[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const take = (): Buffer | undefined => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (bytes === 0) return undefined;
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    parts = [];
    bytes = 0;
    onChunk?.(out);
    return out;
  };
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      bytes += chunk.length;
      if (bytes >= maxBytes) return done(null, take());
      timer ??= setTimeout(() => {
        const out = take();
        if (out) t.push(out);
      }, maxMs);
      done();
    },
    flush(done) {
      done(null, take());
    },
  });
  return t;
}

/** A run record with the defaults of a run that has not started yet. */
function newRecord(
  fields: Pick<RunRecord, 'id' | 'project' | 'containerName' | 'image' | 'host'> & Partial<RunRecord>,
): RunRecord {
  return {
    projectName: path.basename(fields.project),
    state: 'created',
    containerId: null,
    imageId: null,
    repoDigests: [],
    command: [],
    gpus: { kind: 'none' },
    mountWorkspace: false,
    requestedPorts: [],
    ports: {},
    sweepId: null,
    params: {},
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    stopRequestedAt: null,
    exitCode: null,
    oomKilled: false,
    explanation: null,
    warnings: [],
    ...fields,
  };
}
