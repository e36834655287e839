/** What scaffolding decides for a project, before it becomes file contents. */

/** The GPU-related settings a dev container needs, whether written fresh or merged into an existing file. */
export interface DevcontainerGpuSettings {
  /** `true` when the project needs a GPU, `'optional'` when it also runs on the CPU (never `--gpus` in runArgs). */
  gpu: true | 'optional';
  /** Tokens runArgs must contain, one token per element, e.g. `--shm-size=16g`, `--ulimit`, `memlock=-1`. */
  runArgs: string[];
  /** Mount strings (`source=…,target=…,type=volume|bind`). */
  mounts: string[];
  containerEnv: Record<string, string>;
  /** VS Code extension ids for customizations.vscode.extensions. */
  extensions: string[];
  /** Why each choice was made, keyed by the top-level property (written as comments in new files). */
  why: Record<string, string>;
}

/** One change a merge made, or would have to make by hand, in words for the user. */
export interface MergeChange {
  kind: 'added' | 'replaced' | 'removed' | 'kept' | 'manual';
  path: string;
  message: string;
}

export interface MergeResult {
  text: string;
  changes: MergeChange[];
}

/**
 * An option of the scaffold that cannot be written safely into the generated files (a base image that is not an
 * image reference, a CUDA version nobody knows, a datasets path that is not absolute). Its message is one sentence
 * for the user; the CLI exits 2 with it (a usage error) and the extension shows it.
 */
export class ScaffoldOptionError extends Error {
  constructor(
    /** The option as the CLI spells it, without the dashes: `base-image`, `cuda`, `datasets`, … */
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'ScaffoldOptionError';
  }
}

/**
 * The group that owns the scaffold's environment (/opt/venv, /opt/env), writable for its members: the dev container
 * and `ml-containers run` may give the user another uid than the image's, and that user joins this group.
 */
export const ENV_GROUP = 'mlc-env';
