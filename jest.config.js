// Jest 30 cannot require() the ESM-only NestJS 12 / cache packages by itself:
// SWC compiles everything (node_modules included, cached after the first run)
// to CommonJS, and the scripts start Jest with --experimental-vm-modules for
// PGlite's dynamic import of its WASM.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj|cj)s$': swc },
  transformIgnorePatterns: [],
  moduleNameMapper: { '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration tests boot apps and Redis servers; Jest's 5 s default is too short for them.
  testTimeout: 60_000,
  // Every test file loads its modules afresh into the worker; recycle a worker
  // whose heap has grown past this instead of letting it climb for the whole run.
  workerIdleMemoryLimit: '768MB',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/*/src/**/*.spec.ts', '<rootDir>/bench/lib/**/*.spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/*/test/**/*.e2e-spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.spec.ts'] },
  ],
};
