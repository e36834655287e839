import * as vscode from 'vscode';
import { type OutlineNode, profileOutline } from '../../core/detect/outline';
import type { FolderProfile, ProjectModel } from '../project/projectModel';
import { ModelTreeProvider } from './modelTree';

/** A node of the ML Project view: a workspace folder (multi-root only) or a node of a profile's outline. */
export type ProjectViewNode =
  { type: 'folder'; folder: FolderProfile } | { type: 'outline'; folder: FolderProfile; node: OutlineNode };

export const PROJECT_VIEW_ID = 'mlContainers.project';

/** Renders each workspace folder's ProjectProfile; every item with evidence opens its file at its line. */
export class ProjectViewProvider extends ModelTreeProvider<ProjectViewNode> {
  constructor(private readonly model: ProjectModel) {
    super(model);
  }

  getChildren(element?: ProjectViewNode): ProjectViewNode[] {
    if (!element) {
      const folders = this.model.all;
      if (folders.length === 1) return this.outline(folders[0]!);
      return folders.map((folder) => ({ type: 'folder', folder }));
    }
    if (element.type === 'folder') return this.outline(element.folder);
    return element.node.children.map((node) => ({ type: 'outline', folder: element.folder, node }));
  }

  private outline(folder: FolderProfile): ProjectViewNode[] {
    return profileOutline(folder.profile).map((node) => ({ type: 'outline', folder, node }));
  }

  getTreeItem(element: ProjectViewNode): vscode.TreeItem {
    if (element.type === 'folder') {
      const item = new vscode.TreeItem(element.folder.folder.name, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = new vscode.ThemeIcon('root-folder');
      item.id = element.folder.folder.uri.toString();
      return item;
    }
    const { node, folder } = element;
    const collapsible =
      node.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : node.kind === 'field' && ['frameworks', 'entrypoints', 'warnings'].includes(node.id)
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = `${folder.folder.uri.toString()}#${node.id}`;
    if (node.description !== undefined) item.description = node.description;
    item.tooltip = node.tooltip ?? (node.open ? `${node.label}\n${node.open.file}:${node.open.line}` : node.label);
    item.iconPath = new vscode.ThemeIcon(
      node.icon,
      node.kind === 'warning' ? new vscode.ThemeColor('problemsWarningIcon.foreground') : undefined,
    );
    item.contextValue = `mlContainers.${node.kind}`;
    if (node.open) {
      item.command = {
        command: 'mlContainers.openEvidence',
        title: 'Open Evidence',
        arguments: [vscode.Uri.joinPath(folder.folder.uri, node.open.file), node.open.line],
      };
    }
    return item;
  }
}

export function registerProjectView(model: ProjectModel): {
  provider: ProjectViewProvider;
  disposable: vscode.Disposable;
} {
  const provider = new ProjectViewProvider(model);
  const view = vscode.window.createTreeView(PROJECT_VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  // the first time the view is shown, make sure something has been detected
  const onVisible = view.onDidChangeVisibility((e) => {
    if (e.visible) void model.ensure().catch(() => undefined);
  });
  return { provider, disposable: vscode.Disposable.from(view, onVisible) };
}
