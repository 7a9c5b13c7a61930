/**
 * Tests run from TypeScript sources, in three tiers named by file suffix:
 *   *.unit.test.ts      pure functions and mocked components; needs no host tools
 *   *.artifact.test.ts  rendered files checked with host tools (shellcheck, systemd-analyze,
 *                       the installer in a temporary root, the workflow linter)
 *   *.e2e.test.ts       real backups and restores: restic, rclone, rsync, sqlite3, sshd, a local S3 server
 * `npm run test:<tier>` runs one tier (`jest --selectProjects <tier>`); `npm test` runs them all.
 * Before a tier that needs host tools runs, test/preflight.ts names whatever is missing.
 */
const tier = (name, extra = {}) => ({
  displayName: name,
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: [`**/*.${name}.test.ts`],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  ...extra,
});
const preflight = (name) => ({ globalSetup: `<rootDir>/test/support/preflight-setup.${name}.ts` });

const os = require("os");

module.exports = {
  // Five workers more than the machine has cores: the end-to-end tests spend much of their time
  // waiting on the tools they drive (a timeout, a server), and that time is another test's.
  // Measured on 2 cores, jest over every tier from a cold cache: 4 workers 279 s, 5 workers
  // 269 s, 6 workers 256 s, 7 workers 251 s (with the files tagged @long first).
  maxWorkers: os.availableParallelism() + 5,
  testSequencer: "<rootDir>/test/support/tier-sequencer.js",
  // End-to-end tests start real tools, so tests get a generous timeout. A global option:
  // jest ignores it inside a project.
  testTimeout: 120000,
  // Every test's temporary files under one directory, removed when the run ends.
  globalSetup: "<rootDir>/test/support/temp-root-setup.ts",
  globalTeardown: "<rootDir>/test/support/temp-root-teardown.ts",
  projects: [tier("unit"), tier("artifact", preflight("artifact")), tier("e2e", preflight("e2e"))],
};
