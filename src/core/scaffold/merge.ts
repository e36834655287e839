/**
 * Merges the GPU settings a project wants into a user's existing devcontainer.json by editing its text, never by
 * re-serialising it: every comment, key, order, indentation, line ending and trailing comma the user wrote stays
 * where it was. Edits are computed from jsonc-parser's syntax tree and scanner and applied with its `applyEdits`.
 *
 * Why not jsonc-parser's `modify` with formatting options: it re-formats every line an edit touches, so inserting a
 * property after `"a": 1, // about a` leaves `// about a` at the end of the new property's line, a single-line
 * `["--init"]` array next to the insertion is spread over three lines, and removing an array element removes the
 * comments around it. The edits below touch only the characters they add or remove.
 *
 * The merge never throws on input. A file it cannot merge (it does not parse, is empty or is not an object) comes
 * back unchanged with exactly one change, of kind 'manual' and path '', that says why and where: the caller then
 * refuses to write. As a last guard, a merged text that would not parse or would lack one of the original comments is
 * refused the same way. Merging a second time changes nothing.
 */
import {
  applyEdits,
  createScanner,
  type Edit,
  findNodeAtLocation,
  getNodeValue,
  type JSONPath,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
  SyntaxKind,
} from 'jsonc-parser';
import { json, visible } from '../util/encode';
import { errorMessage } from '../util/errors';
import { MAX_NESTING, jsoncTooDeep } from '../util/json';
import type { DevcontainerGpuSettings, MergeChange, MergeResult } from './types';
import {
  devcontainerKind,
  groupTokens,
  hasExtension,
  isHardCodedGpuFlag,
  isRecord,
  mountTarget,
  type RunArgGroup,
  runArgGroups,
  runArgsSatisfy,
  setsSharedMemory,
} from './validate';

export interface MergeOptions {
  /** The file's name in messages (default `devcontainer.json`). */
  file?: string;
}

/** Edits `existingText` so that it has the `wanted` GPU settings; see the module comment. */
export function mergeDevcontainer(
  existingText: string,
  wanted: DevcontainerGpuSettings,
  opts: MergeOptions = {},
): MergeResult {
  const file = opts.file ?? 'devcontainer.json';
  try {
    return mergeText(existingText, wanted, file);
  } catch (err) {
    const message = `${file} was left unchanged: the merge failed (${errorMessage(err)}). Add the GPU settings by hand.`;
    return { text: existingText, changes: [{ kind: 'manual', path: '', message }] };
  }
}

/** What Dev Containers does with hostRequirements.gpu (@devcontainers/cli: `docker info` lists the nvidia runtime). */
const DEFAULT_WHY = {
  gpuOptional:
    'Dev Containers adds --gpus all only where Docker has the NVIDIA runtime, so the container still opens without a GPU.',
  gpuRequired: 'Dev Containers adds --gpus all where Docker has the NVIDIA runtime and warns where it does not.',
};

