/**
 * Docker's byte sizes (`--shm-size`, `--memory`, Compose's `shm_size`): one parser for the whole core, so the doctor,
 * the runner and the cluster job read `16g`, `1t` or `512mb` alike. The grammar is Docker's own (go-units
 * `RAMInBytes`): a decimal number, an optional space, an optional unit k, m, g, t or p (binary multiples, any case),
 * an optional `i` after the unit and an optional `b`.
 */

const POWERS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * `16g`, `512m`, `1gb`, `1t`, `2048` (bytes) -> bytes, as docker's --shm-size and --memory read them; undefined for
 * text that is no size, or more bytes than a safe integer holds.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])i?)?b?\s*$/i.exec(text);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * 1024 ** POWERS[(m[2] ?? '').toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
