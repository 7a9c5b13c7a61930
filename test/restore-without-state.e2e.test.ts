/**
 * docs/restore-without-state.md promises that a backup can be read back with restic or
 * rclone alone, the bucket's key and the saved password: no project code, no Pulumi state.
 * This runs the page's command blocks verbatim against backups the rendered command made
 * on the local S3 server, with the variables the page asks the reader to fill in.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir, isDatabaseFile, isExcluded, treeHashes } from "./support/openwebui-data";
import { S3TestServer, s3ClientEnv, startS3Server } from "./support/s3-server";

jest.setTimeout(180_000);

const PAGE = path.join(__dirname, "..", "docs", "restore-without-state.md");
const PASSWORD = "the saved restic password";

/** The page's blocks marked as run by this test, in order. */
function runnableBlocks(): string[] {
  const text = fs.readFileSync(PAGE, "utf8");
  return [...text.matchAll(/<!-- run by test\/restore-without-state\.e2e\.test\.ts -->\n```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

let s3: S3TestServer;
let sandbox: HostSandbox;

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket("my-backups");
  sandbox = new HostSandbox("owb-nostate-");
  buildDataDir(sandbox.dataDir);
  sandbox.install({
    targets: { offsite: s3.target("my-backups", { prefix: undefined }) },
    hosts: [
      {
        name: "web1",
        data: { dir: sandbox.dataDir },
        jobs: [
          { name: "nightly", method: "restic", targets: ["offsite"], retention: { daily: 7 } },
          { name: "weekly", method: "snapshot", targets: ["offsite"], retention: { keep: 4 } },
        ],
      },
    ],
    resticPassword: PASSWORD,
  });
  await sandbox.ok(["run", "nightly"]);
  await sandbox.ok(["run", "weekly"]);
});

afterAll(async () => {
  sandbox?.cleanup();
  await s3?.stop();
});

/** Runs a page block in a fresh directory with only the filled-in variables, nothing of ours. */
function runBlock(block: string, vars: Record<string, string>): { dir: string; out: string } {
  const dir = fs.mkdtempSync(path.join(sandbox.root, "reader-"));
  const env = { ...s3ClientEnv({ PATH: process.env.PATH, HOME: dir }), ...vars };
  const out = execFileSync("bash", ["-euo", "pipefail", "-c", block], { cwd: dir, env, encoding: "utf8" });
  return { dir, out };
}

const expected = () => treeHashes(sandbox.dataDir, (rel) => isDatabaseFile(rel) || isExcluded(rel));

it("the page has the two blocks this test runs", () => {
  expect(runnableBlocks()).toHaveLength(2);
});

it("restic alone, with the saved password, gives the data back", () => {
  const { dir, out } = runBlock(runnableBlocks()[0], {
    RESTIC_REPOSITORY: `s3:${s3.endpoint}/my-backups/web1/nightly`,
    RESTIC_PASSWORD: PASSWORD,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
  expect(out).toMatch(/^ok$/m);
  expect(treeHashes(path.join(dir, "owui-restore", "data"), isDatabaseFile)).toEqual(expected());
  expect(fs.existsSync(path.join(dir, "owui-restore", "manifest.json"))).toBe(true);
});

it("restic refuses without the right password: the password is what must be saved", () => {
  expect(() =>
    runBlock(runnableBlocks()[0], {
      RESTIC_REPOSITORY: `s3:${s3.endpoint}/my-backups/web1/nightly`,
      RESTIC_PASSWORD: "a guess",
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    }),
  ).toThrow(/wrong password|no key found/);
});

it("rclone alone gives the newest complete snapshot folder back", () => {
  const { dir, out } = runBlock(runnableBlocks()[1], {
    RCLONE_CONFIG_BACKUP_TYPE: "s3",
    RCLONE_CONFIG_BACKUP_PROVIDER: "Other",
    RCLONE_CONFIG_BACKUP_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_BACKUP_REGION: "us-east-1",
    RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID: s3.accessKeyId,
    RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: s3.secretAccessKey,
    RCLONE_CONFIG: "/dev/null",
    BACKUPS: "backup:my-backups/web1/weekly",
  });
  expect(out).toMatch(/^ok$/m);
  expect(treeHashes(path.join(dir, "owui-restore"), isDatabaseFile)).toEqual(expected());
});
