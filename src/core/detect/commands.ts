/**
 * Launch commands in shell scripts, Makefiles, job scripts, Dockerfiles and READMEs: which launcher starts
 * training (`torchrun`, `accelerate launch`, `deepspeed`, `horovodrun`, or plain `python`, also through `poetry run`
 * or `uv run`) and which script or `-m` module it runs; and the commands of the project's own console scripts.
 * Values are split into words like a shell would (quotes respected); nothing is ever executed.
 */
import { LineIndex, evidenceText } from '../util/text';
import { LAUNCH_COMMANDS } from './knowledge';
import type { Launcher } from './types';

export interface LaunchCommand {
  launcher: Launcher | 'python';
  /** The Python script the command runs, as written (relative to where the command runs), if any. */
  script: string | null;
  /** The module it runs instead (`python -m pkg.train`, `torchrun -m pkg.train`), if any. */
  module: string | null;
  /** The configuration file it hands the launcher (`accelerate launch --config_file configs/x.yaml …`), if any. */
  configFile: string | null;
  line: number;
  text: string;
}

/** A command of a program the project installs (a console script such as `trl sft …`). */
export interface ProgramCommand {
  program: string;
  /** Its first argument when that is a plain word (a subcommand such as `sft`), else null. */
  subcommand: string | null;
  line: number;
  text: string;
}

// where a command can start: line start, after a shell operator, a backtick, `$ `, `RUN`, `exec`, `srun …`,
// `mpirun …`, `env VAR=…`, `nohup`, `VAR=value` assignments, and a project runner (`poetry run`, `uv run`, …)
const COMMAND_PREFIX = String.raw`(?:^|[;&|${'`'}(]|\$\s|\bRUN\s|\bexec\s|\bsrun\s(?:[^\n;&|]*?\s)?|\bmpirun\s(?:[^\n;&|]*?\s)?|\benv\s(?:\w+=\S*[ \t]+)*|\bnohup\s|^[ \t]*(?:\w+=\S*[ \t]+)+|\b(?:poetry|uv|pipenv|pdm|hatch|rye|pixi)[ \t]+run[ \t]+(?:-\S+[ \t]+)*)[ \t]*`;
/** A project runner that runs Python itself: `uv run -m pkg.mod`, `poetry run train.py`. */
const RUNNER = String.raw`(?:poetry|uv|pipenv|pdm|hatch|rye|pixi)[ \t]+run(?=[ \t]+(?:-m[ \t]|[^\s-]\S*\.py(?:\s|$)))`;
/** The rest of a command's line: its arguments. */
const ARGS = String.raw`(?=\s|$)([^\n;&|${'`'}]*)`;
const COMMAND_START = new RegExp(
  String.raw`${COMMAND_PREFIX}(torchrun|accelerate\s+launch|deepspeed|horovodrun|${RUNNER}|python[\d.]*(?:\s+-m\s+torch\.distributed\.(?:run|launch))?)${ARGS}`,
  'gm',
);
const IS_RUNNER = /^(?:poetry|uv|pipenv|pdm|hatch|rye|pixi) run$/;

/** Modules `python -m` runs that install packages or make environments: never a launch. */
const TOOL_MODULES = /^(?:pip|ensurepip|venv|virtualenv|uv)$/;

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

/** `accelerate launch`'s option that names its configuration file. */
const CONFIG_FILE_OPTION = /^--config[_-]file$/;

/** The 1-based line of each command match's command word (not of a code fence or a `VAR=` line above it). */
function commandMatches(re: RegExp, text: string): { word: string; args: string; line: number; lineText: string }[] {
  const lines = new LineIndex(text);
  // join shell continuations so `torchrun \` + `  --nproc_per_node=8 train.py` reads as one command
  const joined = text.replace(/\\(\r?\n)/g, (_, nl: string) => ' '.repeat(nl.length + 1));
  const out: { word: string; args: string; line: number; lineText: string }[] = [];
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(joined)) !== null) {
    const args = m[2] ?? '';
    const line = lines.lineAt(m.index + m[0].length - args.length - m[1]!.length);
    out.push({ word: m[1]!.replace(/\s+/g, ' '), args, line, lineText: lines.lineText(line) });
  }
  return out;
}

export function findLaunchCommands(text: string): LaunchCommand[] {
  const out: LaunchCommand[] = [];
  for (const { word, args, line, lineText } of commandMatches(COMMAND_START, text)) {
    const runner = IS_RUNNER.test(word);
    const entry = runner ? { launcher: 'python' as const } : LAUNCH_COMMANDS.find((c) => c.re.test(word));
    if (!entry) continue;
    const argv = words(args);
    let script: string | null = null;
    let module: string | null = null;
    let configFile: string | null = null;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '-m') {
        module = argv[i + 1] ?? null;
        break;
      }
      // `horovodrun -np 4 python train.py`, `poetry run python train.py`
      if ((entry.launcher !== 'python' || runner) && /^python[\d.]*$/.test(a)) continue;
      if (a.startsWith('-')) {
        const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, null];
        if (value === null && VALUE_OPTIONS.test(a)) i++;
        if (entry.launcher === 'accelerate' && CONFIG_FILE_OPTION.test(name!)) configFile = value ?? argv[i] ?? null;
        continue;
      }
      if (/\.py$/.test(a)) script = a.replace(/^\.\//, '');
      break;
    }
    if (module !== null && (!/^[\w.]+$/.test(module) || TOOL_MODULES.test(module))) module = null;
    if (entry.launcher === 'python' && !script && !module) continue;
    if (entry.launcher === 'deepspeed' && !script && !module) continue; // `pip install deepspeed`, prose
    out.push({ launcher: entry.launcher, script, module, configFile, line, text: evidenceText(lineText) });
  }
  return out;
}

/** Commands that run one of `programs` (console scripts the project installs), with their subcommand. */
export function findProgramCommands(text: string, programs: readonly string[]): ProgramCommand[] {
  if (programs.length === 0) return [];
  const names = programs.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const re = new RegExp(`${COMMAND_PREFIX}(${names})${ARGS}`, 'gm');
  return commandMatches(re, text).map(({ word, args, line, lineText }) => {
    const first = words(args)[0];
    const subcommand = first !== undefined && /^[A-Za-z][\w-]*$/.test(first) ? first : null;
    return { program: word, subcommand, line, text: evidenceText(lineText) };
  });
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
