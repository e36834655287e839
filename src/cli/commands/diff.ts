import { readFile } from 'node:fs/promises';
import { diffFingerprints, diffText } from '../../core/fingerprint/diff';
import { FingerprintFileError, fingerprintFromText } from '../../core/fingerprint/parse';
import { type CliCommand, type CliOptions, EXIT, UsageError, parseCommandArgs } from '../usage';

const diffOptions = { json: { type: 'boolean', default: false } } satisfies CliOptions;

export const diffCommand: CliCommand = {
  name: 'diff',
  summary: 'Explain the differences that matter between two environment fingerprints, most consequential first.',
  usage: `ml-containers diff A.json B.json [--json]

  --json   print {"differences": [...]}, most consequential first

  A.json and B.json come from \`ml-containers fingerprint --out FILE\` on two machines (or one machine, before and
  after a driver update). Exit 0 when nothing breaking differs, 1 when something does.`,
  options: diffOptions,
  async run(argv, io) {
    const parsed = parseCommandArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: diffOptions,
    });
    if (parsed.positionals.length !== 2) {
      throw new UsageError(`diff takes two fingerprint files, got ${parsed.positionals.length}.`);
    }
    const [a, b] = await Promise.all(
      parsed.positionals.map(async (file) => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
        }
        try {
          return fingerprintFromText(text, file);
        } catch (err) {
          if (err instanceof FingerprintFileError) throw new UsageError(err.message);
          throw err;
        }
      }),
    );
    const diffs = diffFingerprints(a!, b!);
    io.out(parsed.values.json ? JSON.stringify({ differences: diffs }, null, 2) : diffText(diffs));
    return diffs.some((d) => d.impact === 'breaking') ? EXIT.failure : EXIT.ok;
  },
};
