/**
 * Check GPU Compatibility, the one home of the action behind `ml-containers check` and the editor's Check GPU
 * Compatibility: the probes' environment (which nvidia-smi, which engine), the check of a project, image or build
 * against the host, and its report for each face. Plain options in, the result out; a face only asks (flags, a
 * folder) and shows (stdout, a report document, a notification).
 */
import * as path from 'node:path';
import { type CheckProbes, type CheckRequest, CheckUsageError, gatherAndCheck } from '../compat/gather';
import { realProbes } from '../compat/probes';
import { checkNotice, checkReportMarkdown, checkReportText } from '../compat/report';
import type { CheckResult } from '../compat/types';
import type { FingerprintProbes } from '../fingerprint/fingerprint';

export { CheckUsageError, checkNotice };

/** Where the probes reach the machine: both settings are '' or absent for the environment's own. */
export interface ProbeOptions {
  /** A specific nvidia-smi (its folder goes first on PATH for the probes). */
  nvidiaSmiPath?: string;
  /** The Docker engine's address, as DOCKER_HOST takes it. */
  dockerHost?: string;
}

/** What the check and the fingerprint ask the machine. */
export type HostProbes = CheckProbes & FingerprintProbes;

/** The environment the probes run in: `base` with the chosen nvidia-smi's folder first on PATH and the engine's address. */
export function probeEnvironment(opts: ProbeOptions, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  if (opts.nvidiaSmiPath) env.PATH = `${path.dirname(opts.nvidiaSmiPath)}${path.delimiter}${env.PATH ?? ''}`;
  if (opts.dockerHost) env.DOCKER_HOST = opts.dockerHost;
  return env;
}

/** The real probes (nvidia-smi, the engine) in the environment the options describe. */
export function hostProbes(opts: ProbeOptions): HostProbes {
  return realProbes({ env: probeEnvironment(opts) });
}

/**
 * What to check: a project, an image, a Dockerfile or a framework build, against this host (probed where `opts`
 * says) or another machine that `driver`, `gpus` and `computeCapability` describe.
 */
export interface CheckOptions extends Omit<CheckRequest, 'signal'>, ProbeOptions {}

/**
 * Checks the compatibility of what `opts` names with the host. Throws CheckUsageError for a value in the wrong format
 * or an unreadable Dockerfile (before anything is probed where it can), DetectRootError for a project that is not a
 * folder, and a CancellationError when `signal` fires while a probe waits.
 */
export function checkGpuCompatibility(
  opts: CheckOptions,
  signal?: AbortSignal,
  probes: CheckProbes = hostProbes(opts),
): Promise<CheckResult> {
  return gatherAndCheck({ ...opts, signal }, probes);
}

/** The check's report: the document's title, the Markdown the editor shows and the text a terminal prints. */
export interface CheckReport {
  title: string;
  markdown: string;
  text: string;
}

/** The report of a check of `subject` (a project's name), or of what the command line named when there is none. */
export function checkReport(result: CheckResult, subject?: string): CheckReport {
  const heading = subject === undefined ? undefined : `GPU compatibility of ${subject}`;
  return {
    title: subject === undefined ? 'GPU compatibility' : `GPU compatibility - ${subject}`,
    markdown: checkReportMarkdown(result, heading),
    text: checkReportText(result, heading),
  };
}
