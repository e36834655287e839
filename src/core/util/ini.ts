/**
 * INI files as Python's configparser reads them (pip.conf, setup.cfg): `[section]` headers, `key = value` or
 * `key: value`, keys folded to lower case, whole-line comments (`#`, `;`), and a value continued on the indented
 * lines below it (joined with a line break). Inline comments stay part of the value, as in configparser's default.
 */

/** The sections of an INI file, each a map of its keys (lower case) to their values; the last value of a key wins. */
export type IniSections = Map<string, Map<string, string>>;

export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let section: Map<string, string> | undefined;
  let key: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (/^\s/.test(raw) && section && key !== undefined) {
      const before = section.get(key);
      section.set(key, before ? `${before}\n${line}` : line);
      continue;
    }
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      section = sections.get(name) ?? new Map<string, string>();
      sections.set(name, section);
      key = undefined;
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    key = pair && section ? pair[1]!.toLowerCase() : undefined;
    if (key !== undefined) section!.set(key, pair![2]!);
  }
  return sections;
}
