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

  /** Fires `listener` when a setting under `mlContainers.<prefix>` changes. */
  onDidChange(prefix: string, listener: () => void): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Config.section}.${prefix}`)) listener();
    });
  }
}
