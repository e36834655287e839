/**
 * What a Python file does when it is run, read from its structure: its top-level statements, the functions and
 * classes it defines, and its `if __name__ == "__main__":` block. Running a file executes its module-level code and
 * its main block; a function or class runs only when that code names it (calls it, or hands it to `app.run(main)`).
 * So a library module whose training sits in methods, under module-level setup (`logger = get_logger()`,
 * `tf.random.set_seed(0)`), does not train when run; a script whose main block calls `main()` does.
 */
import { LineIndex, evidenceText } from '../util/text';
import { TRAINING_PATTERNS } from './knowledge';
import { lexPython } from './python';

export interface RunFacts {
  /**
   * The first training line running the file reaches, and from where: module-level code (`module`) or only the
   * main block (`main`); null when running it trains nothing.
   */
  runsTraining: { line: number; text: string; from: 'module' | 'main' } | null;
  /** Some training code lies outside the main block (in module code, functions or classes). */
  trainsOutsideMain: boolean;
  /** Reads command-line arguments (argparse, click, typer, tyro, fire, absl flags, hydra, `sys.argv`, …). */
  hasCli: boolean;
  /**
   * Calls, from the code the file runs, of functions of imported modules (`train.train_and_evaluate(…)`,
   * `from trainer import fit; fit(…)`): the modules they may come from, as imported (relative ones keep their dots),
   * and whether the function is named for training (`train…`, `fit…`). The first call per module and kind.
   */
  importedCalls: { modules: string[]; named: boolean; line: number; text: string }[];
}

type RegionKind = 'def' | 'main' | 'code';

interface Region {
  kind: RegionKind;
  /** The function or class a `def` region defines. */
  name?: string;
  /** 0-based first and last line. */
  first: number;
  last: number;
}

