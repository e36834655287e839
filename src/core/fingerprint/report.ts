/**
 * The comparison of two fingerprints as a readable report (Markdown), as compat/report.ts is the check's: the
 * editor's Compare Environments shows it; the command line prints diffText.
 */
import type { FingerprintDifference } from './types';

const ICON = { breaking: '⛔', significant: '⚠️', minor: 'ℹ️' } as const;

/** A table cell's text: a `|` or a line break in a value would end the cell (or the row) early. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The ranked differences between fingerprint A and B (named as the user knows them) as a Markdown report. */
export function diffReportMarkdown(a: string, b: string, diffs: readonly FingerprintDifference[]): string {
  const lines = [`# Environment comparison`, '', `**A:** ${a}  `, `**B:** ${b}`, ''];
  if (diffs.length === 0) {
    lines.push('No differences that matter for GPU training.');
    return lines.join('\n');
  }
  lines.push('| | What | A | B | Why it matters |', '|---|---|---|---|---|');
  for (const d of diffs) {
    lines.push(
      `| ${ICON[d.impact]} ${d.impact} | \`${cell(d.what)}\` | ${cell(d.a)} | ${cell(d.b)} | ${cell(d.why)} |`,
    );
  }
  return lines.join('\n');
}
