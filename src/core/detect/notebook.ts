/**
 * Jupyter notebooks: the code cells as one Python text, with each line mapped back to its line in the .ipynb file
 * (so evidence opens at the right place). jsonc-parser's tolerant tree parser reads the JSON, so a notebook that is
 * truncated or slightly broken still yields the cells before the damage, plus a warning.
 */
import { type Node, type ParseError, findNodeAtLocation, parseTree, printParseErrorCode } from 'jsonc-parser';
import { TOO_DEEP_WARNING, jsoncTooDeep } from '../util/json';
import { LineIndex } from '../util/text';

export interface NotebookCode {
  /** The code cells, concatenated; IPython magics and shell escapes (`%`, `!`) are blanked. */
  code: string;
  /** Lines of `!pip install ...` / `%pip install ...` etc., kept for the installs they declare. */
  magics: string;
  /** 1-based line in `code` -> 1-based line in the .ipynb file. */
  lineMap: (line: number) => number;
  cells: number;
  /** Why the notebook could not be read completely, if it could not. */
  problem: string | null;
}

export function readNotebook(text: string, truncated: boolean): NotebookCode {
  if (jsoncTooDeep(text)) return { code: '', magics: '', lineMap: () => 1, cells: 0, problem: TOO_DEEP_WARNING };
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const fileLines = new LineIndex(text);
  const codeLines: string[] = [];
  const magicLines: string[] = [];
  const map: number[] = [];
  let cells = 0;
  const cellsNode = root ? findNodeAtLocation(root, ['cells']) : undefined;
  let problem: string | null = null;
  if (errors.length > 0 && !truncated) {
    const e = errors[0]!;
    problem = `is not valid notebook JSON (${printParseErrorCode(e.error)} at line ${fileLines.lineAt(e.offset)}); only the cells before that were read.`;
  } else if (!cellsNode || cellsNode.type !== 'array') {
    problem = root ? 'has no "cells" list, so it is not a Jupyter notebook.' : 'is empty or not JSON.';
  }
  for (const cell of cellsNode?.type === 'array' ? (cellsNode.children ?? []) : []) {
    const type = findNodeAtLocation(cell, ['cell_type']);
    if (type?.value !== 'code') continue;
    cells++;
    const source = findNodeAtLocation(cell, ['source']);
    const pieces: Node[] = source?.type === 'array' ? (source.children ?? []) : source ? [source] : [];
    for (const piece of pieces) {
      if (typeof piece.value !== 'string') continue;
      const startLine = fileLines.lineAt(piece.offset);
      const parts = piece.value.split('\n');
      if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
      // one JSON string per source line is the norm; a single multi-line string maps all its lines to its start
      const target = startLine;
      parts.forEach((line) => {
        if (/^\s*[%!]/.test(line)) {
          magicLines.push(line);
          codeLines.push('');
        } else {
          magicLines.push('');
          codeLines.push(line);
        }
        map.push(target);
      });
    }
    codeLines.push('');
    magicLines.push('');
    map.push(map[map.length - 1] ?? 1);
  }
  return {
    code: codeLines.join('\n'),
    magics: magicLines.join('\n'),
    lineMap: (line) => map[line - 1] ?? 1,
    cells,
    problem,
  };
}
