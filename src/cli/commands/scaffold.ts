import * as os from 'node:os';
import { DetectRootError } from '../../core/detect';
import { FRAMEWORKS, type Framework } from '../../core/detect/types';
import {
  type ScaffoldMode,
  type ScaffoldOptions,
  ScaffoldOptionError,
  detectForScaffold,
  generateScaffold,
  validateScaffoldOptions,
} from '../../core/scaffold/generate';
import {
  ScaffoldWriteError,
  applyPlan,
  needsConsent,
  planScaffold,
  unifiedDiff,
  unsafeSentence,
} from '../../core/scaffold/plan';
import { type CliCommand, type CliOptions, EXIT, UsageError, parseCommandArgs } from '../usage';

const scaffoldOptions = {
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  framework: { type: 'string' },
  cuda: { type: 'string' },
  python: { type: 'string' },
  'base-image': { type: 'string' },
  mode: { type: 'string', default: 'both' },
  datasets: { type: 'string' },
  'dockerfile-at': { type: 'string', default: 'devcontainer' },
} satisfies CliOptions;

export const scaffoldCommand: CliCommand = {
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
  async run(argv, io) {
    const parsed = parseCommandArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: scaffoldOptions,
    });
    const v = parsed.values;
    if (parsed.positionals.length > 1) {
      throw new UsageError(`scaffold takes one folder, got ${parsed.positionals.length}.`);
    }
    // every option reaches a generated file: the core refuses what it cannot write safely, in one sentence
    const options: ScaffoldOptions = {
      ...(v.framework !== undefined ? { framework: v.framework as Framework } : {}),
      ...(v.cuda !== undefined ? { cuda: v.cuda } : {}),
      ...(v.python !== undefined ? { python: v.python } : {}),
      ...(v['base-image'] !== undefined ? { baseImage: v['base-image'] } : {}),
      ...(v.datasets !== undefined ? { datasetsPath: v.datasets } : {}),
      mode: v.mode as ScaffoldMode,
      dockerfileAt: v['dockerfile-at'] as 'devcontainer' | 'root',
      hostMemBytes: os.totalmem(),
    };
    try {
      validateScaffoldOptions(options);
    } catch (err) {
      if (err instanceof ScaffoldOptionError) throw new UsageError(err.message);
      throw err;
    }

    let details;
    try {
      details = await detectForScaffold(parsed.positionals[0] ?? '.');
    } catch (err) {
      if (err instanceof DetectRootError) {
        io.err(`ml-containers scaffold: ${err.message} Pass the folder of a project.`);
        return EXIT.failure;
      }
      throw err;
    }
    const root = details.profile.root;
    const scaffold = generateScaffold(details.profile, details.packages, options);
    for (const w of scaffold.warnings) io.err(`ml-containers scaffold: ${w}`);
    const plan = await planScaffold(root, scaffold);
    const invalid = plan.filter((p) => p.action === 'invalid');
    const unsafe = unsafeSentence(plan);
    const blocked = plan.filter((p) => needsConsent(p) && !v.force);
    let written: string[] = [];
    let failure: ScaffoldWriteError | undefined;
    if (!v['dry-run'] && !invalid.length && unsafe === null) {
      try {
        written = await applyPlan(root, plan, { force: v.force ?? false });
      } catch (err) {
        if (!(err instanceof ScaffoldWriteError)) throw err;
        failure = err;
        written = err.written;
      }
    }

    if (v.json) {
      io.out(
        JSON.stringify(
          {
            root,
            dryRun: v['dry-run'],
            stack: scaffold.stack,
            installer: scaffold.installer,
            warnings: scaffold.warnings,
            files: plan.map((p) => ({
              path: p.path,
              action: p.action,
              written: written.includes(p.path),
              changes: p.changes,
              ...(p.problem !== undefined ? { problem: p.problem } : {}),
              ...(v['dry-run'] && p.action !== 'unsafe' ? { content: p.content } : {}),
            })),
          },
          null,
          2,
        ),
      );
    } else {
      for (const line of scaffold.stack.why) io.out(`# ${line}`);
      for (const p of plan) {
        const state = written.includes(p.path)
          ? 'written'
          : p.action === 'unchanged'
            ? 'unchanged'
            : p.action === 'unsafe'
              ? 'NOT read nor written'
              : v['dry-run']
                ? `would ${p.action}`
                : p.action === 'invalid'
                  ? 'NOT valid, left alone'
                  : 'NOT written';
        io.out(state === p.action ? `${p.path}: ${p.action}` : `${p.path}: ${p.action} (${state})`);
        if (p.problem !== undefined) io.out(`  ${p.problem}`);
        for (const c of p.changes) io.out(`  ${c.kind}: ${c.path}: ${c.message}`);
        if (v['dry-run'] && p.action !== 'unchanged' && p.action !== 'unsafe') io.out(unifiedDiff(p));
      }
    }
    if (unsafe !== null) {
      io.err(`ml-containers scaffold: ${unsafe}`);
      return EXIT.failure;
    }
    if (failure) {
      io.err(`ml-containers scaffold: ${failure.message}`);
      return EXIT.failure;
    }
    if (invalid.length) {
      io.err(
        `ml-containers scaffold: ${invalid.map((p) => p.path).join(', ')} could not be parsed, so nothing was written; fix the file (see the change above) and run scaffold again.`,
      );
      return EXIT.failure;
    }
    if (!v['dry-run'] && blocked.length) {
      io.err(
        `ml-containers scaffold: ${blocked.map((p) => `${p.path} (${p.action})`).join(', ')} already exist${blocked.length > 1 ? '' : 's'} and would change; see the diff with --dry-run, then run again with --force to write.`,
      );
      return EXIT.failure;
    }
    return EXIT.ok;
  },
};
