import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import semver from 'semver';

const root = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8'));
const nvmrc = readFileSync(resolve(root, '.nvmrc'), 'utf8').trim();
const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');

/** The oldest release of each line `engines.node` admits (`^22.22.3 || >=24.15.0`: 22.22.3 and 24.15.0). */
const oldestSupported = (range: string) => range.split('||').map((part) => semver.minVersion(part.trim())!.version);

/**
 * The Node versions the project says it runs on, against every package it
 * installs: `npm ci` on a supported Node prints no EBADENGINE warning, for
 * runtime and development dependencies alike. (Whatever Node runs this test.)
 */
describe('Supported Node versions', () => {
  const range: string = pkg.engines.node;
  const packages = Object.entries<{ engines?: { node?: string }; dev?: boolean }>(lock.packages).filter(
    ([path, entry]) => path !== '' && typeof entry.engines?.node === 'string',
  );

  it('are the maintained LTS lines 22 and 24, not the end-of-life 20', () => {
    expect(oldestSupported(range).map((v) => semver.major(v))).toEqual([22, 24]);
    expect(semver.satisfies('20.20.2', range)).toBe(false);
    expect(semver.satisfies('24.22.3', range)).toBe(true);
  });

  it.each(oldestSupported(pkg.engines.node))('satisfy every installed package on Node %s', (version) => {
    expect(packages.length).toBeGreaterThan(50);
    const refusing = packages
      .filter(([, entry]) => !semver.satisfies(version, entry.engines!.node!))
      .map(
        ([path, entry]) =>
          `${path.replace(/^.*node_modules\//, '')} (${entry.dev ? 'dev' : 'runtime'}): ${entry.engines!.node}`,
      );
    expect(refusing).toEqual([]);
  });

  it('are what .nvmrc and the Docker image use', () => {
    expect(semver.satisfies(`${nvmrc}.99.0`, range)).toBe(true);
    const images = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const major of images) expect(major).toBe(nvmrc);
  });
});
