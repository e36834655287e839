import type * as vscode from 'vscode';
import { Config } from './config';
import { Doctor } from './doctor/doctor';
import { Log } from './log';
import { ProjectModel } from './project/projectModel';
import { RunsModel } from './runs/runsModel';

/**
 * Everything the extension's parts share, created once in activate(): the log, the settings, the project model,
 * and the subscriptions that dispose them with the extension.
 */
export class Ctx {
  readonly log: Log;
  readonly config: Config;
  readonly project: ProjectModel;
  readonly doctor: Doctor;
  readonly runs: RunsModel;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = new Log();
    this.config = new Config();
    this.project = new ProjectModel(this.config, this.log);
    this.doctor = new Doctor(this);
    this.runs = new RunsModel(this);
    this.subscriptions.push(this.log, this.project, this.doctor, this.runs);
  }

  get subscriptions(): vscode.Disposable[] {
    return this.extension.subscriptions;
  }
}
