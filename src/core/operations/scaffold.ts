/**
 * Add GPU Dev Container, the one home of the action behind `ml-containers scaffold` and the editor's Add GPU Dev
 * Container…: the project detected, its dev container, Dockerfile and .dockerignore generated and planned against the
 * files that exist, then written, a change to an existing file only with the face's consent. Plain options in, what
 * was written out; a face only asks (flags, a diff and a quick pick) and shows (stdout, notifications, the opened
 * file) through the port.
 */
import * as os from 'node:os';
import {
  type Scaffold,
  type ScaffoldOptions,
  detectForScaffold,
  generateScaffold,
  validateScaffoldOptions,
} from '../scaffold/generate';
import { type PlannedFile, applyPlan, needsConsent, planScaffold, refusalSentence } from '../scaffold/plan';
import { throwIfCancelled } from '../util/errors';

export interface ScaffoldProjectOptions extends ScaffoldOptions {
  projectRoot: string;
  /** Plan only: nothing is asked and nothing is written (the result says what would change). */
  dryRun?: boolean;
}

/**
 * The face's answer to the changes to existing files: write them too, keep those files as they are (the new files
 * are still written), or write nothing at all.
 */
export type ScaffoldConsent = 'apply' | 'keep' | 'cancel';

/** What the operation knows before anything is asked or written. */
export interface PlannedScaffold {
  /** The project's folder, absolute. */
  root: string;
  stack: Scaffold['stack'];
  installer: Scaffold['installer'];
  /** What the project had that could not be written safely and was left out, one sentence each. */
  warnings: string[];
  /** Every file the scaffold writes, with what it does to the file there (create, merge, unchanged, unsafe, …). */
  plan: PlannedFile[];
}

export interface ScaffoldPort {
  /** The plan is made; consent is asked next (when a change to an existing file needs it), then files are written. */
  planned?(planned: PlannedScaffold): void;
  /** Asked once, only when some planned files change files that exist (each with its current and proposed text). */
  confirm(changes: readonly PlannedFile[]): Promise<ScaffoldConsent>;
}

export interface ScaffoldResult extends PlannedScaffold {
  written: string[];
  /** The planned files that already are as the scaffold would write them. */
  unchanged: string[];
  /** The planned files neither written nor unchanged: declined, unsafe, unparseable, or every one in a dry run. */
  skipped: string[];
  /** The changes to existing files left unwritten because the face did not consent. */
  declined: PlannedFile[];
  /** Why nothing was written (an unsafe file, a devcontainer.json that cannot be parsed): one sentence, else null. */
  refused: string | null;
}

/**
 * Detects, generates, plans, asks the port's consent for the changes to existing files and writes. Throws what each
 * step throws, unchanged: a ScaffoldOptionError before anything is read, the detection's DetectRootError, a
 * ScaffoldWriteError naming the files written before a write failed, a CancellationError when `signal` fires before
 * the writes begin.
 */
export async function scaffoldProject(
  opts: ScaffoldProjectOptions,
  signal: AbortSignal | undefined,
  port: ScaffoldPort,
): Promise<ScaffoldResult> {
  const { projectRoot, dryRun = false, ...choices } = opts;
  const options: ScaffoldOptions = { ...choices, hostMemBytes: choices.hostMemBytes ?? os.totalmem() };
  validateScaffoldOptions(options);
  const details = await detectForScaffold(projectRoot, signal ? { signal } : {});
  const root = details.profile.root;
  const scaffold = generateScaffold(details.profile, details.packages, options);
  const { stack, installer, warnings } = scaffold;
  const planned: PlannedScaffold = { root, stack, installer, warnings, plan: await planScaffold(root, scaffold) };
  port.planned?.(planned);
  const refused = refusalSentence(planned.plan);
  if (dryRun || refused !== null) return outcome(planned, [], [], refused);
  const changes = planned.plan.filter(needsConsent);
  const answer = changes.length > 0 ? await port.confirm(changes) : 'apply';
  throwIfCancelled(signal);
  if (answer === 'cancel') return outcome(planned, [], changes, null);
  const written = await applyPlan(root, planned.plan, { force: answer === 'apply' });
  return outcome(planned, written, answer === 'apply' ? [] : changes, null);
}

function outcome(
  planned: PlannedScaffold,
  written: string[],
  declined: PlannedFile[],
  refused: string | null,
): ScaffoldResult {
  const paths = (keep: (p: PlannedFile) => boolean): string[] => planned.plan.filter(keep).map((p) => p.path);
  const unchanged = paths((p) => p.action === 'unchanged');
  const skipped = paths((p) => p.action !== 'unchanged' && !written.includes(p.path));
  return { ...planned, written, unchanged, skipped, declined, refused };
}
