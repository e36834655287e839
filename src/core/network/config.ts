/**
 * The host's package index settings, read as pip and uv read them: the environment first (pip's variables, then uv's),
 * then pip's configuration files (PIP_CONFIG_FILE, ~/.config/pip/pip.conf, ~/.pip/pip.conf, /etc/pip.conf, and the
 * XDG folders), then uv's (UV_CONFIG_FILE, ~/.config/uv/uv.toml, /etc/uv/uv.toml). Each setting comes from the first
 * of those that has it, and remembers where, for the sentences that name it.
 */
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { errorMessage } from '../util/errors';
import { parseIni } from '../util/ini';
import { readRegularFile } from '../util/safeFs';

/** A value and where it was found: an environment variable (`PIP_INDEX_URL`) or a file and its key. */
export interface Setting {
  value: string;
  from: string;
}

/** The index settings that reach builds and runs, and pip's CA bundle. */
export interface IndexConfig {
  indexUrl?: Setting;
  extraIndexUrls?: Setting[];
  trustedHosts?: Setting[];
  /** pip's `cert` (PIP_CERT, or `cert` in a pip.conf). */
  cert?: Setting;
}

/** Where the host keeps its configuration: the user's home and the system's configuration folder (`/etc`). */
export interface HostPaths {
  home: string;
  etc: string;
}

/** The most bytes one configuration file may have (real ones have a few lines). */
const CONFIG_CAP = 1024 * 1024;

const words = (value: string, from: string): Setting[] =>
  value
    .split(/\s+/)
    .filter((w) => w)
    .map((w) => ({ value: w, from }));

const setting = (value: string | undefined, from: string): Setting | undefined =>
  value && value.trim() ? { value: value.trim(), from } : undefined;

/** A list setting, or undefined when empty (so that a later source may give it). */
const list = (items: Setting[]): Setting[] | undefined => (items.length ? items : undefined);

function pipEnv(env: NodeJS.ProcessEnv): IndexConfig {
  return {
    indexUrl: setting(env.PIP_INDEX_URL, 'PIP_INDEX_URL'),
    extraIndexUrls: list(words(env.PIP_EXTRA_INDEX_URL ?? '', 'PIP_EXTRA_INDEX_URL')),
    trustedHosts: list(words(env.PIP_TRUSTED_HOST ?? '', 'PIP_TRUSTED_HOST')),
    cert: setting(env.PIP_CERT, 'PIP_CERT'),
  };
}

function uvEnv(env: NodeJS.ProcessEnv): IndexConfig {
  const named = (s: Setting): Setting => ({ ...s, value: s.value.replace(/^[\w.-]+=(?=[a-z][a-z0-9+.-]*:)/i, '') });
  return {
    indexUrl: setting(env.UV_DEFAULT_INDEX, 'UV_DEFAULT_INDEX') ?? setting(env.UV_INDEX_URL, 'UV_INDEX_URL'),
    extraIndexUrls: list([
      ...words(env.UV_INDEX ?? '', 'UV_INDEX').map(named),
      ...words(env.UV_EXTRA_INDEX_URL ?? '', 'UV_EXTRA_INDEX_URL'),
    ]),
    trustedHosts: list(words(env.UV_INSECURE_HOST ?? '', 'UV_INSECURE_HOST')),
  };
}

const xdgDirs = (env: NodeJS.ProcessEnv, paths: HostPaths): string[] =>
  (env.XDG_CONFIG_DIRS || path.join(paths.etc, 'xdg')).split(':').filter((d) => d);
const xdgHome = (env: NodeJS.ProcessEnv, paths: HostPaths): string =>
  env.XDG_CONFIG_HOME || path.join(paths.home, '.config');

/** pip's configuration files, the lowest precedence first (as pip loads them: global, user, then PIP_CONFIG_FILE). */
export function pipConfigFiles(env: NodeJS.ProcessEnv, paths: HostPaths): string[] {
  const own = env.PIP_CONFIG_FILE;
  if (own === '/dev/null') return [];
  return [
    ...xdgDirs(env, paths).map((d) => path.join(d, 'pip', 'pip.conf')),
    path.join(paths.etc, 'pip.conf'),
    // pip leaves the user's files out when PIP_CONFIG_FILE names one
    ...(own ? [own] : [path.join(paths.home, '.pip', 'pip.conf'), path.join(xdgHome(env, paths), 'pip', 'pip.conf')]),
  ];
}

