/**
 * Save Fingerprint and Compare Environments, the one home of the actions behind `ml-containers fingerprint` and
 * `ml-containers diff` and the editor's Save Environment Fingerprint and Compare Environments: a fingerprint of this
 * host (and an image on it), its file text and summary, the comparison of two (files or this machine now) with its
 * report, and whether the host changed since a fingerprint remembered earlier. A face only asks (flags, file
 * pickers) and shows (stdout, a file, a report document, a notification).
 */
import type { CheckProbes } from '../compat/gather';
import type { Verdict } from '../compat/types';
import { diffFingerprints, diffText } from '../fingerprint/diff';
import { takeFingerprint } from '../fingerprint/fingerprint';
import { fingerprintFromText } from '../fingerprint/parse';
import { diffReportMarkdown } from '../fingerprint/report';
import type { Fingerprint, FingerprintDifference } from '../fingerprint/types';
import type { HostGpuState } from '../gpu/types';
import { type HostProbes, type ProbeOptions, hostProbes } from './check';

export { FingerprintFileError } from '../fingerprint/parse';

export interface FingerprintOptions extends ProbeOptions {
  /** Also inspect this local image and run a short report inside it. */
  image?: string;
}

/** Takes the fingerprint of this host (and of `opts.image`). Throws a CancellationError when `signal` fires. */
export function fingerprintEnvironment(
  opts: FingerprintOptions,
  signal?: AbortSignal,
  probes: HostProbes = hostProbes(opts),
): Promise<Fingerprint> {
  return takeFingerprint(probes, { image: opts.image, signal });
}

/** A fingerprint as JSON, as `--json` prints it. */
export function fingerprintJson(fp: Fingerprint): string {
  return JSON.stringify(fp, null, 2);
}

/** A fingerprint file's text (what `diff` and Compare Environments read back). */
export function fingerprintFileText(fp: Fingerprint): string {
  return `${fingerprintJson(fp)}\n`;
}

/** A fingerprint in a few lines for a terminal: host, driver, GPUs, engine, and the image's report. */
export function fingerprintSummary(fp: Fingerprint): string {
  const h = fp.host;
  const e = h.engine;
  const lines = [
    `Host ${h.hostname}: ${h.os.distro ?? h.os.platform}, kernel ${h.os.kernel}`,
    `Driver: ${h.driverVersion ?? 'none'}${h.cudaDriverVersion ? ` (CUDA ${h.cudaDriverVersion})` : ''}${h.reason ? ` - ${h.reason}` : ''}`,
    ...h.gpus.map(
      (g) =>
        `GPU ${g.index}: ${g.name ?? '?'} (compute capability ${g.computeCapability ?? '?'}, ${g.memoryTotalMiB ?? '?'} MiB)`,
    ),
    `Engine: ${e ? (e.reachable ? `Docker ${e.engineVersion} (API ${e.apiVersion}), NVIDIA runtime ${e.nvidiaRuntime ? 'yes' : 'no'}` : `unreachable: ${e.reason}`) : 'not checked'}`,
  ];
  return [...lines, ...imageSummary(fp.image)].join('\n');
}

function imageSummary(image: Fingerprint['image']): string[] {
  if (!image) return [];
  const lines = [`Image ${image.ref}: ${image.id ?? 'not found'}`];
  const c = image.container;
  if (c && 'error' in c) return [...lines, `  ${c.error}`];
  if (!c) return lines;
  return [
    ...lines,
    `  Python ${c.python ?? '?'}, CUDA runtime ${c.cudaRuntime ?? 'none'}, cuDNN ${c.cudnn ?? 'none'}`,
    ...Object.entries(c.frameworks).map(([n, f]) => `  ${n} ${f.version}${f.cuda ? ` (CUDA ${f.cuda})` : ''}`),
    `  pip freeze: ${c.pipPackages ?? '?'} packages, sha256 ${c.pipFreezeSha256 ?? '?'}`,
  ];
}

/** One side of a comparison: a file's text, or a fingerprint taken now; `name` is how the user knows it. */
export type FingerprintSource = { name: string; text: string } | { name: string; fingerprint: Fingerprint };

export interface Comparison {
  /** Most consequential first. */
  differences: FingerprintDifference[];
  /** True when a difference breaks what runs on one side on the other (the command line exits 1). */
  breaking: boolean;
  /** The report the editor shows. */
  markdown: string;
  /** The report a terminal prints. */
  text: string;
}

/**
 * Compares two environments, A (e.g. where it works) and B. Throws FingerprintFileError (a Problem naming the file)
 * when a text is not a fingerprint.
 */
export function compareEnvironments(a: FingerprintSource, b: FingerprintSource): Comparison {
  const differences = diffFingerprints(fingerprintOf(a), fingerprintOf(b));
  return {
    differences,
    breaking: differences.some((d) => d.impact === 'breaking'),
    markdown: diffReportMarkdown(a.name, b.name, differences),
    text: diffText(differences),
  };
}

function fingerprintOf(source: FingerprintSource): Fingerprint {
  return 'fingerprint' in source ? source.fingerprint : fingerprintFromText(source.text, source.name);
}

/** What a later session compares the host with: the driver, and each GPU as `name (compute capability)`. */
export interface HostSnapshot {
  driverVersion: string | null;
  gpus: string[];
}

export function hostSnapshot(state: HostGpuState): HostSnapshot {
  return {
    driverVersion: state.driverVersion,
    gpus: state.gpus.map((g) => `${g.name ?? '?'} (${g.computeCapability ?? '?'})`),
  };
}

/**
 * The host now, and how it differs from `before` (a snapshot remembered by an earlier session), each change as a
 * clause ("the NVIDIA driver changed from … to …"). Nothing changed when there is no earlier snapshot, or when what
 * was remembered is not one (written by another version): the caller remembers `now` instead.
 */
export async function hostChangesSince(
  before: unknown,
  opts: ProbeOptions,
  signal?: AbortSignal,
  probes: Pick<CheckProbes, 'probeHost'> = hostProbes(opts),
): Promise<{ now: HostSnapshot; changes: string[] }> {
  const now = hostSnapshot(await probes.probeHost(signal));
  return { now, changes: isHostSnapshot(before) ? hostChanges(before, now) : [] };
}

function hostChanges(before: HostSnapshot, now: HostSnapshot): string[] {
  const changes: string[] = [];
  if (before.driverVersion !== now.driverVersion) {
    changes.push(`the NVIDIA driver changed from ${before.driverVersion ?? 'none'} to ${now.driverVersion ?? 'none'}`);
  }
  if (before.gpus.join() !== now.gpus.join()) {
    changes.push(`the GPUs changed from ${before.gpus.join(', ') || 'none'} to ${now.gpus.join(', ') || 'none'}`);
  }
  return changes;
}

function isHostSnapshot(value: unknown): value is HostSnapshot {
  const s = value as Partial<HostSnapshot> | null | undefined;
  return (
    typeof s === 'object' &&
    s !== null &&
    (s.driverVersion === null || typeof s.driverVersion === 'string') &&
    Array.isArray(s.gpus) &&
    s.gpus.every((g) => typeof g === 'string')
  );
}

/** The notification of host changes, with the verdict of the project's check made since (when there is a project). */
export function hostChangeNotice(changes: readonly string[], verdict?: Verdict): string {
  const check = verdict ? ` The project's GPU check now says: ${verdict}.` : '';
  return `Since the last session ${changes.join(' and ')}.${check}`;
}
