// The npm mirror this project is developed against serves only the Linux x64/arm64
// builds of some native packages (@swc/core, unrs-resolver). `npm install` then
// leaves the other platforms' optional packages out of package-lock.json, and
// `npm ci` refuses the lock as "out of sync". This adds the missing optional
// entries, marked with the os/cpu that keep npm from installing them here,
// exactly as a lock made against the full registry would list them.
// Run after `npm install`: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'win32', 'linux', 'android', 'freebsd', 'openharmony'];
const CPU = {
  'arm-': 'arm',
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  wasm32: 'wasm32',
};

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${name}`;
    if (lock.packages[target]) continue;
    const suffix = name.split('/').pop();
    const os = OS.find((o) => suffix.includes(`-${o}-`));
    const cpuKey = Object.keys(CPU).find((c) => suffix.includes(`-${c}`));
    if (!os || !cpuKey) throw new Error(`cannot tell the platform of ${name} (needed by ${path})`);
    const libc = suffix.includes('musl') ? ['musl'] : suffix.includes('gnu') ? ['glibc'] : undefined;
    lock.packages[target] = {
      version,
      dev: entry.dev,
      optional: true,
      os: [os],
      cpu: [CPU[cpuKey]],
      ...(libc && { libc }),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} optional platform entries`);
