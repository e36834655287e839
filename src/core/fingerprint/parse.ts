import { Problem } from '../util/errors';
import { FINGERPRINT_SCHEMA, type Fingerprint } from './types';

/** Reads a fingerprint file's text; a file that is not one gives `{error}` saying why. */
export function parseFingerprint(text: string): Fingerprint | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: `is not JSON (${(err as Error).message}).` };
  }
  const fp = doc as Partial<Fingerprint> | null;
  if (
    !fp ||
    typeof fp !== 'object' ||
    fp.schema !== FINGERPRINT_SCHEMA ||
    typeof fp.host !== 'object' ||
    fp.host === null
  ) {
    return {
      error: `is not an ML Containers fingerprint (expected "schema": "${FINGERPRINT_SCHEMA}"; make one with \`ml-containers fingerprint --out FILE\`).`,
    };
  }
  if (!Array.isArray(fp.host.gpus) || !fp.host.os) {
    return { error: 'is an incomplete fingerprint (host.gpus or host.os is missing).' };
  }
  return fp as Fingerprint;
}

/** A file that is not a fingerprint: one sentence naming it and saying how to make one. */
export class FingerprintFileError extends Problem<'not-a-fingerprint'> {
  constructor(message: string) {
    super('not-a-fingerprint', message);
    this.name = 'FingerprintFileError';
  }
}

/** The fingerprint in a file's text; throws FingerprintFileError, naming the file as `name`, when it is not one. */
export function fingerprintFromText(text: string, name: string): Fingerprint {
  const fp = parseFingerprint(text);
  if ('error' in fp) throw new FingerprintFileError(`${name} ${fp.error}`);
  return fp;
}
