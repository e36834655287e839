import * as vscode from 'vscode';
import type { ClusterJobRecord, KubectlTarget } from '../../../core/k8s/cluster';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import { OutputTerminal } from '../../runs/terminal';
import { command } from '../command';

/** Follow Logs of a cluster job (from the Training Runs view: the job, or its tree item). */
export const followClusterJobCommand = command<'config'>(
  'mlContainers.runs.followClusterJob',
  (ctx) => (job?: ClusterJobRecord | { type: 'cluster'; job: ClusterJobRecord }) => {
    const j = job && 'type' in job ? job.job : job;
    return j ? followClusterJob(ctx, j) : undefined;
  },
);

/** Where kubectl goes by the settings: their context and namespace (a recorded job's own win over them). */
export function kubectlTarget(ctx: Pick<Ctx, 'config'>): KubectlTarget {
  const k = ctx.config.kubernetes;
  return { context: k.context || undefined, namespace: k.namespace || undefined, env: process.env };
}

/** The job's pod logs in a terminal, and what keeps its pods from running, if anything; resolves when they end. */
export async function followClusterJob(ctx: Pick<Ctx, 'config'>, job: ClusterJobRecord): Promise<OutputTerminal> {
  const term = new OutputTerminal(`Cluster: ${job.name}`, 'cloud');
  term.show();
  term.writeLine(`${job.kind} ${job.name}${job.context ? ` on ${job.context}` : ''}: following its pods' logs…`, 'dim');
  const end = await heavy().followClusterJob(job, kubectlTarget(ctx), term.signal, {
    line: (text) => term.writeLine(text),
    problem: (p) => {
      term.writeLine(p.message, 'error');
      void vscode.window.showWarningMessage(p.message);
    },
    failed: (message) => term.writeLine(message, 'error'),
  });
  if (end === 'ended') term.writeLine(`The logs of ${job.name} ended.`, 'dim');
  return term;
}
