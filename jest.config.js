// Two projects: `unit` (fast, no external processes) and `integration` (real Terraform, moto_server, Docker).
// Runner modules are native ES modules (.mjs); jest runs them with --experimental-vm-modules (see package.json).
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.{ts,mjs}'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.{ts,mjs}'],
      // one moto_server + one foundation apply for the whole run (docs/testing.md)
      globalSetup: '<rootDir>/scripts/lib/jest-global-setup.mjs',
      globalTeardown: '<rootDir>/scripts/lib/jest-global-teardown.mjs',
    },
  ],
};
