/** The ML frameworks detection recognises, in the order that breaks ties for the primary framework. */
export const FRAMEWORKS = [
  'pytorch',
  'tensorflow',
  'jax',
  'keras',
  'lightning',
  'transformers',
  'xgboost',
  'lightgbm',
  'sklearn',
] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export const LAUNCHERS = ['torchrun', 'accelerate', 'deepspeed', 'horovod'] as const;
export type Launcher = (typeof LAUNCHERS)[number];

export type GpuNeed = 'yes' | 'optional' | 'no';

/** The fields of the profile an evidence entry can support. */
export type EvidenceField =
  'isTrainingProject' | 'frameworks' | 'pythonVersion' | 'entrypoints' | 'launcher' | 'cudaHint' | 'needsGpu';

/** One reason behind a profile value: where it was seen. `line` is 1-based. */
export interface Evidence {
  field: EvidenceField;
  value: string;
  file: string;
  line: number;
  text: string;
}

/** Something detection could not read or understand; the rest of the result is still valid. */
export interface DetectionWarning {
  file: string;
  message: string;
}

/** What `ml-containers detect <dir> --json` prints: the contract other tools and tests rely on. */
export interface ProjectProfile {
  root: string;
  isTrainingProject: boolean;
  frameworks: Framework[];
  primaryFramework: Framework | null;
  envFiles: string[];
  pythonVersion: string | null;
  /** When the project gives a Python range, not a pin: what it allows, as PEP 440 (`>=3.8`); absent for a pin. */
  pythonRange?: string;
  entrypoints: string[];
  launcher: Launcher | null;
  /**
   * Options for the launcher that the project's own launch command gives and the train image keeps: the Accelerate
   * configuration file (`["--config_file", "configs/accelerate.yaml"]`, a path relative to the root) of
   * `accelerate launch --config_file configs/accelerate.yaml train.py`. Absent when the command gives none.
   */
  launcherArgs?: string[];
  cudaHint: string | null;
  needsGpu: GpuNeed;
  notebooks: number;
  evidence: Evidence[];
  warnings: DetectionWarning[];
}

export interface DetectOptions {
  /** Stop walking after this many directory entries (files and folders). */
  maxEntries?: number;
  /** Bytes read from each source file at most (Python, scripts, READMEs). */
  maxBytesPerFile?: number;
  /** Bytes read from each notebook or environment file at most. */
  maxBytesPerDocument?: number;
  /** Directory depth below the root that the walk goes to at most. */
  maxDepth?: number;
  /** Extra .gitignore-style patterns to skip, relative to the root. */
  exclude?: string[];
  /** Stops the detection early; it then rejects with a CancellationError. */
  signal?: AbortSignal;
}