const DEF = /^(?:async\s+)?(?:def|class)\s+(\w+)/;
const MAIN = /^if\s+(?:__name__\s*==\s*(['"])__main__\1|(['"])__main__\2\s*==\s*__name__)\s*:/;
const IDENTIFIER = /(?<![\w.])[A-Za-z_]\w*/g;
const CLI_MODULES = new Set([
  'argparse',
  'click',
  'typer',
  'tyro',
  'fire',
  'docopt',
  'jsonargparse',
  'simple_parsing',
  'configargparse',
  'absl',
  'hydra',
]);
const CLI_CODE = /\bsys\.argv\b|\b(?:ArgumentParser|HfArgumentParser|TrlParser|LightningCLI)\s*\(|\bflags\.DEFINE_/;
/** A call of a function, bare or through a name (`train.train_and_evaluate(`). */
const CALL = /(?<![\w.])(?:(\w+)\.)?(\w+)\s*\(/g;
const TRAINING_NAME = /^(?:train|fit)/;

/** Top-level statements grouped into regions: definitions (with their decorators), the main block, other code. */
function regions(code: string, withStrings: string): Region[] {
  const lines = code.split('\n');
  const shown = withStrings.split('\n');
  const out: Region[] = [];
  let depth = 0;
  let continued = false;
  let decoratorFrom = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (depth === 0 && !continued && /^[^\s]/.test(line)) {
      const previous = out[out.length - 1];
      if (previous) previous.last = i - 1;
      if (line.startsWith('@')) {
        if (decoratorFrom < 0) decoratorFrom = i;
      } else {
        const def = DEF.exec(line);
        const first = def && decoratorFrom >= 0 ? decoratorFrom : i;
        if (def) out.push({ kind: 'def', name: def[1]!, first, last: i });
        else out.push({ kind: MAIN.test(shown[i] ?? '') ? 'main' : 'code', first: i, last: i });
        decoratorFrom = -1;
      }
    }
    for (const ch of line) {
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
    }
    continued = /\\\s*$/.test(line);
  }
  const last = out[out.length - 1];
  if (last) last.last = lines.length - 1;
  return out;
}

/** Import aliases: a name bound to a module (`import a.b as x`, `from p import m`) or to a name of a module. */
function importedNames(code: string): { modules: Map<string, string[]>; names: Map<string, string> } {
  const modules = new Map<string, string[]>();
  const names = new Map<string, string>();
  for (const m of code.matchAll(/^[ \t]*import[ \t]+([\w. \t,]+)/gm)) {
    for (const part of m[1]!.split(',')) {
      const [mod, , alias] = part.trim().split(/\s+/);
      if (!mod) continue;
      if (alias) modules.set(alias, [mod]);
      else modules.set(mod.split('.')[0]!, [mod.split('.')[0]!]);
    }
  }
  for (const m of code.matchAll(/^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)?|[^\n]*)/gm)) {
    const from = m[1]!;
    for (const part of m[2]!.replace(/[()\\]/g, ' ').split(',')) {
      const [name, , alias] = part.trim().split(/\s+/);
      if (!name || name === '*') continue;
      const bound = alias ?? name;
      // `from pkg import train` may bind a submodule or a function of pkg
      modules.set(bound, [from.endsWith('.') ? `${from}${name}` : `${from}.${name}`, from]);
      names.set(bound, from);
    }
  }
  return { modules, names };
}

/** Reads how a Python source runs. */
export function analyzeRun(src: string): RunFacts {
  const { code, codeWithStrings } = lexPython(src);
  const index = new LineIndex(src);
  const all = regions(code, codeWithStrings);
  const lines = code.split('\n');
  const regionOfLine = new Int32Array(lines.length).fill(-1);
  all.forEach((r, k) => regionOfLine.fill(k, r.first, r.last + 1));
  const texts = all.map((r) => lines.slice(r.first, r.last + 1).join('\n'));

  // training lines by region
  const trainingLines: number[] = [];
  for (const p of TRAINING_PATTERNS) {
    const needles = p.needle === undefined ? [] : typeof p.needle === 'string' ? [p.needle] : p.needle;
    if (needles.length > 0 && !needles.some((n) => code.includes(n))) continue;
    for (const m of code.matchAll(new RegExp(p.re.source, `${p.re.flags.replace('g', '')}g`))) {
      trainingLines.push(index.lineAt(m.index) - 1);
    }
  }
  trainingLines.sort((a, b) => a - b);

  // which regions the module-level code and the main block reach, through the functions and classes they name
  const defs = new Map<string, number>();
  all.forEach((r, k) => r.kind === 'def' && r.name && defs.set(r.name, k));
  const reach = (from: RegionKind): Set<number> => {
    const seen = new Set<number>();
    const queue = all.flatMap((r, k) => (r.kind === from ? [k] : []));
    for (const k of queue) seen.add(k);
    for (let i = 0; i < queue.length; i++) {
      for (const m of texts[queue[i]!]!.matchAll(IDENTIFIER)) {
        const d = defs.get(m[0]);
        if (d !== undefined && !seen.has(d)) {
          seen.add(d);
          queue.push(d);
        }
      }
    }
    return seen;
  };
  const fromModule = reach('code');
  const fromMain = reach('main');
  const firstIn = (set: Set<number>): number | undefined => trainingLines.find((l) => set.has(regionOfLine[l]!));
  const hitModule = firstIn(fromModule);
  const hitMain = hitModule === undefined ? firstIn(fromMain) : undefined;
  const hit = hitModule ?? hitMain;
  const shown = (line: number): string => evidenceText(index.lineText(line + 1));

  // calls of functions of imported modules, in the code the file runs (the first per module and kind)
  const { modules, names } = importedNames(code);
  const runs = (line: number): boolean => fromModule.has(regionOfLine[line]!) || fromMain.has(regionOfLine[line]!);
  const importedCalls: RunFacts['importedCalls'] = [];
  const seenCalls = new Set<string>();
  for (const m of code.matchAll(CALL)) {
    const via = m[1] ? modules.get(m[1]) : names.has(m[2]!) ? [names.get(m[2]!)!] : undefined;
    const named = TRAINING_NAME.test(m[2]!);
    const key = `${via?.join(' ')}\u0000${named}`;
    if (!via || seenCalls.has(key)) continue;
    const line = index.lineAt(m.index) - 1;
    if (!runs(line)) continue;
    seenCalls.add(key);
    importedCalls.push({ modules: via, named, line: line + 1, text: shown(line) });
  }

  const imports = [...modules.values()].map((v) => v[v.length - 1]!.replace(/^\.+/, '').split('.')[0]!);
  return {
    runsTraining:
      hit === undefined ? null : { line: hit + 1, text: shown(hit), from: hitModule !== undefined ? 'module' : 'main' },
    trainsOutsideMain: trainingLines.some((l) => all[regionOfLine[l]!]?.kind !== 'main'),
    hasCli: imports.some((i) => CLI_MODULES.has(i)) || CLI_CODE.test(code),
    importedCalls,
  };
}
