import { readFile } from 'node:fs/promises';
import {
  type Comparison,
  compareEnvironments,
  FingerprintFileError,
  type FingerprintSource,
} from '../../core/operations/fingerprint';
import { defineCommand, JSON_OPTION } from '../args';
import { EXIT, UsageError } from '../usage';

export const diffCommand = defineCommand({
  name: 'diff',
  summary: 'Explain the differences that matter between two environment fingerprints, most consequential first.',
  usage: `ml-containers diff A.json B.json [--json]

  --json   print {"differences": [...]}, most consequential first

  A.json and B.json come from \`ml-containers fingerprint --out FILE\` on two machines (or one machine, before and
  after a driver update). Exit 0 when nothing breaking differs, 1 when something does.`,
  options: JSON_OPTION,
  operands: { min: 2, max: 2, wrong: (n) => `diff takes two fingerprint files, got ${n}.` },
  async run({ values, positionals }, io) {
    const [a, b] = await Promise.all(positionals.map(readSource));
    let comparison: Comparison;
    try {
      comparison = compareEnvironments(a!, b!);
    } catch (err) {
      if (err instanceof FingerprintFileError) throw new UsageError(err.message);
      throw err;
    }
    io.out(values.json ? JSON.stringify({ differences: comparison.differences }, null, 2) : comparison.text);
    return comparison.breaking ? EXIT.failure : EXIT.ok;
  },
});

/** A fingerprint file's text, named as given; a file that cannot be read is bad usage. */
async function readSource(file: string): Promise<FingerprintSource> {
  try {
    return { name: file, text: await readFile(file, 'utf8') };
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}
