/**
 * Launch commands in shell scripts, Makefiles, job scripts, Dockerfiles and READMEs: which launcher starts
 * training (`torchrun`, `accelerate launch`, `deepspeed`, `horovodrun`, or plain `python`) and which script it runs.
 * Values are split into words like a shell would (quotes respected); nothing is ever executed.
 */
import { evidenceText } from '../util/text';
import { LAUNCH_COMMANDS } from './knowledge';
import type { Launcher } from './types';

export interface LaunchCommand {
  launcher: Launcher | 'python';
  /** The Python script the command runs, as written (relative to where the command runs), if any. */
  script: string | null;
  line: number;
  text: string;
}

// the command words, anywhere a command can start: line start, after a shell operator, a backtick, `$ `, `RUN`
const COMMAND_START =
  /(?:^|[;&|`(]|\$\s|\bRUN\s|\bexec\s|\bsrun\s(?:[^\n;&|]*?\s)?|\bmpirun\s(?:[^\n;&|]*?\s)?|\benv\s(?:\w+=\S*\s+)*|\bnohup\s|^\s*(?:\w+=\S*\s+)+)\s*(torchrun|accelerate\s+launch|deepspeed|horovodrun|python[\d.]*(?:\s+-m\s+torch\.distributed\.(?:run|launch))?)(?=\s|$)([^\n;&|`]*)/gm;

/** Shell-like word splitting of a single line (quotes removed, no expansion). */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** Options of each launcher that take a separate value (so the value is not taken for the script). */
const VALUE_OPTIONS =
  /^--?(?:nproc[_-]per[_-]node|nnodes|node[_-]rank|master[_-]addr|master[_-]port|rdzv[_-]\w+|config[_-]file|num[_-]processes|num[_-]machines|machine[_-]rank|main[_-]process[_-]\w+|mixed[_-]precision|gpu[_-]ids|num_gpus|num_nodes|hostfile|include|exclude|master_port|np|H|hosts|deepspeed[_-]config[_-]file|dynamo[_-]backend|max[_-]restarts|monitor[_-]interval|role|log[_-]dir|redirects|tee|local[_-]addr|standalone_port)$/;

export function findLaunchCommands(text: string): LaunchCommand[] {
  const out: LaunchCommand[] = [];
  const lineStarts: number[] = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineAt = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  // join shell continuations so `torchrun \` + `  --nproc_per_node=8 train.py` reads as one command
  const joined = text.replace(/\\\r?\n/g, '  ');
  COMMAND_START.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = COMMAND_START.exec(joined)) !== null) {
    const commandWord = m[1]!.replace(/\s+/g, ' ');
    const entry = LAUNCH_COMMANDS.find((c) => c.re.test(commandWord));
    if (!entry) continue;
    const argv = words(m[2] ?? '');
    let script: string | null = null;
    let moduleRun = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '-m' && entry.launcher !== 'python') {
        moduleRun = true;
        break;
      }
      if (a === '-m') break; // `python -m package`: not a script
      if (entry.launcher !== 'python' && /^python[\d.]*$/.test(a)) continue; // `horovodrun -np 4 python train.py`
      if (a.startsWith('-')) {
        if (!a.includes('=') && VALUE_OPTIONS.test(a)) i++;
        continue;
      }
      if (/\.py$/.test(a)) script = a.replace(/^\.\//, '');
      break;
    }
    if (entry.launcher === 'python' && !script) continue;
    if (entry.launcher === 'deepspeed' && !script && !moduleRun) continue; // `pip install deepspeed`, prose
    const line = lineAt(m.index + (m[0].length - m[0].trimStart().length));
    const lineText = text.split('\n')[line - 1] ?? '';
    out.push({ launcher: entry.launcher, script, line, text: evidenceText(lineText) });
  }
  return out;
}

/** `pip install torch torchvision` lines (READMEs, notebooks' `!pip install`): the package specs they install. */
/**
 * Install specs kept per file: plenty for a README or a notebook, and a bound on the work a crafted file of a
 * million packages on one `pip install` line can cause (each spec is parsed later).
 */
const MAX_INSTALL_SPECS = 1000;

export function findPipInstalls(text: string): { spec: string; line: number; text: string }[] {
  const out: { spec: string; line: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (out.length >= MAX_INSTALL_SPECS) return;
    const m = /(?:^|[\s`!%$])(?:pip3?|uv\s+pip|python[\d.]*\s+-m\s+pip)\s+install\s+([^`\n#]*)/.exec(raw);
    if (!m) return;
    const shown = evidenceText(raw);
    for (const w of words(m[1]!)) {
      if (w.startsWith('-') || w === '.' || w.includes('/')) continue;
      if (out.length >= MAX_INSTALL_SPECS) break;
      out.push({ spec: w, line: i + 1, text: shown });
    }
  });
  return out;
}

/** `conda install pytorch pytorch-cuda=12.1 -c pytorch` lines. */
export function findCondaInstalls(text: string): { spec: string; line: number; text: string }[] {
  const out: { spec: string; line: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (out.length >= MAX_INSTALL_SPECS) return;
    const m = /(?:^|[\s`!%$])(?:conda|mamba|micromamba)\s+install\s+([^`\n#]*)/.exec(raw);
    if (!m) return;
    const shown = evidenceText(raw);
    const ws = words(m[1]!);
    for (let j = 0; j < ws.length && out.length < MAX_INSTALL_SPECS; j++) {
      const w = ws[j]!;
      if (w === '-c' || w === '--channel' || w === '-n' || w === '--name') {
        j++;
        continue;
      }
      if (w.startsWith('-')) continue;
      out.push({ spec: w, line: i + 1, text: shown });
    }
  });
  return out;
}
