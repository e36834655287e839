import { visible } from '../util/encode';
import type { ProjectProfile } from './types';

const FRAMEWORK_NAMES: Record<string, string> = {
  pytorch: 'PyTorch',
  tensorflow: 'TensorFlow',
  jax: 'JAX',
  keras: 'Keras',
  lightning: 'Lightning',
  transformers: 'Transformers',
  sklearn: 'scikit-learn',
  xgboost: 'XGBoost',
  lightgbm: 'LightGBM',
};

/** The display name of a framework id (`pytorch` -> `PyTorch`). */
export function frameworkName(id: string): string {
  return FRAMEWORK_NAMES[id] ?? id;
}

/** One line that says what the project is, e.g. "PyTorch training project (train.py, torchrun)". */
export function summarizeProfile(p: ProjectProfile): string {
  if (!p.isTrainingProject) {
    return p.frameworks.length > 0
      ? `Not a training project (uses ${p.frameworks.map(frameworkName).join(', ')}, but no code trains a model)`
      : 'Not a training project (no ML framework found)';
  }
  const details = [...p.entrypoints.slice(0, 2), ...(p.launcher ? [p.launcher] : [])];
  const fw = p.primaryFramework ? frameworkName(p.primaryFramework) : 'ML';
  return `${fw} training project${details.length ? ` (${details.map(visible).join(', ')})` : ''}`;
}

/** The human-readable form of `ml-containers detect`. */
export function formatProfile(p: ProjectProfile): string {
  const none = '-';
  const rows: [string, string][] = [
    ['Project', visible(p.root)],
    ['Training project', p.isTrainingProject ? 'yes' : 'no'],
    [
      'Frameworks',
      p.frameworks
        .map((f) => (f === p.primaryFramework ? `${frameworkName(f)} (primary)` : frameworkName(f)))
        .join(', ') || none,
    ],
    ['Entry points', p.entrypoints.map(visible).join(', ') || none],
    ['Launcher', p.launcher ? [p.launcher, ...(p.launcherArgs ?? [])].map(visible).join(' ') : none],
    ['Python', p.pythonVersion ?? 'not pinned'],
    ['CUDA', p.cudaHint ?? 'not pinned'],
    ['Needs a GPU', p.needsGpu],
    ['Environment files', p.envFiles.map(visible).join(', ') || none],
    ['Notebooks', String(p.notebooks)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [summarizeProfile(p), '', ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (p.warnings.length > 0) {
    lines.push(
      '',
      `Warnings (${p.warnings.length}):`,
      ...p.warnings.map((w) => `  ${visible(w.file)}: ${visible(w.message)}`),
    );
  }
  return lines.join('\n');
}
