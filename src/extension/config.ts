import * as vscode from 'vscode';
import type { DetectOptions } from '../core/detect';

/** The typed view of the `mlContainers.*` settings; read fresh each time (cheap, and never stale). */
export class Config {
  static readonly section = 'mlContainers';

  private get raw(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(Config.section);
  }

  get detection(): Required<Pick<DetectOptions, 'maxEntries' | 'maxBytesPerFile' | 'exclude'>> & {
    debounceMs: number;
  } {
    const c = this.raw;
    return {
      maxEntries: c.get<number>('detection.maxFiles', 200_000),
      maxBytesPerFile: c.get<number>('detection.maxBytesPerFile', 1024 * 1024),
      exclude: c.get<string[]>('detection.exclude', []),
      debounceMs: c.get<number>('detection.debounceMs', 1000),
    };
  }

  /** A specific nvidia-smi to use (its folder goes first on PATH for the probes), or '' for the PATH's. */
  get nvidiaSmiPath(): string {
    return this.raw.get<string>('gpu.nvidiaSmiPath', '');
  }

  /** A host folder of datasets that new dev containers bind-mount at /datasets ('' for none). */
  get datasetsPath(): string {
    return this.raw.get<string>('datasetsPath', '');
  }

  /** The Docker engine address (like DOCKER_HOST), or '' for DOCKER_HOST / the default socket. */
  get dockerHost(): string {
    return this.raw.get<string>('docker.host', '');
  }

  /** The GPU status bar item and the idle-GPU hint. */
  get statusBar(): {
    enabled: boolean;
    intervalMs: number;
    multiGpu: 'busiest' | 'average';
    idleHint: boolean;
    idleThresholdPct: number;
    idleMinutes: number;
  } {
    const c = this.raw;
    return {
      enabled: c.get<boolean>('statusBar.enabled', true),
      intervalMs: Math.max(250, c.get<number>('statusBar.intervalMs', 2000)),
      multiGpu: c.get<string>('statusBar.multiGpu', 'busiest') === 'average' ? 'average' : 'busiest',
      idleHint: c.get<boolean>('statusBar.idleHint', true),
      idleThresholdPct: c.get<number>('statusBar.idleThresholdPercent', 10),
      idleMinutes: c.get<number>('statusBar.idleMinutes', 2),
    };
  }

  /** Where "Generate Cluster Job" applies to: a kubeconfig context ('' for the current one), namespace, pull secret. */
  get kubernetes(): { context: string; namespace: string; imagePullSecret: string } {
    const c = this.raw;
    return {
      context: c.get<string>('kubernetes.context', ''),
      namespace: c.get<string>('kubernetes.namespace', ''),
      imagePullSecret: c.get<string>('kubernetes.imagePullSecret', ''),
    };
  }

  /** Fires `listener` when a setting under `mlContainers.<prefix>` changes. */
  onDidChange(prefix: string, listener: () => void): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Config.section}.${prefix}`)) listener();
    });
  }
}
