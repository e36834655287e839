import * as vscode from 'vscode';
import type { ClusterJobRecord } from '../../core/k8s/cluster';
import { formatDuration, runLabel } from '../../core/runs/format';
import type { SweepState } from '../../core/runs/sweep';
import type { RunRecord } from '../../core/runs/types';
import type { FolderRuns, RunsModel } from '../runs/runsModel';
import { ModelTreeProvider } from './modelTree';

export const RUNS_VIEW_ID = 'mlContainers.runs';

/** A node of the Training Runs view. */
export type RunsViewNode =
  | { type: 'folder'; folder: FolderRuns }
  | { type: 'sweep'; sweep: SweepState; folder: FolderRuns }
  | { type: 'run'; record: RunRecord }
  | { type: 'cluster'; folder: FolderRuns }
  | { type: 'clusterJob'; job: ClusterJobRecord }
  | { type: 'message'; text: string; detail?: string };

const STATE_ICONS: Record<string, [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  created: ['circle-outline', undefined],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'disabledForeground'],
};

function gpuText(r: RunRecord): string {
  if (r.gpus.kind === 'none') return 'no GPU';
  if (r.gpus.kind === 'all') return 'all GPUs';
  return `GPU ${r.gpus.ids.join(',')}`;
}

/** Running, finished and failed runs with GPUs, duration and exit code; sweeps group their runs. */
export class RunsViewProvider extends ModelTreeProvider<RunsViewNode> {
  constructor(private readonly model: RunsModel) {
    super(model);
  }

  getChildren(element?: RunsViewNode): RunsViewNode[] {
    if (!element) {
      const head: RunsViewNode[] = this.model.engineProblem
        ? [{ type: 'message', text: 'Docker engine not reachable', detail: this.model.engineProblem }]
        : [];
      const folders = this.model.folders;
      if (folders.length === 1) return [...head, ...this.folderChildren(folders[0]!)];
      return [...head, ...folders.map((folder): RunsViewNode => ({ type: 'folder', folder }))];
    }
    if (element.type === 'folder') return this.folderChildren(element.folder);
    if (element.type === 'cluster') {
      return [...element.folder.clusterJobs].reverse().map((job): RunsViewNode => ({ type: 'clusterJob', job }));
    }
    if (element.type === 'sweep') {
      // in the sweep's own order (its grid), which run ids started in the same second do not keep
      const order = new Map(element.sweep.variants.map((v) => [v.runId, v.index]));
      const at = (r: RunRecord): number => order.get(r.id) ?? Number.MAX_SAFE_INTEGER;
      return element.folder.runs
        .filter((r) => r.sweepId === element.sweep.id)
        .sort((a, b) => at(a) - at(b) || (a.id < b.id ? -1 : 1))
        .map((record) => ({ type: 'run', record }));
    }
    return [];
  }

  private folderChildren(folder: FolderRuns): RunsViewNode[] {
    const sweeps = new Set(folder.sweeps.map((s) => s.id));
    return [
      ...(folder.clusterJobs.length > 0 ? [{ type: 'cluster', folder } as RunsViewNode] : []),
      ...folder.sweeps.map((sweep): RunsViewNode => ({ type: 'sweep', sweep, folder })),
      ...folder.runs
        .filter((r) => !r.sweepId || !sweeps.has(r.sweepId))
        .map((record): RunsViewNode => ({ type: 'run', record })),
    ];
  }

