import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineClient } from '../../core/docker/engine';
import type { ClusterJobRecord } from '../../core/k8s/cluster';
import type { Runner } from '../../core/runs/runner';
import type { SweepState } from '../../core/runs/sweep';
import type { RunRecord, RunSpec } from '../../core/runs/types';
import { errorMessage } from '../../core/util/errors';
import type { Config } from '../config';
import type { Doctor } from '../doctor/doctor';
import { heavy } from '../heavy';
import type { Log } from '../log';
import { OutputTerminal } from './terminal';

/** The runs and sweeps of one workspace folder. */
export interface FolderRuns {
  folder: vscode.WorkspaceFolder;
  runs: RunRecord[];
  sweeps: SweepState[];
  /** Jobs applied to a cluster from this folder. */
  clusterJobs: ClusterJobRecord[];
}

/** What the runs model uses of the extension: the engine setting, the log, and the doctor's host probes. */
export interface RunsModelDeps {
  readonly config: Pick<Config, 'dockerHost' | 'onDidChange'>;
  readonly log: Pick<Log, 'debug' | 'info' | 'warn' | 'showError'>;
  /** The probes that describe the host a run ran on (its driver and GPUs), recorded with each run. */
  readonly doctor: Pick<Doctor, 'probes'>;
}

/**
 * The Training Runs of the workspace: run records from each folder's `.ml-containers`, kept current through the
 * engine's event stream (not by polling). At start-up it adopts our containers that are still running (following
 * their logs again) and resumes sweeps whose window went away. Everything heavy loads on first use.
 */
