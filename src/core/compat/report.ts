/** The check result as a readable report (Markdown): used by the CLI's human output and the editor's report. */
import type { CheckResult, Finding } from './types';

const NAMES = { pytorch: 'PyTorch', tensorflow: 'TensorFlow', jax: 'JAX' } as const;
const ICON = { error: '⛔', warning: '⚠️', info: 'ℹ️' } as const;
const VERDICT = { ok: '✅ Compatible', warning: '⚠️ Works, with warnings', error: '⛔ Will not work as is' } as const;

function linkify(source: string): string {
  return source
    .split(' ; ')
    .map((s) => (/^https?:\/\//.test(s) ? `<${s}>` : s))
    .join(', ');
}

export function findingMarkdown(f: Finding): string {
  return [
    `### ${ICON[f.severity]} ${f.id}`,
    '',
    f.message,
    '',
    `**Fix:** ${f.fix}`,
    '',
    `**Source:** ${linkify(f.source)}`,
  ].join('\n');
}

export function checkReportMarkdown(r: CheckResult, title = 'GPU compatibility'): string {
  const h = r.host;
  const gpus = h.gpus.length
    ? h.gpus
        .map(
          (g) =>
            `${g.name} (compute capability ${g.computeCapability ?? 'unknown'}${g.datacenter ? ', data center' : ''})`,
        )
        .join('; ')
    : (h.reason ?? 'none');
  const engine = h.engine
    ? h.engine.reachable
      ? `Docker ${h.engine.engineVersion ?? ''} (API ${h.engine.apiVersion ?? '?'}), NVIDIA runtime: ${h.engine.nvidiaRuntime ? 'yes' : 'no'}, CDI GPU devices: ${h.engine.cdiGpuDevices.length}`
      : `not reachable${h.engine.reason ? `: ${h.engine.reason}` : ''}`
    : 'not checked';
  const i = r.image;
  const lines = [
    `# ${title}: ${VERDICT[r.verdict]}`,
    '',
    '| | |',
    '|---|---|',
    `| Driver | ${h.driverVersion ?? 'none'}${h.cudaDriverVersion ? ` (CUDA ${h.cudaDriverVersion})` : ''} |`,
    `| GPUs | ${gpus} |`,
    `| Engine | ${engine} |`,
    `| Image | ${i.ref ?? (i.framework ? "none: the facts come from the project's files" : 'none given')} |`,
    `| Image CUDA | ${i.cudaVersion ?? 'unknown'} |`,
    `| Framework | ${i.framework ? `${NAMES[i.framework]}${i.frameworkVersion ? ` ${i.frameworkVersion}` : ''}${i.frameworkCuda ? ` (CUDA ${i.frameworkCuda} build)` : ''}` : 'unknown'} |`,
    `| Framework GPU architectures | ${i.archList ?? 'unknown'} |`,
    '',
  ];
  if (r.findings.length === 0) lines.push('No problems found.');
  for (const f of r.findings) lines.push(findingMarkdown(f), '');
  return lines.join('\n');
}

/** Plain text for terminals. */
export function checkReportText(r: CheckResult, title?: string): string {
  const md = checkReportMarkdown(r, title);
  return md
    .replace(/^# /gm, '')
    .replace(/^### /gm, '\n')
    .replace(/\*\*/g, '')
    .replace(/^\|---\|---\|$\n/gm, '')
    .replace(/^\| \| \|$\n/gm, '')
    .replace(/^\| (.*?) \| (.*) \|$/gm, '  $1: $2')
    .replace(/<(https?:[^>]+)>/g, '$1');
}

/**
 * The one sentence a notification says when the verdict is not ok (the report itself says what the findings are and
 * how to fix them); undefined when everything is compatible.
 */
export function checkNotice(r: CheckResult): { severity: 'error' | 'warning'; message: string } | undefined {
  if (r.verdict === 'ok') return undefined;
  const problems = r.findings.filter((f) => f.severity !== 'info');
  const errors = problems.filter((f) => f.severity === 'error').length;
  if (r.verdict === 'error') {
    return {
      severity: 'error',
      message: `GPU check: ${errors} problem${errors === 1 ? '' : 's'} that will stop the container from using the GPU; the report says how to fix ${errors === 1 ? 'it' : 'them'}.`,
    };
  }
  return {
    severity: 'warning',
    message: `GPU check: ${problems.length} warning${problems.length === 1 ? '' : 's'}; see the report.`,
  };
}
