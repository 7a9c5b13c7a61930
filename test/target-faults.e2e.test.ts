/**
 * Dead targets, for real: one that accepts connections and never answers, one that refuses
 * them. The run fails fast on the dead one, alerts, and the other target's backups stay
 * restorable. Real rclone, restic, rsync and sqlite3, the S3 server on 127.0.0.1; only docker
 * is a stub. The job's timeout and a mirror cut off mid-sync have files of their own
 * (job-timeout.e2e, mirror-faults.e2e).
 *
 * @waits most of its time on timeouts and retries, so it starts first (tier-sequencer.js)
 */
import * as net from "net";
import { faultHost } from "./support/fault-host";
import { treeHashes } from "./support/openwebui-data";
import { expectSameData } from "./support/backup-checks";
import { waitFor } from "./support/wait";

jest.setTimeout(600_000);

const host = faultHost("owb-faults-");

/** The host's own rclone settings (with_target's), not the sandbox's impatient test values. */
const PRODUCTION_NETWORK = { RCLONE_RETRIES: undefined, RCLONE_LOW_LEVEL_RETRIES: undefined };
/**
 * A silent target gets 60 s to answer on a host; here 5 s (OPENWEBUI_BACKUP_TEST_ANSWER_WITHIN),
 * so the test waits out the same bound without the minute. The rendered script's 60 s is
 * pinned by the render snapshot.
 */
const ANSWER_WITHIN = 5;

/** A TCP listener that accepts every connection and never sends a byte. */
async function silentServer(): Promise<{ endpoint: string; open: () => number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.resume(); // read (and drop) what arrives, so the peer's close is seen
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    open: () => sockets.size,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An endpoint nothing listens on: connections are refused. */
async function refusedEndpoint(): Promise<string> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

describe("a dead target fails the run fast; the other target's backups stay restorable", () => {
  const methods = [
    ["restic", { method: "restic", retention: { keep: 2 } }],
    ["sync", { method: "sync" }],
  ] as const;

  it.each(methods)("%s: a target that accepts connections and never answers", async (_method, job) => {
    const silent = await silentServer();
    try {
      const targets = { good: host.s3.target(await host.bucket()), dead: host.s3.target("gone", { endpoint: silent.endpoint }) };
      host.sandbox.install(host.config({ ...job, targets: ["good"] }, targets));
      await host.sandbox.ok(["run", "nightly"]);
      const before = await host.restore("good", "before");

      host.sandbox.install(host.config({ ...job, targets: ["good", "dead"] }, targets));
      const started = Date.now();
      const r = await host.sandbox.run(["run", "nightly"], { ...PRODUCTION_NETWORK, OPENWEBUI_BACKUP_TEST_ANSWER_WITHIN: String(ANSWER_WITHIN) });
      const elapsed = Date.now() - started;

      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`dead: the target did not answer within ${ANSWER_WITHIN} s; nothing was sent to it`));
      expect(r.stderr).toMatch(/good: done/);
      expect(silent.accepted()).toBeGreaterThan(0); // it really was asked
      expect(elapsed).toBeLessThan(60_000); // the bound and a backup to the good target, not rclone's one-minute idle timeout
      const [body] = host.hook.jsonBodies();
      expect(body).toMatchObject({ host: "web1", job: "nightly", target: "dead", outcome: "failure" });
      expect(host.state()).toMatchObject({ outcome: "failure", failedTargets: "dead" });
      expect(host.metric("exit_status", "dead")).toBe(1);
      expect(host.metric("exit_status", "good")).toBe(0);
      // Nothing is left talking to the dead target, nothing staged is left behind.
      await waitFor("the connections to the silent target to close", () => silent.open() === 0, 30_000);
      expect(host.stagingLeft()).toEqual([]);
      // The good target has this run's backup and the earlier one is still restorable as it was.
      expectSameData(host.sandbox.dataDir, await host.restore("good", "after"));
      expect(treeHashes(before)).toEqual(treeHashes(await host.restore("good", "again")));
    } finally {
      await silent.close();
    }
  });

  // Both methods reach a target through the same check first; one of them waits out the host's
  // own rclone retries, to show that they end within about a minute.
  it.each([
    ["sync, with the host's own retries,", methods[1][1], PRODUCTION_NETWORK],
    ["restic", methods[0][1], {}],
  ] as const)("%s: a target that refuses connections fails within about a minute", async (_method, job, network) => {
    const targets = { good: host.s3.target(await host.bucket()), dead: host.s3.target("gone", { endpoint: await refusedEndpoint() }) };
    host.sandbox.install(host.config({ ...job, targets: ["good", "dead"] }, targets));
    const started = Date.now();
    const r = await host.sandbox.run(["run", "nightly"], network);
    const elapsed = Date.now() - started;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/dead: the target cannot be reached \(rclone exit \d+\); nothing was sent to it/);
    expect(r.stderr).toMatch(/connection refused/);
    expect(elapsed).toBeLessThan(90_000);
    expect(host.hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "dead", outcome: "failure" });
    expectSameData(host.sandbox.dataDir, await host.restore("good", "restored"));
    expect(host.stagingLeft()).toEqual([]);
  });
});