  getTreeItem(element: RunsViewNode): vscode.TreeItem {
    switch (element.type) {
      case 'message': {
        const item = new vscode.TreeItem(element.text);
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.tooltip = element.detail;
        item.description = element.detail;
        item.contextValue = 'mlContainers.engineProblem';
        return item;
      }
      case 'folder': {
        const item = new vscode.TreeItem(element.folder.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('root-folder');
        item.id = element.folder.folder.uri.toString();
        return item;
      }
      case 'sweep':
        return this.sweepItem(element.sweep);
      case 'cluster': {
        const item = new vscode.TreeItem('Cluster jobs', vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon('cloud');
        item.description = `${element.folder.clusterJobs.length}`;
        item.id = `cluster:${element.folder.folder.uri.toString()}`;
        return item;
      }
      case 'clusterJob': {
        const j = element.job;
        const item = new vscode.TreeItem(j.name);
        item.id = `clusterJob:${j.context ?? ''}/${j.namespace ?? ''}/${j.name}`;
        item.description = `${j.kind}${j.context ? ` · ${j.context}` : ''} · ${new Date(j.appliedAt).toLocaleString()}`;
        item.tooltip = `${j.kind} ${j.name}\nImage: ${j.image}\nApplied: ${j.appliedAt}`;
        item.iconPath = new vscode.ThemeIcon('cloud');
        item.contextValue = 'mlContainers.clusterJob';
        item.command = { command: 'mlContainers.runs.followClusterJob', title: 'Follow Logs', arguments: [j] };
        return item;
      }
      case 'run':
        return this.runItem(element.record);
    }
  }

  private sweepItem(s: SweepState): vscode.TreeItem {
    const done = s.variants.filter((v) => ['succeeded', 'failed', 'stopped', 'not-started'].includes(v.state)).length;
    const ok = s.variants.filter((v) => v.state === 'succeeded').length;
    const running = s.variants.filter((v) => v.state === 'running').length;
    const item = new vscode.TreeItem(`Sweep ${s.id.replace(/^sweep-/, '')}`, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = s.id;
    item.description =
      s.state === 'running'
        ? `${done}/${s.variants.length} done · ${running} running`
        : `${s.state} · ${ok}/${s.variants.length} succeeded`;
    const [icon, color] = STATE_ICONS[s.state === 'cancelled' ? 'stopped' : s.state] ?? ['circle-outline', undefined];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const md = new vscode.MarkdownString(
      `**Sweep ${s.id}** (${s.file})\n\n${s.variants.length} runs of \`${s.image}\`, at most ${s.maxParallel} at a time` +
        `${s.gpusPerRun ? `, ${s.gpusPerRun} GPU(s) each` : ', no GPUs'}.` +
        (s.explanation ? `\n\n${s.explanation}` : ''),
    );
    item.tooltip = md;
    item.contextValue = `mlContainers.sweep${s.state === 'running' ? ' running' : ''}`;
    return item;
  }

  private runItem(r: RunRecord): vscode.TreeItem {
    const item = new vscode.TreeItem(runLabel(r));
    item.id = `run:${r.id}`;
    const bits = [r.state, gpuText(r), formatDuration(r)];
    // "succeeded" already says exit 0
    if (r.exitCode !== null && r.exitCode !== 0) bits.push(`exit ${r.exitCode}`);
    item.description = bits.filter((b) => b).join(' · ');
    const [icon, color] = STATE_ICONS[r.state] ?? ['circle-outline', undefined];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**Run ${r.id}** — ${r.state}\n\n`);
    md.appendMarkdown(`- Command: \`${r.command.join(' ') || '(the image entry point)'}\`\n`);
    md.appendMarkdown(`- Image: \`${r.image}\`${r.imageId ? ` (${r.imageId.slice(0, 19)})` : ''}\n`);
    md.appendMarkdown(`- GPUs: ${gpuText(r)}\n`);
    md.appendMarkdown(`- Container: \`${r.containerName}\`${r.containerId ? '' : ' (removed)'}\n`);
    if (r.startedAt) md.appendMarkdown(`- Started: ${new Date(r.startedAt).toLocaleString()}\n`);
    if (r.exitCode !== null) md.appendMarkdown(`- Exit code: ${r.exitCode}${r.oomKilled ? ' (OOMKilled)' : ''}\n`);
    if (r.explanation) md.appendMarkdown(`\n${r.explanation}\n`);
    for (const w of r.warnings) md.appendMarkdown(`\n$(warning) ${w}\n`);
    md.supportThemeIcons = true;
    item.tooltip = md;
    const tokens = ['mlContainers.run', r.state];
    if (r.containerId) tokens.push('hasContainer');
    if (Object.keys(r.ports).length > 0 && r.state === 'running') tokens.push('hasPorts');
    item.contextValue = tokens.join(' ');
    item.command = {
      command: 'mlContainers.runs.viewLogs',
      title: 'View Logs',
      arguments: [{ type: 'run', record: r }],
    };
    return item;
  }
}

export function registerRunsView(model: RunsModel): { provider: RunsViewProvider; disposable: vscode.Disposable } {
  const provider = new RunsViewProvider(model);
  const view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  return { provider, disposable: view };
}