function mergeText(existingText: string, wanted: DevcontainerGpuSettings, file: string): MergeResult {
  const bom = existingText.startsWith('\uFEFF') ? '\uFEFF' : '';
  const original = existingText.slice(bom.length);
  const problem = parseProblem(original, file);
  if (problem) return { text: existingText, changes: [{ kind: 'manual', path: '', message: problem }] };

  const doc = new JsoncDocument(original);
  const changes: MergeChange[] = [];
  const why = (key: string, fallback = ''): string => {
    const w = wanted.why[key] ?? fallback;
    return w ? `: ${w}` : '.';
  };
  const config: unknown = doc.value([]);
  const compose = devcontainerKind(config) === 'compose';

  // hostRequirements.gpu -----------------------------------------------------------------------------------------
  const gpuWhy = wanted.gpu === true ? DEFAULT_WHY.gpuRequired : DEFAULT_WHY.gpuOptional;
  const host = doc.node(['hostRequirements']);
  if (host && host.type !== 'object') {
    changes.push(manual('hostRequirements', `hostRequirements in ${file} is not an object: set "gpu" by hand.`));
  } else {
    const gpu = doc.node(['hostRequirements', 'gpu']);
    if (gpu) {
      const mine = getNodeValue(gpu) as unknown;
      const differs = JSON.stringify(mine) !== JSON.stringify(wanted.gpu);
      const note = differs ? ` (this project would use ${JSON.stringify(wanted.gpu)})` : '';
      changes.push({
        kind: 'kept',
        path: 'hostRequirements.gpu',
        message: `Kept your hostRequirements.gpu = ${JSON.stringify(mine)}${note}.`,
      });
    } else {
      if (host) doc.insert(['hostRequirements'], [{ key: 'gpu', value: wanted.gpu }]);
      else {
        doc.insert([], [{ key: 'hostRequirements', value: { gpu: wanted.gpu }, comment: wanted.why.hostRequirements }]);
      }
      changes.push({
        kind: 'added',
        path: 'hostRequirements.gpu',
        message: `Added hostRequirements.gpu = ${JSON.stringify(wanted.gpu)}${why('hostRequirements', gpuWhy)}`,
      });
    }
  }

  // runArgs (Docker Compose ignores them) --------------------------------------------------------------------------
  if (compose) {
    changes.push(...composeInstructions(doc, wanted, file));
  } else {
    changes.push(...mergeRunArgs(doc, wanted, file, why('runArgs')));
  }

  // mounts ---------------------------------------------------------------------------------------------------------
  changes.push(
    ...mergeList(doc, ['mounts'], wanted.mounts, file, {
      same: (have, w) =>
        have.some((m) =>
          mountTarget(w) ? mountTarget(m) === mountTarget(w) : JSON.stringify(m) === JSON.stringify(w),
        ),
      describe: (w) => mountTarget(w) ?? String(w),
      kept: (have, w) => {
        const mine = have.find((m) => mountTarget(m) === mountTarget(w));
        return JSON.stringify(mine) === JSON.stringify(w)
          ? undefined
          : `Kept your mount for ${mountTarget(w) ?? String(w)} (${JSON.stringify(mine)}) instead of ${JSON.stringify(w)}.`;
      },
      why: why('mounts'),
      comment: wanted.why.mounts,
    }),
  );

  // containerEnv ---------------------------------------------------------------------------------------------------
  const envKeys = Object.keys(wanted.containerEnv);
  if (envKeys.length > 0) {
    const envNode = doc.node(['containerEnv']);
    if (envNode && envNode.type !== 'object') {
      changes.push(
        manual('containerEnv', `containerEnv in ${file} is not an object: add ${envKeys.join(', ')} by hand.`),
      );
    } else {
      const mine = isRecord(doc.value(['containerEnv']))
        ? (doc.value(['containerEnv']) as Record<string, unknown>)
        : {};
      const add = envKeys.filter((k) => !(k in mine));
      for (const k of envKeys.filter((k2) => k2 in mine && mine[k2] !== wanted.containerEnv[k2])) {
        changes.push({
          kind: 'kept',
          path: `containerEnv.${k}`,
          message: `Kept your containerEnv.${k} = ${JSON.stringify(mine[k])} (this project would use ${JSON.stringify(wanted.containerEnv[k])}).`,
        });
      }
      if (add.length > 0) {
        const entries = add.map((k) => ({ key: k, value: wanted.containerEnv[k] }));
        if (envNode) doc.insert(['containerEnv'], entries);
        else {
          const value = Object.fromEntries(add.map((k) => [k, wanted.containerEnv[k]]));
          doc.insert([], [{ key: 'containerEnv', value, comment: wanted.why.containerEnv }]);
        }
        for (const k of add) {
          changes.push({
            kind: 'added',
            path: `containerEnv.${k}`,
            message: `Added containerEnv.${k} = ${JSON.stringify(wanted.containerEnv[k])}${why('containerEnv')}`,
          });
        }
      }
    }
  }

  // customizations.vscode.extensions -------------------------------------------------------------------------------
  if (wanted.extensions.length > 0) changes.push(...mergeExtensions(doc, wanted, file, why('customizations')));

  const text = doc.text;
  const broken = parseProblem(text, file)
    ? 'the merged text would not parse'
    : !isSubsequence(comments(original), comments(text))
      ? 'a comment would have been lost'
      : undefined;
  if (broken) {
    const message = `${file} was left unchanged: ${broken} (a bug in ML Containers). Add the GPU settings by hand.`;
    return { text: existingText, changes: [{ kind: 'manual', path: '', message }] };
  }
  return { text: bom + text, changes };
}

