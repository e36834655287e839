/**
 * `ml-containers run | ps | logs | stop | sweep`: training containers and sweeps from the command line, over the same
 * core as the editor's Run Training and Training Runs view.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { visible } from '../../core/util/encode';
import { connectEngine, type EngineClient } from '../../core/docker/engine';
import { probeHost } from '../../core/gpu/nvidiaSmi';
import type { HostGpuState } from '../../core/gpu/types';
import {
  BuildError,
  DEFAULT_MAX_VARIANTS,
  describeRunHost,
  describeSweep,
  formatGpuSelection,
  ForeignContainerError,
  type GpuSelection,
  type ImageSource,
  isFinished,
  parseByteSize,
  parseGpuSelection,
  type RunRecord,
  Runner,
  RunStore,
  stateWithExit,
  summarizeSweep,
  sweepSummaryText,
  type SweepState,
  variantProgress,
} from '../../core/runs';
import { runTraining } from '../../core/operations/runTraining';
import { resumeSweep, type StartedSweep, startSweep, superviseSweep } from '../../core/operations/runSweep';
import { formatDuration, runLabel } from '../../core/runs/format';
import { defaultGpuSelection, imageSourceFor, RunRequestError } from '../../core/runs/request';
import { CancellationError, errorMessage } from '../../core/util/errors';
import {
  AT_MOST_ONE_FOLDER,
  defineCommand,
  DIR_OPTION,
  JSON_OPTION,
  keyValues,
  ONE_RUN_ID,
  projectDir,
  wholeNumber,
} from '../args';
import { type CliOptions, EXIT, type Io, UsageError } from '../usage';

/** Exit code when the engine refused to start the container (as `docker run`). */
export const EXIT_START_FAILED = 125;

/** The image options of `run` and `sweep`, and their help. */
const IMAGE_OPTIONS = {
  image: { type: 'string' },
  target: { type: 'string' },
  'build-arg': { type: 'string', multiple: true },
  gpus: { type: 'string' },
} satisfies CliOptions;

const IMAGE_HELP = `  --image REF         run this existing image (the project is mounted at /workspace)
  --target train|dev  build the scaffold's Dockerfile at this target and run it (default: dev when a command is
                      given, the project mounted; train, the image's own launcher, when none is)
  --build-arg K=V     override a build argument (e.g. BASE_IMAGE), repeatable
  --gpus all|none|0,1 the GPUs to give (default: all when nvidia-smi sees GPUs, else none)`;