/** uv's configuration files, the lowest precedence first (UV_CONFIG_FILE alone when set, none with UV_NO_CONFIG). */
export function uvConfigFiles(env: NodeJS.ProcessEnv, paths: HostPaths): string[] {
  if (env.UV_NO_CONFIG && env.UV_NO_CONFIG !== '0' && env.UV_NO_CONFIG !== 'false') return [];
  if (env.UV_CONFIG_FILE) return [env.UV_CONFIG_FILE];
  return [
    ...xdgDirs(env, paths).map((d) => path.join(d, 'uv', 'uv.toml')),
    path.join(paths.etc, 'uv', 'uv.toml'),
    path.join(xdgHome(env, paths), 'uv', 'uv.toml'),
  ];
}

function pipConf(file: string, text: string): IndexConfig {
  const ini = parseIni(text);
  // the install command's own section wins over [global], as pip reads it for `pip install`
  const get = (key: string): Setting | undefined =>
    setting(ini.get('install')?.get(key) ?? ini.get('global')?.get(key), `${file} (${key})`);
  const many = (key: string): Setting[] | undefined => {
    const s = get(key);
    return s && list(words(s.value, s.from));
  };
  return {
    indexUrl: get('index-url'),
    extraIndexUrls: many('extra-index-url'),
    trustedHosts: many('trusted-host'),
    cert: get('cert'),
  };
}

type Toml = Record<string, unknown>;
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const isTable = (v: unknown): v is Toml => typeof v === 'object' && v !== null && !Array.isArray(v);

function uvToml(file: string, text: string): IndexConfig {
  const doc = parseToml(text) as Toml;
  const pip = isTable(doc.pip) ? doc.pip : {};
  const at = (key: string): { values: string[]; from: string } => {
    const top = strings(doc[key]);
    return top.length
      ? { values: top, from: `${file} (${key})` }
      : { values: strings(pip[key]), from: `${file} ([pip] ${key})` };
  };
  const indexes = (Array.isArray(doc.index) ? doc.index : []).filter(isTable);
  const url = (t: Toml): string => (typeof t.url === 'string' ? t.url : '');
  const main = indexes.find((t) => t.default === true && url(t));
  const extra = indexes.filter((t) => t !== main && t.explicit !== true && url(t));
  const one = at('index-url');
  const more = at('extra-index-url');
  const insecure = at('allow-insecure-host');
  return {
    indexUrl: main ? setting(url(main), `${file} ([[index]] url)`) : setting(one.values[0], one.from),
    extraIndexUrls: list([
      ...extra.map((t) => ({ value: url(t), from: `${file} ([[index]] url)` })),
      ...more.values.map((value) => ({ value, from: more.from })),
    ]),
    trustedHosts: list(insecure.values.map((value) => ({ value, from: insecure.from }))),
  };
}

/** Merges configurations: each setting from the first one that has it. */
function firstOf(configs: IndexConfig[]): IndexConfig {
  const out: IndexConfig = {};
  for (const key of ['indexUrl', 'extraIndexUrls', 'trustedHosts', 'cert'] as const) {
    const found = configs.find((c) => c[key] !== undefined)?.[key];
    if (found !== undefined) (out as Record<string, unknown>)[key] = found;
  }
  return out;
}

/** Reads and parses the files that exist, the highest precedence first; one note for each that cannot be used. */
async function readConfigs(
  files: string[],
  parse: (file: string, text: string) => IndexConfig,
  notes: string[],
): Promise<IndexConfig[]> {
  const out: IndexConfig[] = [];
  for (const file of [...files].reverse()) {
    try {
      const text = await readRegularFile(file, { cap: CONFIG_CAP });
      if (text !== null) out.push(parse(file, text));
    } catch (err) {
      // a TOML error goes on with the lines around it: its first line says what and where
      notes.push(`${file} is not used: ${errorMessage(err).split('\n')[0]!.replace(/\.$/, '')}.`);
    }
  }
  return out;
}

/** The host's index settings and pip's CA bundle, with a note for each configuration file that cannot be used. */
export async function readIndexConfig(
  env: NodeJS.ProcessEnv,
  paths: HostPaths,
): Promise<{ config: IndexConfig; notes: string[] }> {
  const notes: string[] = [];
  const pip = await readConfigs(pipConfigFiles(env, paths), pipConf, notes);
  const uv = await readConfigs(uvConfigFiles(env, paths), uvToml, notes);
  return { config: firstOf([pipEnv(env), uvEnv(env), ...pip, ...uv]), notes };
}
