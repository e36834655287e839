import {
  fingerprintEnvironment,
  fingerprintFileText,
  fingerprintJson,
  fingerprintSummary,
} from '../../core/operations/fingerprint';
import { defineCommand, JSON_OPTION } from '../args';
import { EXIT } from '../usage';

export const fingerprintCommand = defineCommand({
  name: 'fingerprint',
  summary: 'Record this machine (driver, GPUs, engine, OS) and optionally an image and what runs inside it.',
  usage: `ml-containers fingerprint [--json] [--image REF] [--out FILE]

  --json        print the fingerprint as JSON (also when --out writes it to a file)
  --image REF   also inspect this local image and run a short Python report inside it (CUDA runtime, cuDNN,
                framework versions and architectures, pip freeze digest)
  --out FILE    write the JSON to FILE (compare two with: ml-containers diff A.json B.json)`,
  options: { ...JSON_OPTION, image: { type: 'string' }, out: { type: 'string' } },
  async run({ values }, io) {
    const fp = await fingerprintEnvironment({ image: values.image });
    if (values.out) {
      const { writeFileAtomic } = await import('../../core/util/atomic');
      await writeFileAtomic(values.out, fingerprintFileText(fp));
      io.err(`fingerprint written to ${values.out}`);
    }
    if (values.json || !values.out) io.out(values.json ? fingerprintJson(fp) : fingerprintSummary(fp));
    return EXIT.ok;
  },
});
