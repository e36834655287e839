import { readFile } from 'node:fs/promises';
import { diffFingerprints, diffText } from '../../core/fingerprint/diff';
import { parseFingerprint } from '../../core/fingerprint/parse';
import { type CliCommand, EXIT, UsageError, parseCommandArgs } from '../usage';

export const diffCommand: CliCommand = {
  name: 'diff',
  summary: 'Explain the differences that matter between two environment fingerprints, most consequential first.',
  usage: `ml-containers diff A.json B.json [--json]

  A.json and B.json come from \`ml-containers fingerprint --out FILE\` on two machines (or one machine, before and
  after a driver update). Exit 0 when nothing breaking differs, 1 when something does.`,
  async run(argv, io) {
    const parsed = parseCommandArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
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
        const fp = parseFingerprint(text);
        if ('error' in fp) throw new UsageError(`${file} ${fp.error}`);
        return fp;
      }),
    );
    const diffs = diffFingerprints(a!, b!);
    io.out(parsed.values.json ? JSON.stringify({ differences: diffs }, null, 2) : diffText(diffs));
    return diffs.some((d) => d.impact === 'breaking') ? EXIT.failure : EXIT.ok;
  },
};
