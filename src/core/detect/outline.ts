/**
 * The profile as an outline for display (the editor's "ML Project" view renders it; tests assert on it): plain data,
 * no VS Code types. Every node that has evidence points at the file and line that support it.
 */
import { frameworkName, summarizeProfile } from './format';
import type { Evidence, EvidenceField, ProjectProfile } from './types';

export interface OutlineNode {
  /** Stable id within one profile, e.g. `frameworks/pytorch`. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon name, e.g. `flame`. */
  icon: string;
  /** Where this value comes from (children list all of them). */
  evidence: Evidence[];
  /** The file and 1-based line the node opens when clicked. */
  open?: { file: string; line: number };
  children: OutlineNode[];
  /** `contextValue` tokens, e.g. `evidence`, `warning`. */
  kind: 'summary' | 'field' | 'value' | 'evidence' | 'warning';
}

const evidenceOf = (p: ProjectProfile, field: EvidenceField, value?: string): Evidence[] =>
  p.evidence.filter((e) => e.field === field && (value === undefined || e.value === value));

function evidenceChildren(parentId: string, ev: Evidence[]): OutlineNode[] {
  return ev.map((e, i) => ({
    id: `${parentId}/evidence/${i}`,
    label: `${e.file}:${e.line}`,
    description: e.text,
    tooltip: `${e.file}, line ${e.line}: ${e.text}`,
    icon: 'go-to-file',
    evidence: [e],
    children: [],
    kind: 'evidence',
  }));
}

function field(
  id: string,
  label: string,
  description: string,
  icon: string,
  ev: Evidence[],
  children?: OutlineNode[],
): OutlineNode {
  return {
    id,
    label,
    description,
    icon,
    evidence: ev,
    children: children ?? evidenceChildren(id, ev),
    kind: 'field',
  };
}

function valueNode(id: string, label: string, icon: string, ev: Evidence[], description?: string): OutlineNode {
  return {
    id,
    label,
    ...(description !== undefined ? { description } : {}),
    icon,
    evidence: ev,
    children: evidenceChildren(id, ev),
    kind: 'value',
  };
}

const GPU_TEXT = { yes: 'required', optional: 'optional (runs on CPU too)', no: 'not needed' } as const;

export function profileOutline(p: ProjectProfile): OutlineNode[] {
  return withOpenTargets(buildNodes(p));
}

/** A node without its own target opens its first evidence. */
function withOpenTargets(nodes: OutlineNode[]): OutlineNode[] {
  return nodes.map((n) => {
    const first = n.evidence[0];
    const open = n.open ?? (first ? { file: first.file, line: first.line } : undefined);
    return { ...n, ...(open ? { open } : {}), children: withOpenTargets(n.children) };
  });
}

function buildNodes(p: ProjectProfile): OutlineNode[] {
  const nodes: OutlineNode[] = [];
  nodes.push({
    id: 'summary',
    label: summarizeProfile(p),
    tooltip: p.root,
    icon: p.isTrainingProject ? 'beaker' : 'circle-slash',
    evidence: evidenceOf(p, 'isTrainingProject'),
    children: evidenceChildren('summary', evidenceOf(p, 'isTrainingProject')),
    kind: 'summary',
  });
  nodes.push(
    field(
      'frameworks',
      'Frameworks',
      p.frameworks.map(frameworkName).join(', ') || 'none found',
      'layers',
      evidenceOf(p, 'frameworks'),
      p.frameworks.map((fw) =>
        valueNode(
          `frameworks/${fw}`,
          frameworkName(fw),
          'symbol-package',
          evidenceOf(p, 'frameworks', fw),
          fw === p.primaryFramework ? 'primary' : undefined,
        ),
      ),
    ),
  );
  nodes.push(
    field(
      'entrypoints',
      'Entry points',
      p.entrypoints.join(', ') || 'none',
      'play',
      evidenceOf(p, 'entrypoints'),
      p.entrypoints.map((e) => {
        const ev = evidenceOf(p, 'entrypoints', e);
        // the script itself first, so clicking opens it
        const own = [...ev.filter((x) => x.file === e), ...ev.filter((x) => x.file !== e)];
        return valueNode(`entrypoints/${e}`, e, 'file-code', own);
      }),
    ),
  );
  const launcher = [p.launcher ?? 'python', ...(p.launcherArgs ?? [])].join(' ');
  nodes.push(field('launcher', 'Launcher', launcher, 'rocket', evidenceOf(p, 'launcher')));
  nodes.push(
    field('python', 'Python', p.pythonVersion ?? 'not pinned', 'symbol-namespace', evidenceOf(p, 'pythonVersion')),
  );
  nodes.push(field('cuda', 'CUDA', p.cudaHint ?? 'not pinned', 'chip', evidenceOf(p, 'cudaHint')));
  nodes.push(field('gpu', 'GPU', GPU_TEXT[p.needsGpu], 'circuit-board', evidenceOf(p, 'needsGpu')));
  nodes.push(
    field(
      'envFiles',
      'Environment files',
      String(p.envFiles.length),
      'file-submodule',
      [],
      p.envFiles.map((f) => ({
        id: `envFiles/${f}`,
        label: f,
        icon: 'file',
        evidence: [],
        open: { file: f, line: 1 },
        children: [],
        kind: 'value' as const,
      })),
    ),
  );
  if (p.notebooks > 0) nodes.push(field('notebooks', 'Notebooks', String(p.notebooks), 'notebook', [], []));
  if (p.warnings.length > 0) {
    nodes.push(
      field(
        'warnings',
        'Warnings',
        String(p.warnings.length),
        'warning',
        [],
        p.warnings.map((w, i) => ({
          id: `warnings/${i}`,
          label: w.file,
          description: w.message,
          tooltip: `${w.file} ${w.message}`,
          icon: 'warning',
          evidence: [],
          ...(w.file && w.file !== '.' && !w.file.endsWith('/') ? { open: { file: w.file, line: 1 } } : {}),
          children: [],
          kind: 'warning',
        })),
      ),
    );
  }
  return nodes;
}
