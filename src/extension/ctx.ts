import type * as vscode from 'vscode';
import { Config } from './config';
import { Doctor } from './doctor/doctor';
import { Log } from './log';
import { ProjectModel } from './project/projectModel';
import { RunsModel } from './runs/runsModel';
import { GpuStatusBar } from './statusBar/gpuStatusBar';

/**
 * Everything the extension's parts share, created once in activate() by Ctx.create: the log, the settings, the project
 * and runs models, the doctor, the GPU status bar item, and the subscriptions that dispose them with the extension.
 * Each part is given only the parts it uses, and only once they are built.
 */
export class Ctx {
  private constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: Log,
    readonly config: Config,
    readonly project: ProjectModel,
    readonly doctor: Doctor,
    readonly runs: RunsModel,
    readonly statusBar: GpuStatusBar,
  ) {}

  /** Builds each part in order, handing it the parts it uses; all are disposed with the extension. */
  static create(extension: vscode.ExtensionContext): Ctx {
    const log = new Log();
    const config = new Config();
    const project = new ProjectModel(config, log);
    const doctor = new Doctor({ config, log, project, extension });
    const runs = new RunsModel({ config, log, doctor });
    const statusBar = new GpuStatusBar({ config, log, doctor, runs, extension });
    extension.subscriptions.push(log, project, doctor, runs, statusBar);
    return new Ctx(extension, log, config, project, doctor, runs, statusBar);
  }

  get subscriptions(): vscode.Disposable[] {
    return this.extension.subscriptions;
  }
}