/** Every comment of the text, in order. */
function comments(text: string): string[] {
  const scanner = createScanner(text, false);
  const out: string[] = [];
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    const comment = kind === SyntaxKind.LineCommentTrivia || kind === SyntaxKind.BlockCommentTrivia;
    if (comment) out.push(scanner.getTokenValue());
  }
  return out;
}

function isSubsequence(sub: readonly string[], seq: readonly string[]): boolean {
  let i = 0;
  for (const s of seq) if (i < sub.length && s === sub[i]) i++;
  return i === sub.length;
}

function manual(path: string, message: string): MergeChange {
  return { kind: 'manual', path, message };
}

/** Why `text` cannot be merged (it does not parse, or is not an object), or undefined when it can. */
function parseProblem(text: string, file: string): string | undefined {
  if (nextToken(text, 0).kind === SyntaxKind.EOF) {
    return `${file} is empty; it was left unchanged (write a new dev container instead).`;
  }
  if (jsoncTooDeep(text)) {
    return `${file} is nested more than ${MAX_NESTING} levels deep; it was left unchanged. Fix it, then run the merge again.`;
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumn(text, first.offset);
    return (
      `${file} could not be parsed (${printParseErrorCode(first.error)} at line ${line}, column ${column}); ` +
      'it was left unchanged. Fix it, then run the merge again.'
    );
  }
  if (!root || root.type !== 'object') {
    const { line } = lineColumn(text, root?.offset ?? 0);
    return `${file} does not hold a JSON object (a ${root?.type ?? 'value'} at line ${line}); it was left unchanged.`;
  }
  return undefined;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

// runArgs ------------------------------------------------------------------------------------------------------------

function mergeRunArgs(doc: JsoncDocument, wanted: DevcontainerGpuSettings, file: string, why: string): MergeChange[] {
  const changes: MergeChange[] = [];
  const node = doc.node(['runArgs']);
  if (node && node.type !== 'array') {
    const tokens = wanted.runArgs.map((t) => JSON.stringify(t)).join(', ');
    return [manual('runArgs', `runArgs in ${file} is not a list: add ${tokens} by hand.`)];
  }
  if (node) {
    // Hard-coded GPU flags go (last first, so the indices of the others stay valid).
    const tokens = doc.value(['runArgs']) as unknown[];
    const gpuGroups = runArgGroups(tokens).filter(isHardCodedGpuFlag);
    for (const g of [...gpuGroups].reverse()) {
      for (let i = g.end - 1; i >= g.start; i--) doc.removeElement(['runArgs'], i);
    }
    for (const g of gpuGroups) changes.push(gpuRemoval(tokens, g));
    for (const g of runArgGroups(doc.value(['runArgs']) as unknown[])) {
      if (g.oneToken && !isHardCodedGpuFlag(g)) {
        const token = JSON.stringify(`${g.flag} ${g.value ?? ''}`);
        changes.push(
          manual(
            'runArgs',
            `runArgs has ${token} as one token: Docker reads it as an unknown flag. Split it into ` +
              `${JSON.stringify(g.flag)}, ${JSON.stringify(g.value ?? '')}.`,
          ),
        );
      }
    }
  }
  const have = runArgGroups(node ? (doc.value(['runArgs']) as unknown[]) : []);
  const add: unknown[][] = [];
  for (const g of runArgGroups(wanted.runArgs)) {
    const tokens = groupTokens(wanted.runArgs, g);
    if (!runArgsSatisfy(have, g)) {
      add.push(tokens);
      continue;
    }
    if (setsSharedMemory(g)) {
      const mine = have.find(setsSharedMemory)!;
      const mineTokens = groupTokens(doc.value(['runArgs']) as unknown[], mine);
      if (JSON.stringify(mineTokens) !== JSON.stringify(tokens)) {
        changes.push({
          kind: 'kept',
          path: 'runArgs',
          message: `Kept your shared-memory setting ${mineTokens.map((t) => JSON.stringify(t)).join(', ')} instead of ${tokens.map((t) => JSON.stringify(t)).join(', ')}.`,
        });
      }
    }
  }
  if (add.length > 0) {
    if (node) doc.appendGroups(['runArgs'], add);
    else doc.insert([], [{ key: 'runArgs', value: new Grouped(add), comment: undefinedIfEmpty(why) }]);
    const list = add.flat().map((t) => JSON.stringify(t));
    changes.push({ kind: 'added', path: 'runArgs', message: `Added ${list.join(', ')} to runArgs${why}` });
  }
  return changes;
}

function undefinedIfEmpty(why: string): string | undefined {
  return why.startsWith(': ') ? why.slice(2) : undefined;
}

function gpuRemoval(tokens: readonly unknown[], g: RunArgGroup): MergeChange {
  const written = groupTokens(tokens, g)
    .map((t) => JSON.stringify(t))
    .join(', ');
  const broken = g.oneToken
    ? ` It was also broken everywhere: as one token Docker reads the unknown flag ${JSON.stringify(`${g.flag} ${g.value ?? ''}`)}.`
    : '';
  return {
    kind: 'removed',
    path: 'runArgs',
    message:
      `Removed ${written} from runArgs: a hard-coded ${g.flag} makes the container fail to start on machines without ` +
      `an NVIDIA GPU (a teammate's laptop); hostRequirements.gpu asks for the GPUs only where there are some.${broken}`,
  };
}

/** With Docker Compose, runArgs and hostRequirements.gpu do nothing: say what to put in the compose file instead. */
function composeInstructions(doc: JsoncDocument, wanted: DevcontainerGpuSettings, file: string): MergeChange[] {
  const service = doc.value(['service']);
  const composeFiles = ([] as unknown[]).concat(doc.value(['dockerComposeFile'])).filter((f) => typeof f === 'string');
  const serviceName = typeof service === 'string' ? JSON.stringify(service) : `(the "service" of ${file})`;
  const where = `service ${serviceName} in ${composeFiles.length > 0 ? composeFiles.join(' / ') : 'your compose file'}`;
  const changes: MergeChange[] = [];
  const optional = wanted.gpu === 'optional';
  changes.push(
    manual(
      'dockerComposeFile',
      `Docker Compose ignores hostRequirements.gpu: to give the container the GPUs, add to ${where}: ` +
        'deploy: { resources: { reservations: { devices: [{ driver: nvidia, count: all, capabilities: [gpu] }] } } }' +
        (optional
          ? '. Compose then refuses to start the service without an NVIDIA GPU: keep it in a separate compose file ' +
            '(e.g. docker-compose.gpu.yml) that only GPU machines list.'
          : '.'),
    ),
  );
  const groups = runArgGroups(wanted.runArgs);
  const shm = groups.find(setsSharedMemory);
  if (shm) {
    const setting = shm.flag === '--ipc' ? 'ipc: host' : `shm_size: "${shm.value ?? ''}"`;
    changes.push(
      manual(
        'dockerComposeFile',
        `Docker Compose ignores runArgs: add ${setting} to ${where} (the default 64 MB /dev/shm crashes DataLoader ` +
          'workers and NCCL).',
      ),
    );
  }
  const ulimits = groups.filter((g) => g.flag === '--ulimit' && g.value);
  if (ulimits.length > 0) {
    const list = ulimits.map((g) => {
      const [name, limit] = g.value!.split('=', 2);
      return `${name}: ${limit ?? ''}`;
    });
    changes.push(
      manual('dockerComposeFile', `Docker Compose ignores runArgs: add ulimits: { ${list.join(', ')} } to ${where}.`),
    );
  }
  const rest = groups.filter((g) => !setsSharedMemory(g) && g.flag !== '--ulimit');
  if (rest.length > 0) {
    const tokens = rest.flatMap((g) => groupTokens(wanted.runArgs, g)).join(' ');
    changes.push(
      manual('dockerComposeFile', `Docker Compose ignores runArgs: add the equivalent of ${tokens} to ${where}.`),
    );
  }
  return changes;
}

// lists --------------------------------------------------------------------------------------------------------------

interface ListRules {
  same: (have: unknown[], wanted: string) => boolean;
  describe: (wanted: string) => string;
  /** A 'kept' message when the user's matching entry differs from the wanted one. */
  kept: (have: unknown[], wanted: string) => string | undefined;
  why: string;
  comment: string | undefined;
}

function mergeList(
  doc: JsoncDocument,
  path: string[],
  wanted: string[],
  file: string,
  rules: ListRules,
): MergeChange[] {
  if (wanted.length === 0) return [];
  const name = path.join('.');
  const node = doc.node(path);
  if (node && node.type !== 'array') {
    return [manual(name, `${name} in ${file} is not a list: add ${wanted.map(rules.describe).join(', ')} by hand.`)];
  }
  const have = node ? (doc.value(path) as unknown[]) : [];
  const changes: MergeChange[] = [];
  const add: string[] = [];
  for (const w of wanted) {
    if (!rules.same([...have, ...add], w)) {
      add.push(w);
      continue;
    }
    const kept = rules.kept(have, w);
    if (kept) changes.push({ kind: 'kept', path: name, message: kept });
  }
  if (add.length === 0) return changes;
  if (node) {
    doc.appendGroups(
      path,
      add.map((a) => [a]),
    );
  } else doc.insertAt(path, add, rules.comment);
  for (const a of add) {
    changes.push({ kind: 'added', path: name, message: `Added ${rules.describe(a)} to ${name}${rules.why}` });
  }
  return changes;
}

function mergeExtensions(
  doc: JsoncDocument,
  wanted: DevcontainerGpuSettings,
  file: string,
  why: string,
): MergeChange[] {
  const path = ['customizations', 'vscode', 'extensions'];
  for (let i = 1; i < path.length; i++) {
    const n = doc.node(path.slice(0, i));
    if (n && n.type !== 'object') {
      const where = path.slice(0, i).join('.');
      return [
        manual(
          where,
          `${where} in ${file} is not an object: add the extensions ${wanted.extensions.join(', ')} by hand.`,
        ),
      ];
    }
  }
  return mergeList(doc, path, wanted.extensions, file, {
    same: (have, w) => hasExtension(have, w),
    describe: (w) => w,
    kept: (have, w) =>
      have.some((e) => typeof e === 'string' && e.toLowerCase() === `-${w.toLowerCase()}`)
        ? `Kept your exclusion of the extension ${w} ("-${w}").`
        : undefined,
    why,
    comment: wanted.why.customizations,
  });
}

// text edits ---------------------------------------------------------------------------------------------------------

/** An array value whose elements are written in groups, one group a line (`"--ulimit", "memlock=-1"`). */
class Grouped {
  constructor(readonly groups: unknown[][]) {}
}

interface NewProperty {
  key: string;
  value: unknown;
  /** A `//` comment line written above the property (only in objects that span several lines). */
  comment?: string | undefined;
}

interface Style {
  eol: string;
  /** One level of indentation: a tab or some spaces. */
  unit: string;
}

/** The text being edited, re-parsed after every edit so that each edit is computed on the current text. */
class JsoncDocument {
  private root: Node;
  readonly style: Style;

  constructor(public text: string) {
    this.root = this.parse();
    this.style = inferStyle(text, this.root);
  }

  private parse(): Node {
    const root = parseTree(this.text, [], { allowTrailingComma: true });
    if (!root) throw new Error('the text no longer parses');
    return root;
  }

  private apply(edits: Edit[]): void {
    this.text = applyEdits(this.text, edits);
    this.root = this.parse();
  }

  node(path: JSONPath): Node | undefined {
    return path.length === 0 ? this.root : findNodeAtLocation(this.root, path);
  }

  value(path: JSONPath): unknown {
    const n = this.node(path);
    return n ? (getNodeValue(n) as unknown) : undefined;
  }

  /**
   * Creates the missing containers along `path` and gives its last key `elements` (an array). The deepest existing
   * object gets one new property holding the rest of the path.
   */
  insertAt(path: string[], elements: unknown[], comment: string | undefined): void {
    let depth = path.length - 1;
    while (depth > 0 && !this.node(path.slice(0, depth))) depth--;
    let value: unknown = new Grouped(elements.map((e) => [e]));
    for (let i = path.length - 1; i > depth; i--) value = { [path[i]!]: value };
    this.insert(path.slice(0, depth), [{ key: path[depth]!, value, comment: depth === 0 ? comment : undefined }]);
  }

  /** Adds properties at the end of the object at `path`. */
  insert(path: JSONPath, props: NewProperty[]): void {
    const obj = this.node(path);
    if (!obj || obj.type !== 'object') throw new Error(`${path.join('.') || 'the top level'} is not an object`);
    this.insertItems(
      obj,
      props.map((p) => ({
        comment: p.comment,
        render: (indent: string, multiLine: boolean) =>
          `${JSON.stringify(p.key)}: ${multiLine ? this.render(p.value, indent) : renderInline(p.value)}`,
      })),
    );
  }

  /** Adds elements at the end of the array at `path`, one group a line. */
  appendGroups(path: JSONPath, groups: unknown[][]): void {
    const arr = this.node(path);
    if (!arr || arr.type !== 'array') throw new Error(`${path.join('.')} is not a list`);
    this.insertItems(
      arr,
      groups.map((g) => ({ comment: undefined, render: () => g.map((v) => renderInline(v)).join(', ') })),
    );
  }

  /** A value written as it would appear at `indent` in a multi-line layout. */
  private render(value: unknown, indent: string): string {
    const { eol, unit } = this.style;
    const inner = indent + unit;
    if (value instanceof Grouped) {
      if (value.groups.length === 0) return '[]';
      const lines = value.groups.map((g) => inner + g.map((v) => renderInline(v)).join(', '));
      return `[${eol}${lines.join(`,${eol}`)}${eol}${indent}]`;
    }
    if (Array.isArray(value)) return this.render(new Grouped(value.map((v: unknown) => [v])), indent);
    if (isRecord(value)) {
      const entries = Object.entries(value);
      if (entries.length === 0) return '{}';
      const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${this.render(v, inner)}`);
      return `{${eol}${lines.join(`,${eol}`)}${eol}${indent}}`;
    }
    return json(value);
  }

  /**
   * Inserts items after the last child of an object or array. A container on one line stays on one line; in a
   * multi-line one each item gets its own line, indented like its siblings, after any comment that ends the last
   * child's line, and the user's trailing-comma habit is kept.
   */
  private insertItems(container: Node, items: Item[]): void {
    if (items.length === 0) return;
    const { eol } = this.style;
    const text = this.text;
    const open = container.offset;
    const close = container.offset + container.length - 1;
    const multiLine = /[\r\n]/.test(text.slice(open, close));
    const children = container.children ?? [];
    const containerIndent = lineIndent(text, open);
    const withComment = (item: Item, indent: string): string =>
      (item.comment ? `${commentLine(item.comment)}${eol}${indent}` : '') + item.render(indent, true);

    const last = children[children.length - 1];
    if (!last) {
      const indent = containerIndent + this.style.unit;
      const anchor = endOfLineTrivia(text, open + 1);
      const body = items.map((it) => indent + withComment(it, indent)).join(`,${eol}`);
      if (!multiLine) {
        // `{}`, `{ }`, `{ /* c */ }`: open it up, put the closing bracket on its own line
        this.apply([{ offset: anchor, length: close - anchor, content: `${eol}${body}${eol}${containerIndent}` }]);
      } else {
        this.apply([{ offset: anchor, length: 0, content: `${eol}${body}` }]);
      }
      return;
    }

    const lastEnd = last.offset + last.length;
    const next = nextToken(text, lastEnd);
    const trailingComma = next.kind === SyntaxKind.CommaToken;
    const afterSep = trailingComma ? next.offset + next.length : lastEnd;
    if (!multiLine) {
      const inline = items.map((it) => it.render('', false)).join(', ');
      this.apply([{ offset: afterSep, length: 0, content: trailingComma ? ` ${inline},` : `, ${inline}` }]);
      return;
    }
    const sibling = children.find((c) => startsLine(text, c.offset));
    const indent = sibling ? lineIndent(text, sibling.offset) : containerIndent + this.style.unit;
    const anchor = endOfLineTrivia(text, afterSep);
    const body = items.map((it) => `${eol}${indent}${withComment(it, indent)}`).join(',');
    if (trailingComma) this.apply([{ offset: anchor, length: 0, content: `${body},` }]);
    else if (anchor === lastEnd) this.apply([{ offset: anchor, length: 0, content: `,${body}` }]);
    else {
      this.apply([
        { offset: lastEnd, length: 0, content: ',' },
        { offset: anchor, length: 0, content: body },
      ]);
    }
  }

  /**
   * Removes one element of the array at `path` with its comma, keeping every comment around it; a line left empty
   * by the removal goes too.
   */
  removeElement(path: JSONPath, index: number): void {
    const arr = this.node(path);
    const el = arr?.children?.[index];
    if (!arr || !el) return;
    const text = this.text;
    let start = el.offset;
    let end = el.offset + el.length;
    const ownLine = startsLine(text, start);
    // an element that starts its line takes the blanks after it, so a comment after it moves to its place
    if (ownLine) while (text[end] === ' ' || text[end] === '\t') end++;
    const restOfLineBlank = isBlank(restOfLine(text, end));
    const ranges: Array<[number, number]> = [];
    const after = nextToken(text, el.offset + el.length);
    if (after.kind === SyntaxKind.CommaToken) {
      let stop = after.offset + after.length;
      while (text[stop] === ' ' || text[stop] === '\t') stop++;
      if (isBlank(text.slice(end, after.offset))) ranges.push([start, stop]);
      else ranges.push([start, end], [after.offset, stop]);
    } else if (index > 0) {
      const prev = arr.children![index - 1]!;
      const comma = nextToken(text, prev.offset + prev.length);
      const commaEnd = comma.offset + comma.length;
      if (comma.kind === SyntaxKind.CommaToken && isBlank(text.slice(commaEnd, start)) && restOfLineBlank) {
        ranges.push([comma.offset, end]);
      } else {
        if (comma.kind === SyntaxKind.CommaToken) ranges.push([comma.offset, commaEnd]);
        // `"a" /* c */ "x"` at the end of a line: no blank left behind after the comment
        if (!ownLine && restOfLineBlank) while (text[start - 1] === ' ' || text[start - 1] === '\t') start--;
        ranges.push([start, end]);
      }
    } else {
      ranges.push([start, end]);
    }
    let result = text;
    for (const [from, to] of ranges.sort((a, b) => b[0] - a[0])) {
      const lineWasBlank = isBlank(lineAround(result, from));
      result = result.slice(0, from) + result.slice(to);
      if (!lineWasBlank && isBlank(lineAround(result, from))) {
        const ls = result.lastIndexOf('\n', from - 1) + 1;
        const nl = result.indexOf('\n', from);
        if (nl >= 0 && ls > 0) result = result.slice(0, ls) + result.slice(nl + 1);
      }
    }
    this.apply([{ offset: 0, length: text.length, content: result }]);
  }
}

interface Item {
  comment: string | undefined;
  render: (indent: string, multiLine: boolean) => string;
}

function commentLine(comment: string): string {
  return `// ${visible(comment.replace(/[\r\n]+/g, ' ').trim())}`;
}

/** A value on one line: `{ "gpu": "optional" }`, `["a", "b"]`. */
function renderInline(value: unknown): string {
  if (value instanceof Grouped) return renderInline(value.groups.flat());
  if (Array.isArray(value)) return `[${value.map((v: unknown) => renderInline(v)).join(', ')}]`;
  if (isRecord(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${renderInline(v)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  // the values written into the user's file (mounts, env, tokens): control and separator characters escaped
  return json(value);
}

/** The first token at or after `offset` that is not whitespace, a line break or a comment. */
function nextToken(text: string, offset: number): { kind: SyntaxKind; offset: number; length: number } {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  for (;;) {
    const kind = scanner.scan();
    if (
      kind !== SyntaxKind.Trivia &&
      kind !== SyntaxKind.LineBreakTrivia &&
      kind !== SyntaxKind.LineCommentTrivia &&
      kind !== SyntaxKind.BlockCommentTrivia
    ) {
      return { kind, offset: scanner.getTokenOffset(), length: scanner.getTokenLength() };
    }
  }
}

/** The end of the whitespace and comments that follow `offset` on its line (the place for a new line after it). */
function endOfLineTrivia(text: string, offset: number): number {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  let end = offset;
  for (;;) {
    const kind = scanner.scan();
    if (kind === SyntaxKind.LineCommentTrivia || kind === SyntaxKind.BlockCommentTrivia) {
      const tokenEnd = scanner.getTokenOffset() + scanner.getTokenLength();
      // a block comment that runs on to another line belongs to the lines below
      if (/[\r\n]/.test(text.slice(scanner.getTokenOffset(), tokenEnd))) return end;
      end = tokenEnd;
    } else if (kind !== SyntaxKind.Trivia) {
      return end;
    }
  }
}

function isBlank(s: string): boolean {
  return /^\s*$/.test(s);
}

/** The line that holds `offset` (without its line break). */
function lineAround(text: string, offset: number): string {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  const nl = text.indexOf('\n', offset);
  return text.slice(ls, nl < 0 ? text.length : nl);
}

/** The text from `offset` to the end of its line. */
function restOfLine(text: string, offset: number): string {
  const nl = text.indexOf('\n', offset);
  return text.slice(offset, nl < 0 ? text.length : nl);
}

function lineIndent(text: string, offset: number): string {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(ls, offset))![0];
}

function startsLine(text: string, offset: number): boolean {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*$/.test(text.slice(ls, offset));
}

/** Line ending and indentation unit as the file uses them (defaults: `\n`, two spaces). */
function inferStyle(text: string, root: Node): Style {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  const eol = crlf > 0 && crlf >= lf ? '\r\n' : '\n';
  const rootIndent = lineIndent(text, root.offset);
  // the first line-starting child at depth 1, then 2, ... tells the unit
  const byDepth: Node[][] = [];
  const walk = (container: Node, depth: number): void => {
    for (const c of container.children ?? []) {
      if (startsLine(text, c.offset)) (byDepth[depth + 1] ??= []).push(c);
      const value = c.type === 'property' ? c.children?.[1] : c;
      if (value && (value.type === 'object' || value.type === 'array')) walk(value, depth + 1);
    }
  };
  walk(root, 0);
  for (let d = 1; d < byDepth.length; d++) {
    const first = byDepth[d]?.[0];
    if (!first) continue;
    const ws = lineIndent(text, first.offset).slice(d === 1 ? rootIndent.length : 0);
    if (ws.includes('\t')) return { eol, unit: '\t' };
    const perLevel = d === 1 ? ws.length : Math.floor(ws.length / d);
    if (perLevel > 0) return { eol, unit: ' '.repeat(perLevel) };
  }
  const anyIndented = /^([ \t]+)\S/m.exec(text);
  if (anyIndented?.[1]?.startsWith('\t')) return { eol, unit: '\t' };
  return { eol, unit: '  ' };
}
