// Two projects: `unit` (fast, no external processes) and `integration` (real Terraform, moto_server, Docker).
// Runner modules are native ES modules (.mjs); jest runs them with --experimental-vm-modules (see package.json).
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.{ts,mjs}'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.{ts,mjs}'] },
  ],
};
