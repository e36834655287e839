/**
 * Gathers the facts for a compatibility check from what the caller gives (another machine's driver and GPUs, an
 * image reference, a Dockerfile, a torch version, a project) and what it can probe here (nvidia-smi, the engine).
 * The check operation (src/core/operations/check.ts) runs it for both faces, so both answer the same.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { detectProjectDetailed } from '../detect/detect';
import type { HostGpuState } from '../gpu/types';
import type { HostNetworkSettings } from '../network';
import { applyTorchPin, emptyImageFacts, factsFromDockerfile, factsFromImageConfig, factsFromImageRef } from './image';
import { projectFacts, projectImageFacts } from './project';
import { checkCompatibility } from './rules';
import type { CheckResult, EngineFacts, Finding, HostFacts, ImageFacts, ProjectFacts } from './types';

export interface CheckRequest {
  projectDir?: string;
  image?: string;
  dockerfile?: string;
  /** `2.7.1` or `2.7.1+cu128`. */
  torch?: string;
  driver?: string;
  gpus?: string[];
  computeCapability?: string;
  /** Skip the container engine entirely. */
  noEngine?: boolean;
  signal?: AbortSignal;
}

/** How the check reaches the machine: injected so the CLI, the editor and tests use the real probes. */
export interface CheckProbes {
  probeHost(signal?: AbortSignal): Promise<HostGpuState>;
  /** The engine's GPU capability, or null when no engine adapter is available. */
  probeEngine(signal?: AbortSignal): Promise<EngineFacts | null>;
  /** A local image's environment and labels, or null when the engine does not have it. */
  inspectImage(ref: string, signal?: AbortSignal): Promise<{ env: string[]; labels: Record<string, string> } | null>;
  /**
   * This host's network settings for builds and runs (its CA bundle, package index), or null when they are turned
   * off; absent: not asked. Asked only when the check is of this host, not of a machine the request describes.
   */
  hostNetwork?(): Promise<Pick<HostNetworkSettings, 'problems'> | null>;
}

/** A request value in the wrong format, or a Dockerfile that cannot be read: one sentence naming the option. */
export class CheckUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckUsageError';
  }
}

/** The formats of the values a caller describes another machine or a build with, and what each one needs. */
const REQUEST_FORMATS = [
  ['driver', /^\d+(?:\.\d+){0,2}$/, '--driver needs a driver version like 580.159.04'],
  ['computeCapability', /^\d{1,2}\.\d$/, '--compute-capability needs a value like 8.9'],
  ['torch', /^\d+\.\d+(?:\.\d+)?(?:\+cu\d{2,3})?$/, '--torch needs a version like 2.7.1 or 2.7.1+cu128'],
] as const;

/** Throws CheckUsageError for a value of the request that is not in its format, before anything is probed. */
function validateRequest(req: CheckRequest): void {
  for (const [key, format, needs] of REQUEST_FORMATS) {
    const value = req[key];
    if (value !== undefined && !format.test(value)) throw new CheckUsageError(`${needs}, got "${value}".`);
  }
}

export async function gatherAndCheck(req: CheckRequest, probes: CheckProbes): Promise<CheckResult> {
  validateRequest(req);
  // host: given (another machine) or probed (this one, with its network settings)
  let host: HostFacts;
  let network: Finding[] = [];
  if (req.driver || (req.gpus && req.gpus.length > 0) || req.computeCapability) {
    const names =
      req.gpus && req.gpus.length > 0
        ? req.gpus
        : req.computeCapability
          ? [`GPU with compute capability ${req.computeCapability}`]
          : [];
    host = {
      driverVersion: req.driver ?? null,
      cudaDriverVersion: null,
      gpus: names.map((name) => ({ name, computeCapability: req.computeCapability ?? null, datacenter: null })),
    };
  } else {
    host = await probeHostFacts(probes, req.signal);
    network = (await probes.hostNetwork?.())?.problems ?? [];
  }

  // engine: asked unless --no-engine
  const engine = req.noEngine ? null : await probes.probeEngine(req.signal);

  // project
  let project: ProjectFacts | null = null;
  let image: ImageFacts = emptyImageFacts(null);
  if (req.projectDir) {
    const root = path.resolve(req.projectDir);
    const details = await detectProjectDetailed(root, req.signal ? { signal: req.signal } : {});
    project = await projectFacts(root, details);
    if (!req.image && !req.dockerfile) image = await projectImageFacts(root, details);
  }

  // image: a reference (inspected when the engine has it), or a Dockerfile
  if (req.dockerfile) {
    let text: string;
    try {
      text = await readFile(req.dockerfile, 'utf8');
    } catch (err) {
      throw new CheckUsageError(`cannot read the Dockerfile ${req.dockerfile}: ${(err as Error).message}`);
    }
    image = factsFromDockerfile(text, req.image ?? null);
  } else if (req.image) {
    image = factsFromImageRef(req.image);
    if (engine?.reachable) {
      const inspected = await probes.inspectImage(req.image, req.signal).catch(() => null);
      if (inspected) image = factsFromImageConfig(req.image, inspected.env, inspected.labels);
    }
  }
  if (req.torch) applyTorchPin(image, req.torch, null, `--torch ${req.torch}.`);
  return checkCompatibility({ host, image, engine, project, ...(network.length ? { network } : {}) });
}

async function probeHostFacts(probes: CheckProbes, signal?: AbortSignal): Promise<HostFacts> {
  const state = await probes.probeHost(signal);
  return {
    driverVersion: state.driverVersion,
    cudaDriverVersion: state.cudaDriverVersion,
    gpus: state.gpus.map((g) => ({
      name: g.name ?? `GPU ${g.index}`,
      computeCapability: g.computeCapability,
      datacenter: null,
    })),
    ...(state.reason ? { reason: state.reason } : {}),
  };
}