export class RunsModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private client: EngineClient | undefined;
  private readonly runners = new Map<string, Runner>();
  private state: FolderRuns[] = [];
  /** The engine's problem, one sentence, when it could not be asked. */
  engineProblem: string | undefined;
  /** Aborted when the window goes away: follows and sweeps stop being supervised, the containers go on. */
  private readonly lifetime = new AbortController();
  /** Cancels a sweep this window supervises (stops its runs). */
  private readonly sweepCancels = new Map<string, AbortController>();
  private readonly sweepsDone = new Map<string, Promise<SweepState>>();
  /** Stops the event stream of the current engine (replaced when mlContainers.docker.host changes). */
  private events: AbortController | undefined;
  /** Adoption waits for a trusted workspace and a reachable engine. */
  private adoptPending = false;
  private readonly adoptedRuns = new Set<string>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: RunsModelDeps) {
    this.disposables.push(
      deps.config.onDidChange('docker.host', () => {
        this.client = undefined;
        this.runners.clear();
        // follow the new engine's events, and adopt what runs there
        if (this.events) {
          this.events.abort();
          this.events = undefined;
          this.watchEvents();
          this.adoptPending = true;
        }
        this.scheduleRefresh(100);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh(100)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.startUp()),
    );
  }

  get folders(): FolderRuns[] {
    return this.state;
  }

  /** A run's record as last seen. */
  find(runId: string): RunRecord | undefined {
    for (const f of this.state) {
      const r = f.runs.find((x) => x.id === runId);
      if (r) return r;
    }
    return undefined;
  }

  engine(): EngineClient {
    const { connectEngine } = heavy();
    this.client ??= connectEngine({ dockerHost: this.deps.config.dockerHost || undefined });
    return this.client;
  }

  /** The runner of a workspace folder (records in its `.ml-containers`). */
  runner(root: string): Runner {
    let r = this.runners.get(root);
    if (!r) {
      const { Runner: RunnerClass, RunStore, describeRunHost } = heavy();
      const client = this.engine();
      const gpuState = this.deps.doctor.probes().then((p) => p.probeHost());
      r = new RunnerClass({
        client,
        store: new RunStore(root),
        host: () => describeRunHost(client, gpuState),
        log: (m) => this.deps.log.debug(m),
      });
      this.runners.set(root, r);
    }
    return r;
  }

  /**
   * After activation: read every folder's runs, adopt the running ones, resume orphaned sweeps, and follow the
   * engine's events. Never during activation itself; nothing runs in an untrusted workspace.
   */
  async startUp(): Promise<void> {
    await this.refresh();
    if (!vscode.workspace.isTrusted) return; // granting trust calls this again
    this.watchEvents(); // retries with backoff while the engine is not there (Docker still starting)
    this.adoptPending = true;
    await this.adopt();
  }

  /** Follows our runs still running (from an earlier window) and resumes sweeps whose supervisor went away. */
  private async adopt(): Promise<void> {
    if (!this.adoptPending || this.engineProblem || !vscode.workspace.isTrusted) return;
    this.adoptPending = false;
    const { ownerAlive } = heavy();
    for (const f of this.state) {
      const runner = this.runner(f.folder.uri.fsPath);
      const inSweeps = new Set(
        f.sweeps.filter((s) => s.state === 'running').flatMap((s) => s.variants.map((v) => v.runId)),
      );
      for (const r of f.runs) {
        if (r.state !== 'running' || inSweeps.has(r.id) || this.adoptedRuns.has(r.id)) continue;
        this.adoptedRuns.add(r.id);
        this.deps.log.info(`Adopting run ${r.id} (${r.containerName}), still running`);
        void runner.follow(r.id, { signal: this.lifetime.signal }).then(
          () => this.scheduleRefresh(50),
          (err: unknown) => this.deps.log.warn(`Following run ${r.id} failed: ${errorMessage(err)}`),
        );
      }
      for (const s of f.sweeps) {
        if (s.state === 'running' && !ownerAlive(s) && !this.sweepsDone.has(s.id)) {
          this.deps.log.info(`Resuming sweep ${s.id} (${s.variants.length} runs) whose window went away`);
          void this.superviseSweep(f.folder.uri.fsPath, s);
        }
      }
    }
  }

  private watchEvents(): void {
    if (this.events) return;
    this.events = new AbortController();
    const stop = this.events;
    this.lifetime.signal.addEventListener('abort', () => stop.abort(), { once: true });
    const { watchRunEvents } = heavy();
    watchRunEvents(
      this.engine(),
      (e) => {
        this.deps.log.debug(`engine event ${e.action} for run ${e.runId}`);
        const root = e.project && this.state.find((f) => f.folder.uri.fsPath === e.project)?.folder.uri.fsPath;
        if (root && (e.action === 'die' || e.action === 'destroy')) {
          // a run nobody in this window follows (detached, another window's): record how it ended
          void this.runner(root)
            .refresh(e.runId)
            .catch(() => undefined)
            .finally(() => this.scheduleRefresh(100));
        } else this.scheduleRefresh(200);
      },
      stop.signal,
      (err) => this.deps.log.debug(`engine events: ${errorMessage(err)}`),
    );
  }

  scheduleRefresh(ms = 300): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, ms);
  }

  /** Reads every folder's run records and sweeps and brings running ones up to date with the engine. */
  async refresh(): Promise<FolderRuns[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const { RunStore, listSweeps, readClusterJobs } = heavy();
    const next: FolderRuns[] = [];
    let problem: string | undefined;
    for (const folder of folders) {
      const root = folder.uri.fsPath;
      const store = new RunStore(root);
      let runs: RunRecord[];
      try {
        runs = vscode.workspace.isTrusted ? await this.runner(root).list() : await store.listRecords();
      } catch (err) {
        problem = errorMessage(err);
        runs = await store.listRecords();
      }
      next.push({ folder, runs, sweeps: await listSweeps(store), clusterJobs: await readClusterJobs(store) });
    }
    this.state = next;
    this.engineProblem = problem;
    this.changed.fire();
    if (this.adoptPending && !problem) void this.adopt(); // the engine is back: adopt what runs there
    // while the engine cannot be reached (Docker still starting), look again now and then
    if (problem && vscode.workspace.isTrusted && !this.refreshTimer) this.scheduleRefresh(30_000);
    return next;
  }

  /** Starts a run and shows its output in a terminal; resolves once the container runs (or throws one sentence). */
  async start(
    root: string,
    spec: RunSpec,
    terminal: OutputTerminal | undefined,
  ): Promise<{ record: RunRecord; done: Promise<RunRecord> }> {
    const runner = this.runner(root);
    const started = await runner.start(spec, {
      onOutput: terminal ? (c) => terminal.writeRaw(c) : undefined,
      signal: this.lifetime.signal,
    });
    terminal?.writeLine(`Run ${started.record.id} started in ${started.record.containerName}.`, 'dim');
    for (const w of started.record.warnings) terminal?.writeLine(w, 'dim');
    const done = started.done.then((final) => {
      if (terminal && final.state !== 'running') {
        terminal.writeLine('');
        terminal.writeLine(
          final.explanation ?? `Run ${final.id} ${final.state} (exit code ${final.exitCode ?? '-'}).`,
          final.state === 'succeeded' ? 'dim' : 'error',
        );
      }
      this.scheduleRefresh(50);
      if (final.state === 'failed' && final.explanation) void this.deps.log.showError(final.explanation);
      return final;
    });
    this.scheduleRefresh(50);
    return { record: started.record, done };
  }

  /** Shows a run's log in a terminal: the saved log of a finished run, or the live stream of a running one. */
  async showLogs(record: RunRecord): Promise<OutputTerminal> {
    const runner = this.runner(record.project);
    const term = new OutputTerminal(`Run ${record.id}`, 'output');
    term.show();
    if (record.state === 'running' && record.containerId) {
      void runner
        .follow(record.id, { onOutput: (c) => term.writeRaw(c), signal: term.signal, writeLog: false })
        .then((final) => {
          if (final.state !== 'running') {
            term.writeLine('');
            term.writeLine(final.explanation ?? `Run ${final.id} ${final.state}.`, 'dim');
          }
        })
        .catch((err: unknown) => term.writeLine(errorMessage(err), 'error'));
    } else {
      try {
        // a regular file inside the project only (a FIFO or a link out of it is refused in one sentence)
        const log = await runner.store.readLog(record.id);
        if (log) term.writeRaw(log);
        else term.writeLine(`Run ${record.id} has no saved log.`, 'dim');
      } catch (err) {
        term.writeLine(errorMessage(err), 'error');
      }
      if (record.explanation) term.writeLine(record.explanation, record.state === 'failed' ? 'error' : 'dim');
    }
    return term;
  }

  /**
   * Supervises (or resumes) a sweep in the background, through the core's superviseSweep: Stop Sweep cancels it (its
   * runs stopped), the window going away detaches it (the runs go on, a later window resumes it); the view follows it.
   */
  superviseSweep(root: string, sweep: SweepState): Promise<SweepState> {
    const existing = this.sweepsDone.get(sweep.id);
    if (existing) return existing;
    const cancel = new AbortController();
    this.sweepCancels.set(sweep.id, cancel);
    const done = heavy()
      .superviseSweep(this.runner(root), sweep, {
        signal: cancel.signal,
        detach: this.lifetime.signal,
        onChange: () => this.scheduleRefresh(100),
      })
      .finally(() => {
        this.sweepCancels.delete(sweep.id);
        this.sweepsDone.delete(sweep.id);
        this.scheduleRefresh(50);
      });
    this.sweepsDone.set(sweep.id, done);
    done.catch((err: unknown) => this.deps.log.info(`Sweep ${sweep.id}: ${errorMessage(err)}`));
    return done;
  }

  /** Cancels a sweep this window supervises: its running runs are stopped, the queued ones never start. */
  cancelSweep(sweepId: string): boolean {
    const c = this.sweepCancels.get(sweepId);
    c?.abort();
    return c !== undefined;
  }

  isSupervised(sweepId: string): boolean {
    return this.sweepCancels.has(sweepId);
  }

  folderOf(record: RunRecord): vscode.WorkspaceFolder | undefined {
    return this.state.find((f) => path.resolve(f.folder.uri.fsPath) === path.resolve(record.project))?.folder;
  }

  dispose(): void {
    this.lifetime.abort();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
