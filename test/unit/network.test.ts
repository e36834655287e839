/**
 * The host's network settings (src/core/network): CA bundles read from the files the host names, the package index
 * from the environment, pip.conf and uv.toml (in that order), what may not be passed (credentials) or needs the host
 * network (loopback), and how they reach a build (buildParameters), a run's container and the doctor. Real files in
 * temporary folders stand for the host's /etc and home; test/fixtures/network holds test CA certificates.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { type CheckProbes, gatherAndCheck } from '../../src/core/compat/gather';
import { realProbes } from '../../src/core/compat/probes';
import {
  CONTAINER_CA_FILE,
  type HostFiles,
  hostNetworkSettings,
  hostRunNetwork,
  pemCertificates,
  pipConfigFiles,
} from '../../src/core/network';
import { buildParameters } from '../../src/core/runs/build';
import { runSpecFor } from '../../src/core/runs/prepare';
import { containerCreateOptions } from '../../src/core/runs/spec';
import { parseIni } from '../../src/core/util/ini';
import { FIXTURES, tempDir, writeTree } from './helpers';

const CERTS = path.join(FIXTURES, 'network');
const pem = (name: string): string => fs.readFileSync(path.join(CERTS, name), 'utf8');
const CORP1 = pem('corp-ca-1.pem');
const CORP2 = pem('corp-ca-2.pem');
const EXPIRED = pem('expired-ca.pem');
const PUBLIC_ROOT = tls.rootCertificates[0]!;
/** The base64 body of a PEM certificate, whatever its line breaks. */
const body = (text: string): string => text.replace(/-----[A-Z ]+-----|\s+/g, '');