function gpuOption(value: string | undefined): GpuSelection | undefined {
  if (value === undefined) return undefined;
  try {
    return parseGpuSelection(value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The project folder of `run`, `ps` and `sweep`: one that does not exist is a failure (exit 1, as `detect`), not bad
 * usage.
 */
function projectFolder(dir: string | undefined): string {
  const root = path.resolve(dir ?? '.');
  if (!fs.existsSync(root)) {
    throw new Error(`the project folder ${root} does not exist; pass the folder of a project.`);
  }
  return projectDir(dir);
}

/** The image source of `--image`/`--target` (the core decides; a refusal is bad usage, exit 2). */
function imageSource(image: string | undefined, target: string | undefined, hasCommand: boolean): ImageSource {
  try {
    return imageSourceFor({ image, target, hasCommand }, { image: '--image', target: '--target' });
  } catch (err) {
    if (err instanceof RunRequestError) throw new UsageError(err.message);
    throw err;
  }
}

/** The engine, the run store and a runner that records this machine's GPUs. */
function setup(root: string, gpuState?: Promise<HostGpuState>): { client: EngineClient; runner: Runner } {
  const client = connectEngine();
  const state = gpuState ?? probeHost({ timeoutMs: 5000 });
  const runner = new Runner({ client, store: new RunStore(root), host: () => describeRunHost(client, state) });
  return { client, runner };
}

async function defaultGpus(state: Promise<HostGpuState>): Promise<GpuSelection> {
  return defaultGpuSelection(await state.catch(() => undefined));
}

export const runCommand = defineCommand({
  name: 'run',
  summary: 'Run a training container (GPUs, shm, .env, the project mounted) and stream its log like docker run.',
  usage: `ml-containers run [DIR] [--image REF | --target train|dev] [--build-arg K=V]... [--gpus all|none|0,1]
                  [--detach] [--env K=V]... [--port N]... [--memory SIZE] [-- COMMAND [ARG...]]

${IMAGE_HELP}
  -d, --detach        print the run id and return at once
  -e, --env K=V       an environment variable (added to the project's .env), repeatable
  -p, --port N        publish the container's port N on 127.0.0.1 (a free host port), repeatable
  -m, --memory SIZE   memory limit, e.g. 16g

Prints the run id, then the container's output until it exits; the log and the run record are kept in
DIR/.ml-containers/runs/<run-id>/. Ctrl-C stops the container. Exits with the container's exit code, or
${EXIT_START_FAILED} when the engine could not start it (the message says why), 2 for bad usage.`,
  options: {
    ...IMAGE_OPTIONS,
    detach: { type: 'boolean', short: 'd', default: false },
    env: { type: 'string', short: 'e', multiple: true },
    port: { type: 'string', short: 'p', multiple: true },
    memory: { type: 'string', short: 'm' },
  },
  operands: { max: 1, wrong: (n) => `one project folder, got ${n}; put the command after "--".` },
  takesCommand: true,
  async run({ values, positionals, command: given }, io) {
    const command = given ?? [];
    const root = projectFolder(positionals[0]);
    const source = imageSource(values.image, values.target, command.length > 0);
    const ports = (values.port ?? []).map((p) => {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port needs a port number, got "${p}".`);
      return n;
    });
    const memoryBytes = values.memory === undefined ? undefined : parseByteSize(values.memory);
    if (values.memory !== undefined && !memoryBytes) {
      throw new UsageError(`--memory needs a size like 16g or 512m, got "${values.memory}".`);
    }
    const env = keyValues(values.env, '--env');
    const buildArgs = keyValues(values['build-arg'], '--build-arg');
    const gpuState = probeHost({ timeoutMs: 5000 });
    const gpus = gpuOption(values.gpus) ?? (await defaultGpus(gpuState));
    const interrupt = io.trapInterrupt?.();
    const { client, runner } = setup(root, gpuState);

    let record: RunRecord;
    let done: Promise<RunRecord>;
    const follow = new AbortController();
    // the step the operation is at, from its port's calls: a failure is shown as that step's
    let step: 'build' | 'spec' | 'start' = 'build';
    try {
      ({ record, done } = await runTraining(
        client,
        { projectRoot: root, command, source, gpus, buildArgs, env, ports, memoryBytes },
        interrupt,
        {
          buildLine: (line) => io.err(line),
          built: () => (step = 'spec'),
          start: (spec) => {
            step = 'start';
            return runner.start(spec, {
              signal: values.detach ? AbortSignal.abort() : follow.signal,
              onOutput: values.detach ? undefined : (chunk) => writeRaw(io, chunk),
            });
          },
        },
      ));
    } catch (err) {
      if (step === 'build') {
        if (err instanceof CancellationError) {
          io.err('Build cancelled.');
          return 130;
        }
        if (err instanceof BuildError) io.err(err.logTail);
        io.err((err as Error).message);
        return EXIT_START_FAILED;
      }
      // RunStartError, or the engine not reachable at all: one sentence either way
      if (step === 'start' && err instanceof Error) {
        io.err(`ml-containers run: ${err.message}`);
        return EXIT_START_FAILED;
      }
      throw err;
    }
    io.out(record.id);
    for (const w of record.warnings) io.err(w);
    if (values.detach) {
      await done.catch(() => undefined);
      io.err(
        `Started ${record.containerName} (${formatGpuSelection(gpus)} GPUs). Follow it with \`ml-containers logs ${record.id} --follow\`.`,
      );
      return EXIT.ok;
    }
    const onInterrupt = (): void => {
      io.err(`\nStopping ${record.containerName}…`);
      void runner.stop(record.id).catch((e: unknown) => io.err(`Could not stop it: ${(e as Error).message}`));
    };
    interrupt?.addEventListener('abort', onInterrupt, { once: true });
    if (interrupt?.aborted) onInterrupt(); // Ctrl-C while the container was being created
    const final = await done;
    interrupt?.removeEventListener('abort', onInterrupt);
    if (final.explanation && final.state !== 'succeeded') io.err(`\n${final.explanation}`);
    return final.exitCode ?? EXIT.failure;
  },
});

function writeRaw(io: Io, chunk: Uint8Array): void {
  if (io.write) io.write(chunk);
  else {
    io.out(
      Buffer.from(chunk)
        .toString('utf8')
        .replace(/\r?\n$/, ''),
    );
  }
}

export const psCommand = defineCommand({
  name: 'ps',
  summary: "List the project's training runs (running, finished, failed) with GPUs, duration and exit code.",
  usage: `ml-containers ps [DIR] [--json]

  --json   print the run records as a JSON array, newest first`,
  options: JSON_OPTION,
  operands: AT_MOST_ONE_FOLDER,
  async run({ values, positionals }, io) {
    const root = projectFolder(positionals[0]);
    const store = new RunStore(root);
    // records left out (not a record, a link out of the project, …) and runs not brought up to date: once each
    const warned = new Set<string>();
    const warn = (m: string): void => {
      if (warned.has(m)) return;
      warned.add(m);
      io.err(visible(m));
    };
    let runs: RunRecord[];
    try {
      runs = await setup(root).runner.list({ warn });
    } catch (err) {
      // the engine is not reachable: the records still say what ran
      runs = await store.listRecords(warn);
      io.err(`${(err as Error).message} Showing the recorded state.`);
    }
    if (values.json) {
      io.out(JSON.stringify(runs, null, 2));
      return EXIT.ok;
    }
    if (runs.length === 0) {
      io.out(`No training runs recorded in ${root}. Start one with \`ml-containers run\`.`);
      return EXIT.ok;
    }
    const rows = runs.map((r) => [
      r.id,
      r.state,
      r.exitCode === null ? '-' : String(r.exitCode),
      formatGpuSelection(r.gpus),
      formatDuration(r) ?? '-',
      runLabel(r),
    ]);
    const header = ['RUN', 'STATE', 'EXIT', 'GPUS', 'DURATION', 'COMMAND / PARAMETERS'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    for (const row of [header, ...rows]) {
      io.out(visible(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')));
    }
    return EXIT.ok;
  },
});

export const logsCommand = defineCommand({
  name: 'logs',
  summary: "Print a run's log (kept after its container is gone); --follow streams it until the run ends.",
  usage: `ml-containers logs RUN_ID [--follow] [--dir DIR]

  RUN_ID         the run id (or a unique prefix) as \`ml-containers run\` and \`ps\` print it
  -f, --follow   keep streaming until the run ends
  --dir DIR      the project folder (default: the current folder)`,
  options: { follow: { type: 'boolean', short: 'f', default: false }, ...DIR_OPTION },
  operands: ONE_RUN_ID,
  async run({ values, positionals }, io) {
    const root = projectDir(values.dir);
    const { runner } = setup(root);
    const record = await runner.store.findRecord(positionals[0]!);
    const write = (c: Uint8Array): void => writeRaw(io, c);
    if (values.follow && !isFinished(record) && record.containerId) {
      const interrupt = io.trapInterrupt?.();
      // the engine has the whole log: stream it from the start (the run's own follower writes log.txt)
      const final = await runner.follow(record.id, { onOutput: (c) => write(c), signal: interrupt, writeLog: false });
      if (final.explanation && isFinished(final) && final.state !== 'succeeded') io.err(`\n${final.explanation}`);
      return EXIT.ok;
    }
    let current = record;
    let foreign = false;
    if (!isFinished(record)) {
      try {
        current = await runner.refresh(record.id);
      } catch (err) {
        // a record naming a container that is not its run's: its log is not read from the engine
        foreign = err instanceof ForeignContainerError;
        if (foreign) io.err((err as Error).message);
      }
    }
    if (!foreign && current.containerId && !isFinished(current)) {
      await runner.saveLog(current.id).catch(() => undefined);
    }
    let log: Buffer | null;
    try {
      log = await runner.store.readLog(current.id);
    } catch (err) {
      io.err((err as Error).message);
      return EXIT.failure;
    }
    if (log === null) io.err(`Run ${current.id} has no log yet.`);
    else write(log);
    return EXIT.ok;
  },
});

export const stopCommand = defineCommand({
  name: 'stop',
  summary: 'Stop a training run (SIGTERM, then SIGKILL after --time seconds); its log and record are kept.',
  usage: `ml-containers stop RUN_ID [--dir DIR] [--time SECONDS]

  RUN_ID              the run id (or a unique prefix) as \`ml-containers run\` and \`ps\` print it
  --dir DIR           the project folder (default: the current folder)
  -t, --time SECONDS  how long to wait for the run to exit after SIGTERM (default 10)`,
  options: { ...DIR_OPTION, time: { type: 'string', short: 't' } },
  operands: ONE_RUN_ID,
  async run({ values, positionals }, io) {
    const t = values.time === undefined ? 10 : Number(values.time);
    if (!Number.isInteger(t) || t < 0) throw new UsageError(`--time needs whole seconds, got "${values.time}".`);
    const root = projectDir(values.dir);
    const record = await setup(root).runner.stop(positionals[0]!, t);
    io.out(`${record.id}: ${stateWithExit(record.state, record.exitCode)}`);
    return EXIT.ok;
  },
});

export const sweepCommand = defineCommand({
  name: 'sweep',
  summary: 'Run every variant of a sweep file over the free GPUs, wait for all, and print the summary.',
  usage: `ml-containers sweep [DIR] --file sweep.yaml [--image REF | --target train|dev] [--build-arg K=V]...
                    [--gpus all|none|0,1] [--max-variants N] [--json]
ml-containers sweep [DIR] --resume SWEEP_ID [--force] [--json]

  --file FILE         the sweep file: command (with {param} placeholders), grid, gpusPerRun, maxParallel
  --max-variants N    refuse a grid of more than N runs (default ${DEFAULT_MAX_VARIANTS}), counted before anything starts
${IMAGE_HELP}
                      (--gpus none runs every variant without a GPU, whatever gpusPerRun says)
  --resume SWEEP_ID   continue a sweep whose supervising process went away
  --force             with --resume: take the sweep over even though its supervisor looks alive (another machine)
  --json              print the summary as JSON

Exits 0 only if every run succeeded; 1 otherwise; 2 for bad usage. Ctrl-C stops the sweep's runs.`,
  options: {
    file: { type: 'string' },
    resume: { type: 'string' },
    ...IMAGE_OPTIONS,
    ...JSON_OPTION,
    force: { type: 'boolean', default: false },
    'max-variants': { type: 'string' },
  },
  operands: AT_MOST_ONE_FOLDER,
  async run({ values, positionals }, io) {
    if (values.force && values.resume === undefined) throw new UsageError('--force goes with --resume.');
    if ((values.file === undefined) === (values.resume === undefined)) {
      throw new UsageError('give --file sweep.yaml to start a sweep, or --resume SWEEP_ID to continue one.');
    }
    const maxVariants = wholeNumber(values['max-variants'], '--max-variants', 1);
    const root = projectFolder(positionals[0]);
    // usage first: a bad --image, --target or --gpus is refused before the sweep file is read or anything starts
    const source = values.file !== undefined ? imageSource(values.image, values.target, true) : undefined;
    const gpus = gpuOption(values.gpus);
    const buildArgs = keyValues(values['build-arg'], '--build-arg');
    const gpuState = probeHost({ timeoutMs: 5000 });
    const { client, runner } = setup(root, gpuState);
    const interrupt = io.trapInterrupt?.();
    const progress = variantProgress();
    const supervise = (sweep: SweepState, takeOver: boolean): Promise<SweepState> =>
      superviseSweep(runner, sweep, {
        signal: interrupt,
        takeOver,
        onChange: (state) => progress(state).forEach((line) => io.err(visible(line))),
      });
    let started: StartedSweep;
    let built = false;
    try {
      if (values.resume !== undefined) {
        started = await resumeSweep(runner.store, { sweepId: values.resume, force: values.force }, { supervise });
      } else {
        const file = path.resolve(values.file!);
        started = await startSweep(
          client,
          {
            projectRoot: root,
            file,
            fileLabel: path.relative(process.cwd(), file) || file,
            maxVariants,
            source: source!,
            gpus,
            hostGpus: gpuState.then(
              (s) => s.gpus,
              () => undefined,
            ),
            buildArgs,
          },
          interrupt,
          {
            buildLine: (line) => io.err(line),
            built: () => (built = true),
            created: (sweep) => io.err(describeSweep(sweep)),
            supervise,
          },
        );
      }
    } catch (err) {
      if (err instanceof RunRequestError) throw new UsageError(err.message);
      if (err instanceof BuildError) io.err(err.logTail);
      const cancelled = err instanceof CancellationError;
      io.err(cancelled && !built ? 'Build cancelled.' : errorMessage(err));
      return EXIT.failure;
    }
    return showSweepEnd(started, runner, io, values.json);
  },
});

/** Waits for the sweep's end and prints its summary (the table, or JSON); exits 0 only when every run succeeded. */
async function showSweepEnd(started: StartedSweep, runner: Runner, io: Io, json: boolean): Promise<number> {
  let final: SweepState;
  try {
    final = await started.done;
  } catch (err) {
    if (!(err instanceof CancellationError)) throw err;
    io.err(err.message);
    io.out(await sweepSummaryText(started.sweep, runner));
    return 130;
  }
  if (json) io.out(JSON.stringify({ ...final, summary: await summarizeSweep(final, runner) }, null, 2));
  else io.out(await sweepSummaryText(final, runner));
  return final.state === 'succeeded' ? EXIT.ok : EXIT.failure;
}
