/**
 * A `sync` killed or cut off by its server mid-mirror, for real: SIGKILL while uploading to
 * next/, the server dying mid-upload, SIGKILL while next/ is promoted to current/. Restore
 * always gives a complete mirror, byte for byte, and the next run finishes the job.
 *
 * @waits most of its time on timeouts and retries, so it starts first (tier-sequencer.js)
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { treeHashes } from "./support/openwebui-data";
import { expectSameData } from "./support/backup-checks";
import { faultHost } from "./support/fault-host";
import { killSession } from "./support/processes";
import { S3TestServer, startS3Server } from "./support/s3-server";
import { waitFor } from "./support/wait";

jest.setTimeout(600_000);

const host = faultHost("owb-mirror-");

describe("sync keeps a restorable mirror whatever stops it", () => {
  const slowData = fs.mkdtempSync(path.join(os.tmpdir(), "owb-faults-slow-s3-"));
  afterAll(() => fs.rmSync(slowData, { recursive: true, force: true }));

  let slow: S3TestServer;
  afterEach(async () => {
    await slow?.stop();
  });

  /**
   * A sync job's first complete mirror, on a server of its own that delays each write by
   * `slowWritesMs`, so that a test can act while an upload is under way. Returns the bucket.
   */
  async function firstMirror(slowWritesMs: number): Promise<string> {
    slow = await startS3Server({ slowWritesMs, dataDir: slowData });
    const name = await host.bucket(slow);
    host.sandbox.install(host.config({ method: "sync", targets: ["offsite"] }, { offsite: slow.target(name) }));
    await host.sandbox.ok(["run", "nightly"]);
    return name;
  }

  /** Whether the S3 server already holds one of changeUploads' files under next/. */
  const uploading = (name: string) => () => {
    const dir = path.join(slowData, name, "web1", "nightly", "next", "data", "uploads");
    return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.startsWith("later-"));
  };

  /** New and changed uploads, so the next sync has several files to send. */
  function changeUploads(): void {
    for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(host.sandbox.dataDir, "uploads", `later-${i}.bin`), Buffer.alloc(200_000, i + 1));
    fs.appendFileSync(path.join(host.sandbox.dataDir, "uploads", "big.bin"), "changed");
  }

  it("SIGKILL while uploading to next/: restore gives the previous mirror byte for byte; the next run completes", async () => {
    const name = await firstMirror(300);
    const before = await host.restore("offsite", "before");
    changeUploads();

    const run = spawn(host.sandbox.paths.command, ["run", "nightly"], { env: host.sandbox.env(), detached: true, stdio: "ignore" });
    await waitFor("the first new file in next/", uploading(name), 120_000);
    await killSession(run);

    expect((await host.sandbox.ok(["list", "nightly"])).stdout).toMatch(/^current {2}\S+ {2}\d+ files/m);
    expect(treeHashes(await host.restore("offsite", "after-kill"))).toEqual(treeHashes(before));
    await host.sandbox.ok(["run", "nightly"]);
    expectSameData(host.sandbox.dataDir, await host.restore("offsite", "after-next-run"));
  });

  it("the server dies mid-upload: the run fails and alerts, restore gives the previous mirror byte for byte", async () => {
    const name = await firstMirror(300);
    const before = await host.restore("offsite", "before");
    changeUploads();

    const running = host.sandbox.run(["run", "nightly"]);
    await waitFor("the first new file in next/", uploading(name), 120_000);
    await slow.stop();
    const r = await running;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/offsite: FAILED/);
    expect(host.hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "offsite", outcome: "failure" });

    await slow.restart();
    expect(treeHashes(await host.restore("offsite", "after"))).toEqual(treeHashes(before));
    expect(host.stagingLeft()).toEqual([]);
  });

  it("SIGKILL while next/ is copied to current/: restore gives the new complete copy from next/; the next run finishes the promotion", async () => {
    const name = await firstMirror(200);
    changeUploads();
    const loc = path.join(slowData, name, "web1", "nightly");
    const promoting = () => !fs.existsSync(path.join(loc, "current", "manifest.json._S3rver_object")) && fs.existsSync(path.join(loc, "next", "manifest.json._S3rver_object"));

    const run = spawn(host.sandbox.paths.command, ["run", "nightly"], { env: host.sandbox.env(), detached: true, stdio: "ignore" });
    await waitFor("the promotion to begin", promoting, 120_000);
    await killSession(run);
    expect(promoting()).toBe(true);

    expect((await host.sandbox.ok(["list", "nightly"])).stdout).toMatch(/\(in next\/: a promotion to current\/ did not finish/);
    const fromNext = await host.restore("offsite", "from-next");
    expectSameData(host.sandbox.dataDir, fromNext);

    const r = await host.sandbox.ok(["run", "nightly"]);
    expect(r.stderr).toMatch(/finishing the promotion of next\/ that an interrupted run left/);
    expect((await host.sandbox.ok(["list", "nightly"])).stdout).not.toMatch(/in next\//);
    expectSameData(host.sandbox.dataDir, await host.restore("offsite", "after"));
  });
});
