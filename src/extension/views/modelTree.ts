import * as vscode from 'vscode';

/** A model a tree shows: it says when it changed. */
export interface ChangingModel {
  onDidChange(listener: () => void): unknown;
}

/** A tree that shows a model and redraws itself whenever the model says it changed. */
export abstract class ModelTreeProvider<T> implements vscode.TreeDataProvider<T> {
  protected readonly changed = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  protected constructor(model: ChangingModel) {
    model.onDidChange(() => this.changed.fire(undefined));
  }

  abstract getChildren(element?: T): T[] | Promise<T[]>;
  abstract getTreeItem(element: T): vscode.TreeItem;
}
