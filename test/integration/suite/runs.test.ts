// Training runs in the real editor, on the test run's real Docker engine (DOCKER_HOST): Run Training starts a
// container whose output reaches a terminal and whose record appears in the Training Runs view; the view's actions
// (View Logs, Stop, Remove) work; a GPU request on this GPU-less engine fails with the clear sentence; a sweep
// becomes a node with its runs.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { sweepSpecFor } from '../../../src/core/runs/prepare';
import { newSweep, parseSweepFile, readSweep, runSweep, type SweepState } from '../../../src/core/runs/sweep';
import type { RunRecord } from '../../../src/core/runs/types';
import type { MlContainersApi } from '../../../src/extension/extension';
import type { OutputTerminal } from '../../../src/extension/runs/terminal';
import type { RunsViewNode } from '../../../src/extension/views/runsView';
import { until } from '../../support/wait';

const EXTENSION_ID = 'ml-containers.ml-containers';
/** Built by scripts/docker-engine-up.sh (MLC_DEBIAN_PYTHON=1) before the engine tier. */
const IMAGE = 'mlc-test/debian-python:bookworm';
const api = async (): Promise<MlContainersApi> =>
  vscode.extensions.getExtension<MlContainersApi>(EXTENSION_ID)!.activate();
const root = (): string => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

const TRAINER = `import json, sys, time
print('argv=' + json.dumps(sys.argv[1:]), flush=True)
steps = int(sys.argv[sys.argv.index('--steps') + 1]) if '--steps' in sys.argv else 3
for step in range(steps):
    sys.stdout.write('\\rstep %d/%d' % (step + 1, steps)); sys.stdout.flush(); time.sleep(0.05)
    print('\\n\\x1b[32mloss=%.3f\\x1b[0m' % (1.0 / (step + 1)), flush=True)
`;

