import * as http from 'node:http';
import * as path from 'node:path';

/** The project root (tests are compiled to out/test/engine). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The base image that scripts/docker-engine-up.sh imports from busybox-static (no registry needed). */
export const BUSYBOX = 'mlc-test/busybox:latest';

/**
 * DOCKER_HOST of the private test engine that `npm test` starts (scripts/docker-engine-up.sh) before this tier. The
 * tests assume that engine: Debian's docker.io with no NVIDIA runtime and the busybox base image.
 */
export function testDockerHost(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) {
    throw new Error(
      'DOCKER_HOST is not set: run the engine tests with `npm test`, or start the test engine with ' +
        '`bash scripts/docker-engine-up.sh` and export the DOCKER_HOST=… line it prints.',
    );
  }
  return host;
}

/** The unix socket path of a unix:// DOCKER_HOST. */
export function socketPathOf(dockerHost: string): string {
  if (!dockerHost.startsWith('unix://')) throw new Error(`the test engine listens on a unix socket, not ${dockerHost}`);
  return dockerHost.slice('unix://'.length);
}

/** A raw GET on the engine's socket, without dockerode and without an API version prefix. */
export function rawGet(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: urlPath, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}