describe('host network settings', () => {
  let tmp: { dir: string; cleanup: () => void };
  let files: HostFiles;
  /** Writes files under the temporary host (`etc/pip.conf`, `home/.config/uv/uv.toml`, …) and returns its root. */
  const host = (tree: Record<string, string>): string => {
    writeTree(tmp.dir, tree);
    return tmp.dir;
  };
  const at = (rel: string): string => path.join(tmp.dir, rel);

  beforeEach(() => {
    tmp = tempDir('mlc-network-');
    files = { home: at('home'), etc: at('etc'), cache: at('cache') };
    fs.mkdirSync(files.home, { recursive: true });
    fs.mkdirSync(files.etc, { recursive: true });
  });
  afterEach(() => tmp.cleanup());

  describe('INI files as configparser reads them', () => {
    it('sections, = and :, folded keys, whole-line comments, continuation lines, inline text kept', () => {
      const ini = parseIni(
        [
          'orphan = before any section',
          '[global]',
          '# a comment',
          'Index-URL = https://a/simple ; not a comment',
          'extra-index-url =',
          '    https://b/simple',
          '  ; an indented comment',
          '    https://c/simple',
          'timeout: 60',
          '[install]',
          'trusted-host = a',
        ].join('\n'),
      );
      assert.deepEqual([...ini.keys()], ['global', 'install']);
      assert.deepEqual(Object.fromEntries(ini.get('global')!), {
        'index-url': 'https://a/simple ; not a comment',
        'extra-index-url': 'https://b/simple\nhttps://c/simple',
        timeout: '60',
      });
      assert.equal(ini.get('install')!.get('trusted-host'), 'a');
    });
  });

  describe('CA certificates', () => {
    it('keeps only the PEM certificate blocks of a file with garbage around them, each once', () => {
      const text = [
        'garbage before',
        CORP1,
        '# Example Corp Test CA 2, wrapped differently',
        CORP2.replace(/\n(?!-)/g, '\r\n'),
        '-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----',
        CORP1,
        '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----',
        'trailing garbage',
      ].join('\n');
      const { certificates, invalid } = pemCertificates(text);
      assert.deepEqual(
        certificates.map((c) => c.der),
        [body(CORP1), body(CORP2)],
      );
      assert.equal(invalid, 1, 'the block that is not X.509 is left out');
      assert.ok(certificates.every((c) => /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END/.test(c.pem)));
    });

    it('MLC_CA_BUNDLE: the certificates of every named bundle images lack (no public root, none expired)', async () => {
      host({
        'corp.pem': `junk\n${CORP1}\n${PUBLIC_ROOT}\n${EXPIRED}\n`,
        'node-extra.pem': `${CORP2}\n${CORP1}`,
        'etc/pip.conf': '[global]\ncert = ~/pip-only.pem\n',
        'home/pip-only.pem': PUBLIC_ROOT,
      });
      const env = {
        SSL_CERT_FILE: at('corp.pem'),
        REQUESTS_CA_BUNDLE: at('corp.pem'),
        NODE_EXTRA_CA_CERTS: at('node-extra.pem'),
      };
      const s = await hostNetworkSettings(env, files);
      assert.deepEqual(s.problems, []);
      assert.deepEqual(
        pemCertificates(s.buildArgs.MLC_CA_BUNDLE!).certificates.map((c) => c.der),
        [body(CORP1), body(CORP2)],
      );
      assert.deepEqual(
        s.certificates!.map((c) => c.der),
        [body(CORP1), body(PUBLIC_ROOT), body(EXPIRED), body(CORP2)],
        'runs get every certificate, once',
      );
      assert.match(s.notes[0]!, /^Builds trust 2 CA certificate\(s\) of .*corp\.pem.*node-extra\.pem.*pip-only\.pem/);
      assert.match(s.notes[0]!, /SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, .*pip\.conf \(cert\)/);
    });

    it('PIP_CERT wins over pip.conf cert; only public roots: nothing to pass', async () => {
      host({ 'public.pem': PUBLIC_ROOT, 'etc/pip.conf': '[global]\ncert = /nonexistent/ca.pem\n' });
      const s = await hostNetworkSettings({ PIP_CERT: at('public.pem') }, files);
      assert.deepEqual(s.problems, [], 'the pip.conf cert that PIP_CERT overrides is not read');
      assert.equal(s.buildArgs.MLC_CA_BUNDLE, undefined);
      assert.match(s.notes[0]!, /has only public roots, which images trust already/);
      assert.equal(s.certificates?.length, 1);
    });

    it('a named bundle that is missing, a folder or has no certificate is a finding; the others still count', async () => {
      host({ 'garbage.pem': 'no certificate here\n', 'corp.pem': CORP1, 'folder/x': '' });
      const env = {
        SSL_CERT_FILE: at('missing.pem'),
        REQUESTS_CA_BUNDLE: at('folder'),
        CURL_CA_BUNDLE: at('garbage.pem'),
        PIP_CERT: at('corp.pem'),
      };
      const s = await hostNetworkSettings(env, files);
      assert.deepEqual(
        s.problems.map((p) => [p.id, p.severity]),
        [
          ['network-ca-unreadable', 'warning'],
          ['network-ca-unreadable', 'warning'],
          ['network-ca-no-certificate', 'warning'],
        ],
      );
      assert.match(s.problems[0]!.message, /missing\.pem \(SSL_CERT_FILE\) does not exist/);
      assert.match(s.problems[1]!.message, /folder \(REQUESTS_CA_BUNDLE\) cannot be read \(.*is a folder/);
      assert.match(s.problems[2]!.message, /garbage\.pem \(CURL_CA_BUNDLE\) has no PEM certificate/);
      assert.match(s.problems[2]!.fix, /^Point CURL_CA_BUNDLE at a readable PEM file/);
      assert.equal(body(s.buildArgs.MLC_CA_BUNDLE!), body(CORP1));
    });

    it('a bundle too big for one build argument is not passed, and says so', async () => {
      host({ 'corp.pem': `${CORP1}\n${CORP2}` });
      const s = await hostNetworkSettings({ SSL_CERT_FILE: at('corp.pem') }, files, { caBuildArgMax: 1000 });
      assert.equal(s.buildArgs.MLC_CA_BUNDLE, undefined);
      assert.deepEqual(
        s.problems.map((p) => p.id),
        ['network-ca-too-large'],
      );
      assert.match(s.problems[0]!.message, /take 2 KiB, more than a build argument may carry \(1 KiB\)/);
    });
  });

  describe('package index: environment > pip.conf > uv.toml', () => {
    const UV_TOML = [
      'index-url = "https://uv-top.example/simple"',
      'allow-insecure-host = ["uv-insecure.example"]',
      '[[index]]',
      'name = "explicit"',
      'url = "https://uv-explicit.example/simple"',
      'explicit = true',
      '[[index]]',
      'name = "main"',
      'url = "https://uv-default.example/simple"',
      'default = true',
      '[[index]]',
      'name = "more"',
      'url = "https://uv-extra.example/simple"',
    ].join('\n');

    it('each setting from the first source that has it', async () => {
      host({
        'etc/pip.conf':
          '[global]\nindex-url = https://etc.example/simple\nextra-index-url = https://etc-extra.example/simple\n',
        'home/.config/pip/pip.conf':
          '[global]\nextra-index-url =\n  https://user-a.example/simple\n  https://user-b.example/simple\n',
        'home/.config/uv/uv.toml': UV_TOML,
      });
      const s = await hostNetworkSettings({ PIP_INDEX_URL: 'https://env.example/simple' }, files);
      assert.deepEqual(s.buildArgs, {
        PIP_INDEX_URL: 'https://env.example/simple',
        PIP_EXTRA_INDEX_URL: 'https://user-a.example/simple https://user-b.example/simple',
        PIP_TRUSTED_HOST: 'uv-insecure.example',
      });
      assert.deepEqual(s.runEnv, {
        PIP_INDEX_URL: 'https://env.example/simple',
        UV_INDEX_URL: 'https://env.example/simple',
        PIP_EXTRA_INDEX_URL: 'https://user-a.example/simple https://user-b.example/simple',
        UV_EXTRA_INDEX_URL: 'https://user-a.example/simple https://user-b.example/simple',
        PIP_TRUSTED_HOST: 'uv-insecure.example',
      });
      assert.equal(s.network, undefined);
      assert.deepEqual(s.problems, []);
    });

    it('uv.toml alone: the default [[index]], the others not explicit as extra indexes', async () => {
      host({ 'etc/uv/uv.toml': UV_TOML });
      const s = await hostNetworkSettings({}, files);
      assert.deepEqual(s.buildArgs, {
        PIP_INDEX_URL: 'https://uv-default.example/simple',
        PIP_EXTRA_INDEX_URL: 'https://uv-extra.example/simple',
        PIP_TRUSTED_HOST: 'uv-insecure.example',
      });
    });

    it("pip.conf's [install] wins over [global]; PIP_CONFIG_FILE wins and leaves the user's files out", async () => {
      host({
        'etc/pip.conf':
          '[global]\nindex-url = https://global.example/simple\n[install]\nindex-url = https://install.example/simple\n',
        'home/.pip/pip.conf': '[global]\ntrusted-host = user.example\n',
        'own.conf': '[global]\nextra-index-url = https://own.example/simple\n',
      });
      const plain = await hostNetworkSettings({}, files);
      assert.equal(plain.buildArgs.PIP_INDEX_URL, 'https://install.example/simple');
      assert.equal(plain.buildArgs.PIP_TRUSTED_HOST, 'user.example');
      const own = await hostNetworkSettings({ PIP_CONFIG_FILE: at('own.conf') }, files);
      assert.deepEqual(own.buildArgs, {
        PIP_INDEX_URL: 'https://install.example/simple',
        PIP_EXTRA_INDEX_URL: 'https://own.example/simple',
      });
      assert.deepEqual(pipConfigFiles({ PIP_CONFIG_FILE: '/dev/null' }, files), []);
    });

    it('a malformed uv.toml is a note, not a failure', async () => {
      host({
        'home/.config/uv/uv.toml': 'index-url = [unclosed\n',
        'etc/pip.conf': '[global]\ntrusted-host = ok.example\n',
      });
      const s = await hostNetworkSettings({}, files);
      assert.deepEqual(s.buildArgs, { PIP_TRUSTED_HOST: 'ok.example' });
      assert.ok(
        s.notes.some((n) => n.startsWith(`${at('home/.config/uv/uv.toml')} is not used:`)),
        s.notes.join('\n'),
      );
    });

    it('an index URL with credentials is neither a build argument nor a run variable: a finding', async () => {
      host({ 'etc/pip.conf': '[global]\nextra-index-url = https://ci:t0ken-123@private.example/simple\n' });
      const s = await hostNetworkSettings({ PIP_INDEX_URL: 'https://alice:s3cret@mirror.example/simple' }, files);
      assert.deepEqual(s.buildArgs, {});
      assert.deepEqual(s.runEnv, {});
      assert.deepEqual(
        s.problems.map((p) => [p.id, p.severity]),
        [
          ['network-index-credentials', 'warning'],
          ['network-index-credentials', 'warning'],
        ],
      );
      const said = JSON.stringify(s);
      assert.ok(!said.includes('s3cret') && !said.includes('t0ken-123'), said);
      assert.match(s.problems[0]!.message, /https:\/\/\*\*\*:\*\*\*@mirror\.example\/simple \(PIP_INDEX_URL\)/);
      assert.match(s.problems[1]!.fix, /netrc|keyring/);
    });

    it('an index on loopback: builds use the host network, runs do not get it', async () => {
      host({
        'etc/pip.conf':
          '[global]\nindex-url = http://127.0.0.1:3141/root/pypi/+simple/\ntrusted-host = 127.0.0.1:3141\n',
      });
      const s = await hostNetworkSettings(
        { PIP_EXTRA_INDEX_URL: 'https://extra.example/simple http://[::1]:8080/simple' },
        files,
      );
      assert.equal(s.network, 'host');
      assert.deepEqual(s.buildArgs, {
        PIP_INDEX_URL: 'http://127.0.0.1:3141/root/pypi/+simple/',
        PIP_EXTRA_INDEX_URL: 'https://extra.example/simple http://[::1]:8080/simple',
        PIP_TRUSTED_HOST: '127.0.0.1:3141',
      });
      assert.deepEqual(s.runEnv, {
        PIP_EXTRA_INDEX_URL: 'https://extra.example/simple',
        UV_EXTRA_INDEX_URL: 'https://extra.example/simple',
        PIP_TRUSTED_HOST: '127.0.0.1:3141',
      });
      assert.deepEqual(
        s.problems.map((p) => [p.id, p.severity]),
        [
          ['network-index-loopback', 'info'],
          ['network-index-loopback', 'info'],
        ],
      );
      const localhost = await hostNetworkSettings({ PIP_INDEX_URL: 'http://localhost:3141/simple' }, files);
      assert.equal(localhost.network, 'host');
      const remote = await hostNetworkSettings({ PIP_INDEX_URL: 'http://127.example.com/simple' }, files);
      assert.equal(remote.network, undefined);
    });

    it('MLC_FRAMEWORK_INDEX_URL, even empty, becomes FRAMEWORK_INDEX_URL', async () => {
      assert.deepEqual((await hostNetworkSettings({ MLC_FRAMEWORK_INDEX_URL: '' }, files)).buildArgs, {
        FRAMEWORK_INDEX_URL: '',
      });
      assert.deepEqual((await hostNetworkSettings({}, files)).buildArgs, {});
    });
  });

  describe('builds', () => {
    it("the host's settings go under devcontainer.json's build arguments and the user's own", async () => {
      host({ 'corp.pem': CORP1 });
      const env = {
        SSL_CERT_FILE: at('corp.pem'),
        PIP_INDEX_URL: 'http://localhost:3141/simple',
        PIP_TRUSTED_HOST: 'host.example',
      };
      const setup = {
        context: tmp.dir,
        dockerfile: 'Dockerfile',
        args: { BASE_IMAGE: 'img:1', PIP_TRUSTED_HOST: 'project.example' },
      };
      const p = await buildParameters(
        setup,
        { buildArgs: { PIP_INDEX_URL: 'https://user.example/simple' } },
        env,
        files,
      );
      assert.deepEqual(Object.keys(p.buildargs).sort(), [
        'BASE_IMAGE',
        'MLC_CA_BUNDLE',
        'PIP_INDEX_URL',
        'PIP_TRUSTED_HOST',
      ]);
      assert.equal(p.buildargs.PIP_INDEX_URL, 'https://user.example/simple', "the user's --build-arg wins");
      assert.equal(p.buildargs.PIP_TRUSTED_HOST, 'project.example', "devcontainer.json's wins over the host's");
      assert.equal(body(p.buildargs.MLC_CA_BUNDLE!), body(CORP1));
      assert.equal(p.networkmode, undefined, "the host's index on loopback is not used: no host network");
      assert.ok(
        p.lines.some((l) => l.startsWith('Builds trust 1 CA certificate(s)')),
        p.lines.join('\n'),
      );
      const own = await buildParameters(setup, {}, env, files);
      assert.equal(own.buildargs.PIP_INDEX_URL, 'http://localhost:3141/simple');
      assert.equal(own.networkmode, 'host');
    });

    it('turned off by the request or MLC_NO_HOST_NETWORK=1: devcontainer.json and the user alone', async () => {
      host({ 'corp.pem': CORP1 });
      const env = { SSL_CERT_FILE: at('corp.pem'), PIP_INDEX_URL: 'http://localhost:3141/simple' };
      const setup = { context: tmp.dir, dockerfile: 'Dockerfile', args: { BASE_IMAGE: 'img:1' } };
      const want = { buildargs: { BASE_IMAGE: 'img:1', A: 'b' }, lines: [] };
      assert.deepEqual(await buildParameters(setup, { buildArgs: { A: 'b' }, hostNetwork: false }, env, files), want);
      const off = { ...env, MLC_NO_HOST_NETWORK: '1' };
      assert.deepEqual(await buildParameters(setup, { buildArgs: { A: 'b' } }, off, files), want);
    });
  });

  describe('runs', () => {
    it('the CA bundle is written once by content, mounted read-only, and the variables point at it', async () => {
      host({ 'corp.pem': `${CORP1}\n${PUBLIC_ROOT}` });
      const env = { SSL_CERT_FILE: at('corp.pem'), PIP_INDEX_URL: 'https://mirror.example/simple' };
      const network = (await hostRunNetwork(env, files))!;
      assert.ok(network.caFile!.startsWith(path.join(files.cache, 'ca') + path.sep), network.caFile);
      const written = pemCertificates(fs.readFileSync(network.caFile!, 'utf8')).certificates.map((c) => c.der);
      assert.equal(written[0], body(CORP1), "the host's certificates first");
      assert.equal(written.length, tls.rootCertificates.length + 1, 'then every public root, each once');
      assert.equal(fs.statSync(network.caFile!).mode & 0o777, 0o644, 'readable by the container user');
      assert.equal((await hostRunNetwork(env, files))!.caFile, network.caFile, 'the same content, the same file');
      assert.equal(fs.readdirSync(path.join(files.cache, 'ca')).length, 1);

      const spec = {
        projectRoot: '/home/ada/proj',
        image: 'img',
        command: ['python', 'train.py'],
        gpus: { kind: 'none' as const },
        mountWorkspace: true,
        env: { PIP_INDEX_URL: 'https://own.example/simple' },
        shm: 1024,
        ports: [],
        network,
      };
      const o = containerCreateOptions(spec, 'r1', 'mlc-proj-r1');
      assert.deepEqual(o.HostConfig.Mounts, [
        { Type: 'bind', Source: '/home/ada/proj', Target: '/workspace' },
        { Type: 'bind', Source: network.caFile, Target: CONTAINER_CA_FILE, ReadOnly: true },
      ]);
      for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'PIP_CERT', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS']) {
        assert.ok(o.Env!.includes(`${name}=${CONTAINER_CA_FILE}`), `${name} in ${o.Env!.join(' ')}`);
      }
      assert.ok(o.Env!.includes('PIP_INDEX_URL=https://own.example/simple'), "the run's own env wins");
      assert.ok(o.Env!.includes('UV_INDEX_URL=https://mirror.example/simple'));
    });

    it('no configured CA and no index: nothing; turned off: nothing', async () => {
      assert.equal(await hostRunNetwork({}, files), undefined);
      host({ 'corp.pem': CORP1 });
      assert.equal(await hostRunNetwork({ SSL_CERT_FILE: at('corp.pem'), MLC_NO_HOST_NETWORK: '1' }, files), undefined);
    });

    it("runSpecFor gives a run this host's settings (from the process environment)", async () => {
      host({ 'corp.pem': CORP2, 'proj/train.py': '' });
      const saved = { ...process.env };
      try {
        Object.assign(process.env, {
          SSL_CERT_FILE: at('corp.pem'),
          XDG_CACHE_HOME: at('xdg-cache'),
          PIP_INDEX_URL: 'https://mirror.example/simple',
        });
        delete process.env.MLC_NO_HOST_NETWORK;
        const req = { projectRoot: at('proj'), command: ['python', 'train.py'], gpus: { kind: 'none' as const } };
        const spec = await runSpecFor(req, { image: 'img', mountWorkspace: true });
        assert.ok(spec.network?.caFile?.startsWith(at('xdg-cache')), JSON.stringify(spec.network));
        assert.equal(spec.network?.env.PIP_INDEX_URL, 'https://mirror.example/simple');
        assert.deepEqual(spec.env, {}, "the run's own env stays its own");
        process.env.MLC_NO_HOST_NETWORK = '1';
        assert.equal((await runSpecFor(req, { image: 'img', mountWorkspace: true })).network, undefined);
      } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    });
  });

  describe('the doctor', () => {
    const noGpu = realProbes({ env: { PATH: path.dirname(process.execPath) } });
    const probes = (env: NodeJS.ProcessEnv): CheckProbes => ({
      ...noGpu,
      hostNetwork: () => hostNetworkSettings(env, files),
    });

    it("reports this host's network problems as findings, by severity, without changing the rest", async () => {
      host({ 'garbage.pem': 'nothing\n' });
      const env = {
        SSL_CERT_FILE: at('garbage.pem'),
        PIP_INDEX_URL: 'https://u:p@mirror.example/simple',
        PIP_EXTRA_INDEX_URL: 'http://localhost:3141/simple',
      };
      const plain = await gatherAndCheck({ noEngine: true }, noGpu);
      const r = await gatherAndCheck({ noEngine: true }, probes(env));
      const network = r.findings.filter((f) => f.id.startsWith('network-'));
      assert.deepEqual(
        network.map((f) => [f.id, f.severity]),
        [
          ['network-ca-no-certificate', 'warning'],
          ['network-index-credentials', 'warning'],
          ['network-index-loopback', 'info'],
        ],
      );
      for (const f of network) assert.deepEqual(Object.keys(f).sort(), ['fix', 'id', 'message', 'severity', 'source']);
      assert.deepEqual(
        r.findings.filter((f) => !f.id.startsWith('network-')),
        plain.findings,
      );
      assert.equal(r.verdict, plain.verdict, 'no GPU is an error either way');
    });

    it('asks only about this host: not for a machine the request describes, nor when turned off', async () => {
      const env = { PIP_INDEX_URL: 'https://u:p@mirror.example/simple' };
      const other = await gatherAndCheck({ noEngine: true, driver: '580.65.06' }, probes(env));
      assert.ok(!other.findings.some((f) => f.id.startsWith('network-')));
      const off = realProbes({ env: { ...env, PATH: path.dirname(process.execPath), MLC_NO_HOST_NETWORK: '1' } });
      assert.equal(await off.hostNetwork!(), null);
      const on = realProbes({ env: { ...env, PATH: path.dirname(process.execPath) } });
      assert.ok((await on.hostNetwork!())!.problems.some((p) => p.id === 'network-index-credentials'));
    });
  });
});
