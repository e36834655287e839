import { DetectRootError } from '../../core/detect';
import { FRAMEWORKS, type Framework } from '../../core/detect/types';
import {
  type PlannedScaffold,
  type ScaffoldProjectOptions,
  type ScaffoldResult,
  scaffoldProject,
} from '../../core/operations/scaffold';
import { type ScaffoldMode, ScaffoldOptionError } from '../../core/scaffold/generate';
import { type PlannedFile, ScaffoldWriteError, unifiedDiff } from '../../core/scaffold/plan';
import { defineCommand, JSON_OPTION, ONE_FOLDER } from '../args';
import { type CliOptions, EXIT, type Io, type OptionValues, UsageError } from '../usage';

const scaffoldOptions = {
  'dry-run': { type: 'boolean', default: false },
  ...JSON_OPTION,
  force: { type: 'boolean', default: false },
  framework: { type: 'string' },
  cuda: { type: 'string' },
  python: { type: 'string' },
  'base-image': { type: 'string' },
  mode: { type: 'string', default: 'both' },
  datasets: { type: 'string' },
  'dockerfile-at': { type: 'string', default: 'devcontainer' },
} satisfies CliOptions;

export const scaffoldCommand = defineCommand({
  name: 'scaffold',
  summary:
    'Write a GPU-ready dev container and a dev/train Dockerfile for the project (edits, never overwrites silently).',
  usage: `ml-containers scaffold [DIR] [--dry-run] [--json] [--force] [--framework F] [--cuda X.Y] [--python X.Y]
                       [--base-image REF] [--mode dev|train|both] [--datasets PATH] [--dockerfile-at devcontainer|root]

  --dry-run                          print what would change, with diffs, and write nothing
  --json                             print the plan (files, actions, changes) as one JSON object
  --force                            also change files that exist (merge devcontainer.json, extend .dockerignore)
  --framework F                      build for this framework instead of the detected one, one of:
                                     ${FRAMEWORKS.join(', ')}
  --cuda X.Y                         the CUDA version of the image instead of the one the project suggests
  --python X.Y                       the Python version of the environment, e.g. 3.11
  --base-image REF                   the base image of the Dockerfile instead of the chosen one
  --mode dev|train|both              write the dev container, the training image's Dockerfile, or both (default)
  --datasets PATH                    an absolute host folder of datasets to mount at /datasets
  --dockerfile-at devcontainer|root  put the Dockerfile in .devcontainer/ (default) or at the project root

  Writes .devcontainer/devcontainer.json, .devcontainer/Dockerfile (or ./Dockerfile) and .dockerignore. An existing
  devcontainer.json is merged (comments and keys kept) and an existing .dockerignore extended, but only with --force;
  without it the command lists what it would change and exits 1. --dry-run prints the diffs and writes nothing.`,
  options: scaffoldOptions,
  operands: ONE_FOLDER,
  async run({ values: v, positionals }, io) {
    const shown: Shown = { dryRun: v['dry-run'] ?? false, json: v.json ?? false };
    let planned: PlannedScaffold | undefined;
    try {
      const result = await scaffoldProject(optionsOf(positionals[0] ?? '.', v), undefined, {
        planned: (p) => {
          planned = p;
          for (const w of p.warnings) io.err(`ml-containers scaffold: ${w}`);
        },
        // without --force the changes to existing files are listed, not written; the new files are written
        confirm: () => Promise.resolve(v.force ? 'apply' : 'keep'),
      });
      return finish(io, result, shown);
    } catch (err) {
      // every option reaches a generated file: the core refuses what it cannot write safely, in one sentence
      if (err instanceof ScaffoldOptionError) throw new UsageError(err.message);
      if (err instanceof DetectRootError) return failed(io, `${err.message} Pass the folder of a project.`);
      if (!(err instanceof ScaffoldWriteError) || planned === undefined) throw err;
      show(io, planned, err.written, shown);
      return failed(io, err.message);
    }
  },
});

type ScaffoldFlags = OptionValues<typeof scaffoldOptions>;

/** The operation's options from the flags. */
function optionsOf(dir: string, v: ScaffoldFlags): ScaffoldProjectOptions {
  return {
    projectRoot: dir,
    dryRun: v['dry-run'],
    framework: v.framework as Framework | undefined,
    cuda: v.cuda,
    python: v.python,
    baseImage: v['base-image'],
    datasetsPath: v.datasets,
    mode: v.mode as ScaffoldMode,
    dockerfileAt: v['dockerfile-at'] as 'devcontainer' | 'root',
  };
}

interface Shown {
  dryRun: boolean;
  json: boolean;
}

const failed = (io: Io, sentence: string): number => {
  io.err(`ml-containers scaffold: ${sentence}`);
  return EXIT.failure;
};

/** Shows the outcome and says why the command fails, if it does. */
function finish(io: Io, result: ScaffoldResult, shown: Shown): number {
  show(io, result, result.written, shown);
  if (result.refused !== null) return failed(io, result.refused);
  if (shown.dryRun || result.declined.length === 0) return EXIT.ok;
  const blocked = result.declined.map((p) => `${p.path} (${p.action})`).join(', ');
  const exist = result.declined.length > 1 ? 'exist' : 'exists';
  return failed(
    io,
    `${blocked} already ${exist} and would change; see the diff with --dry-run, then run again with --force to write.`,
  );
}

/** The plan, each file with what happened to it: one JSON object, or a line each (and its diff in a dry run). */
function show(io: Io, planned: PlannedScaffold, written: readonly string[], { dryRun, json }: Shown): void {
  if (json) {
    const files = planned.plan.map((p) => ({
      path: p.path,
      action: p.action,
      written: written.includes(p.path),
      changes: p.changes,
      ...(p.problem !== undefined ? { problem: p.problem } : {}),
      ...(dryRun && p.action !== 'unsafe' ? { content: p.content } : {}),
    }));
    const { root, stack, installer, warnings } = planned;
    io.out(JSON.stringify({ root, dryRun, stack, installer, warnings, files }, null, 2));
    return;
  }
  for (const line of planned.stack.why) io.out(`# ${line}`);
  for (const p of planned.plan) {
    const state = stateOf(p, written.includes(p.path), dryRun);
    io.out(state === p.action ? `${p.path}: ${p.action}` : `${p.path}: ${p.action} (${state})`);
    if (p.problem !== undefined) io.out(`  ${p.problem}`);
    for (const c of p.changes) io.out(`  ${c.kind}: ${c.path}: ${c.message}`);
    if (dryRun && p.action !== 'unchanged' && p.action !== 'unsafe') io.out(unifiedDiff(p));
  }
}

function stateOf(p: PlannedFile, written: boolean, dryRun: boolean): string {
  if (written) return 'written';
  if (p.action === 'unchanged') return 'unchanged';
  if (p.action === 'unsafe') return 'NOT read nor written';
  if (dryRun) return `would ${p.action}`;
  return p.action === 'invalid' ? 'NOT valid, left alone' : 'NOT written';
}