describe('Training runs in the editor (real engine)', function () {
  this.timeout(120_000);
  let a: MlContainersApi;

  before(async function () {
    if (!process.env.DOCKER_HOST) {
      throw new Error('DOCKER_HOST is not set: the runs tests need the test engine (run them through `npm test`).');
    }
    a = await api();
    fs.writeFileSync(path.join(root(), 'fake_train.py'), TRAINER);
  });
  after(async () => {
    const runner = a.ctx.runs.runner(root());
    for (const r of await runner.list()) await runner.deleteRecord(r.id).catch(() => undefined);
    fs.rmSync(path.join(root(), 'fake_train.py'), { force: true });
    fs.rmSync(path.join(root(), 'sweep.yaml'), { force: true });
  });

  const runNodes = (): Extract<RunsViewNode, { type: 'run' }>[] =>
    a.runsView.getChildren().filter((n): n is Extract<RunsViewNode, { type: 'run' }> => n.type === 'run');

  it('Run Training streams the output to a terminal and the run shows in the Training Runs view', async () => {
    const record = await vscode.commands.executeCommand<RunRecord>('mlContainers.runTraining', {
      command: ['python3', 'fake_train.py', '--lr', '; rm -rf /', '$(id)'],
      image: IMAGE,
      gpus: 'none',
    });
    assert.ok(record, 'Run Training returned no run (see the notification / logs)');
    const final = await until('the run to finish', async () => {
      const r = await a.ctx.runs.runner(root()).store.readRecord(record.id);
      return r && r.state !== 'running' ? r : undefined;
    });
    assert.strictEqual(final.state, 'succeeded', JSON.stringify(final));
    assert.strictEqual(final.exitCode, 0);
    const log = fs.readFileSync(a.ctx.runs.runner(root()).store.logFile(record.id), 'utf8');
    // hostile values arrive literally, as separate arguments; \r progress and colours are kept in the log
    assert.ok(log.includes('argv=["--lr", "; rm -rf /", "$(id)"]'), log);
    assert.ok(log.includes('\rstep 2/3') && log.includes('\x1b[32mloss=0.500'), JSON.stringify(log));
    await a.ctx.runs.refresh();
    const node = await until('the run in the view', () => runNodes().find((n) => n.record.id === record.id));
    const item = a.runsView.getTreeItem(node);
    assert.strictEqual(item.label, 'python3 fake_train.py --lr ; rm -rf / $(id)');
    assert.match(String(item.description), /^succeeded · no GPU · \d+s$/);
    assert.match(String(item.contextValue), /mlContainers\.run succeeded hasContainer/);
    // View Logs on a finished run replays the saved log in a terminal
    const term = await vscode.commands.executeCommand<OutputTerminal>('mlContainers.runs.viewLogs', node);
    assert.ok(term.text.includes('loss=0.333'), term.text);
    // Remove: the container goes, the record and the log stay
    const removed = await vscode.commands.executeCommand<RunRecord>('mlContainers.runs.remove', node, {
      deleteRecord: false,
    });
    assert.strictEqual(removed.containerId, null);
    assert.ok(fs.existsSync(a.ctx.runs.runner(root()).store.logFile(record.id)));
  });

  it('Stop ends a running run with 143 and the view says stopped', async () => {
    const record = await vscode.commands.executeCommand<RunRecord>('mlContainers.runTraining', {
      command: ['python3', 'fake_train.py', '--steps', '100000'],
      image: IMAGE,
      gpus: 'none',
      showTerminal: false,
    });
    assert.ok(record);
    await a.ctx.runs.refresh();
    const node = await until('the running run in the view', () =>
      runNodes().find((n) => n.record.id === record.id && n.record.state === 'running'),
    );
    assert.match(String(a.runsView.getTreeItem(node).contextValue), /\brunning\b/);
    const stopped = await vscode.commands.executeCommand<RunRecord>('mlContainers.runs.stop', node);
    assert.strictEqual(stopped.state, 'stopped', JSON.stringify(stopped));
    assert.strictEqual(stopped.exitCode, 143);
    const after = await until('the view to show it stopped', () =>
      runNodes().find((n) => n.record.id === record.id && n.record.state === 'stopped'),
    );
    assert.match(String(a.runsView.getTreeItem(after).description), /^stopped · no GPU · .* · exit 143$/);
  });

  it('a GPU request on an engine without the NVIDIA runtime fails with the sentence that says what to do', async () => {
    const before = new Set((await a.ctx.runs.runner(root()).store.listRecords()).map((r) => r.id));
    const record = await vscode.commands.executeCommand<RunRecord | undefined>('mlContainers.runTraining', {
      command: ['python3', 'fake_train.py'],
      image: IMAGE,
      gpus: 'all',
      showTerminal: false,
    });
    assert.strictEqual(record, undefined, 'the run should not have started');
    const failed = (await a.ctx.runs.runner(root()).store.listRecords()).find((r) => !before.has(r.id));
    assert.ok(failed, 'no record of the failed start');
    assert.strictEqual(failed.state, 'failed');
    assert.match(failed.explanation ?? '', /cannot give containers a GPU.*NVIDIA Container Toolkit/);
    assert.strictEqual(failed.containerId, null);
  });

  it('Run Sweep runs every variant and the view groups them under the sweep', async () => {
    fs.writeFileSync(
      path.join(root(), 'sweep.yaml'),
      'command: python3 fake_train.py --lr {lr} --steps {steps}\ngrid: { lr: [0.1, 1e-3], steps: [1, 2] }\nmaxParallel: 2\n',
    );
    const sweep = await vscode.commands.executeCommand<SweepState>('mlContainers.runSweep', {
      file: 'sweep.yaml',
      image: IMAGE,
      gpus: 'none',
      wait: true,
    });
    assert.ok(sweep, 'Run Sweep returned nothing');
    assert.strictEqual(sweep.state, 'succeeded', JSON.stringify(sweep.variants));
    assert.deepStrictEqual(
      sweep.variants.map((v) => v.command.slice(2)),
      [
        ['--lr', '0.1', '--steps', '1'],
        ['--lr', '0.1', '--steps', '2'],
        ['--lr', '1e-3', '--steps', '1'],
        ['--lr', '1e-3', '--steps', '2'],
      ],
    );
    await a.ctx.runs.refresh();
    const node = a.runsView.getChildren().find((n) => n.type === 'sweep' && n.sweep.id === sweep.id);
    assert.ok(node, 'the sweep is not in the view');
    assert.match(String(a.runsView.getTreeItem(node).description), /^succeeded · 4\/4 succeeded$/);
    const children = a.runsView.getChildren(node);
    assert.strictEqual(children.length, 4);
    const labels = children.map((c) => String(a.runsView.getTreeItem(c).label));
    assert.deepStrictEqual(labels, ['lr=0.1 steps=1', 'lr=0.1 steps=2', 'lr=1e-3 steps=1', 'lr=1e-3 steps=2']);
    const summary = await vscode.commands.executeCommand<vscode.TextDocument>('mlContainers.runs.sweepSummary', node);
    assert.match(summary.getText(), /4 of 4 runs succeeded/);
    assert.match(summary.getText(), /loss=0\.500/);
  });
  it('a sweep survives a window reload: the next window resumes it and every variant runs once', async () => {
    const runner = a.ctx.runs.runner(root());
    const sweep = newSweep({
      project: root(),
      file: 'sweep-reload.yaml',
      sweep: parseSweepFile(
        'command: python3 fake_train.py --steps {steps}\ngrid: { steps: [1, 2, 3, 4] }\ngpusPerRun: 0\nmaxParallel: 2\n',
      ),
      image: IMAGE,
      gpus: [],
      mountWorkspace: true,
    });
    // the window that started it goes away once two runs are running (as on a reload: runs go on, queue stays)
    const gone = new AbortController();
    const first = runSweep(sweep, {
      runner,
      detach: gone.signal,
      specFor: await sweepSpecFor(sweep, root()),
      onChange: (s) => {
        if (s.variants.filter((v) => v.state === 'running' && v.runId).length >= 2) gone.abort();
      },
    });
    const detached = await first;
    assert.strictEqual(detached.owner, null);
    assert.ok(
      detached.variants.some((v) => v.state === 'queued'),
      JSON.stringify(detached.variants),
    );
    // the next window's start-up finds the orphaned sweep and resumes it
    await a.ctx.runs.startUp();
    const done = await until(
      'the resumed sweep to finish',
      async () => {
        const st = await readSweep(runner.store, sweep.id);
        return st && st.state !== 'running' ? st : undefined;
      },
      90_000,
      500,
    );
    assert.strictEqual(done.state, 'succeeded', JSON.stringify(done.variants));
    const runs = (await runner.store.listRecords()).filter((r) => r.sweepId === sweep.id);
    assert.strictEqual(runs.length, 4, 'a variant ran twice or not at all');
    assert.deepStrictEqual(runs.map((r) => r.params.steps).sort(), ['1', '2', '3', '4']);
  });
});
