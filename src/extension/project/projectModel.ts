import * as vscode from 'vscode';
import { CancellationError, isCancellation } from '../../core/util/errors';
import type { ProjectProfile } from '../../core/detect/types';
import { summarizeProfile } from '../../core/detect/format';
import type { Config } from '../config';
import { heavy } from '../heavy';
import type { Log } from '../log';

/** Files whose change can change the profile (the same names activation watches, plus code and notebooks). */
export const WATCH_GLOB =
  '**/{*.py,*.ipynb,requirements*.txt,pyproject.toml,environment.yml,environment.yaml,Pipfile,setup.cfg,uv.lock,poetry.lock,Dockerfile*,devcontainer.json,.python-version,runtime.txt,*.sh,Makefile,README*,.gitignore}';

export const CONTEXT = {
  isTrainingProject: 'mlContainers.isTrainingProject',
  detected: 'mlContainers.detected',
} as const;

export interface FolderProfile {
  folder: vscode.WorkspaceFolder;
  profile: ProjectProfile;
}

/**
 * The detected profile of each workspace folder. Detection runs lazily (after activation, never during it), again
 * when a project file changes (debounced), and when asked; a newer run cancels an older one.
 */
export class ProjectModel implements vscode.Disposable {
  private readonly profiles = new Map<string, FolderProfile>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private running: AbortController | undefined;
  private current: Promise<FolderProfile[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Context keys as last set (VS Code offers no way to read them back). */
  readonly contextKeys = new Map<string, unknown>();

  constructor(
    private readonly config: Pick<Config, 'detection' | 'onDidChange'>,
    private readonly log: Pick<Log, 'debug' | 'info' | 'warn' | 'error'>,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(WATCH_GLOB);
    const onFile = (uri: vscode.Uri): void => {
      if (uri.path.includes('/.git/') || uri.path.includes('/node_modules/') || uri.path.includes('/.ml-containers/')) {
        return;
      }
      this.log.debug(`project file changed: ${uri.fsPath}`);
      this.schedule();
    };
    this.disposables.push(
      watcher,
      watcher.onDidChange(onFile),
      watcher.onDidCreate(onFile),
      watcher.onDidDelete(onFile),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.schedule()),
      config.onDidChange('detection', () => this.schedule()),
    );
  }

  /** All folders' profiles, as last detected. */
  get all(): FolderProfile[] {
    return [...this.profiles.values()];
  }

  /** Detects again after the debounce delay; repeated calls within the delay collapse into one run. */
  schedule(delayMs = this.config.detection.debounceMs): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh().catch((err: unknown) => {
        if (!isCancellation(err)) this.log.error('Detection failed', err); // a newer detection replaced it
      });
    }, delayMs);
  }

  /** Detects every workspace folder now (cancelling a run in progress) and returns the profiles. */
  refresh(): Promise<FolderProfile[]> {
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    const run = this.detectAll(controller.signal).finally(() => {
      if (this.running === controller) this.running = undefined;
    });
    this.current = run;
    return run;
  }

  /** The profiles, detecting first if nothing has been detected yet or a run is in progress. */
  async ensure(): Promise<FolderProfile[]> {
    if (this.current) {
      try {
        return await this.current;
      } catch (err) {
        if (!isCancellation(err)) throw err;
      }
    }
    return this.profiles.size > 0 ? this.all : this.refresh();
  }

  private async detectAll(signal: AbortSignal): Promise<FolderProfile[]> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const opts = this.config.detection;
    const results: FolderProfile[] = [];
    // loaded on first use: the parsers cost tens of milliseconds to load, which activation must not pay
    const { detectProject } = heavy();
    for (const folder of folders) {
      const t0 = Date.now();
      const profile = await detectProject(folder.uri.fsPath, { ...opts, signal });
      this.log.info(`Detected ${folder.name}: ${summarizeProfile(profile)} in ${Date.now() - t0} ms`);
      for (const w of profile.warnings) this.log.warn(`${folder.name}/${w.file}: ${w.message}`);
      results.push({ folder, profile });
    }
    if (signal.aborted) throw new CancellationError();
    this.profiles.clear();
    for (const r of results) this.profiles.set(r.folder.uri.toString(), r);
    await this.setContext(
      CONTEXT.isTrainingProject,
      results.some((r) => r.profile.isTrainingProject),
    );
    await this.setContext(CONTEXT.detected, true);
    this.changed.fire();
    return results;
  }

  private async setContext(key: string, value: unknown): Promise<void> {
    this.contextKeys.set(key, value);
    await vscode.commands.executeCommand('setContext', key, value);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.running?.abort();
    for (const d of this.disposables) d.dispose();
  }
}
