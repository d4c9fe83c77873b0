import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { envSchema } from '../../apps/api/src/config/env.schema';

const root = resolve(__dirname, '../..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const scripts = Object.keys(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).scripts);

/** The text of the README section under `## title`, up to the next `## `. */
const section = (title: string) => {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
};

/** The first column of a Markdown table's rows: every `NAME` in backticks there. */
const tableNames = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));

/** What a newcomer reads first must be true of the repository. */
describe('README', () => {
  it('describes every variable the app reads in its configuration table', () => {
    const documented = tableNames(section('Configuration'));
    const missing = Object.keys(envSchema.shape).filter((name) => !documented.includes(name));
    expect(missing).toEqual([]);
    const unknown = documented.filter((name) => !(name in envSchema.shape));
    expect(unknown).toEqual([]);
  });

  it("describes every variable only docker-compose.yml reads in the Docker section's table", () => {
    const composeFile = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
    const composeOnly = [...new Set([...composeFile.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]))].filter(
      (name) => !(name in envSchema.shape),
    );
    expect(composeOnly.length).toBeGreaterThan(0);
    const documented = tableNames(section('Docker'));
    expect(composeOnly.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([a-z][a-z0-9:-]*)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    expect([...new Set(named)].filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it('links only to files that exist in the repository', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((m) => m[1])
      .filter((target) => !/^[a-z]+:/.test(target));
    expect(links.length).toBeGreaterThan(3);
    expect(links.filter((target) => !existsSync(resolve(dirname(resolve(root, 'README.md')), target)))).toEqual([]);
    expect(readme).not.toMatch(/\.\.\/shared\//);
  });
});
