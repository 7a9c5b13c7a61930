/**
 * A run killed while it has the containers paused or stopped (OOM killer, systemctl kill, a
 * reboot) must not leave Open WebUI down: the command records what it suspends before it acts,
 * and the next invocation of any subcommand, or `recover` (the units' ExecStopPost=), resumes
 * exactly those containers, only if they are still as the dead run left them, and alerts once.
 * Real bash, rsync and sqlite3; `docker` is the sandbox's stateful stub. Kills hit the whole
 * process group at the command's test hold point, like systemd's kill of the unit's cgroup.
 */
import * as fs from "fs";
import * as path from "path";
import { start, startHeld } from "./support/held-command";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { WebhookListener, webhookListener } from "./support/webhook-listener";

jest.setTimeout(180_000);

let sandbox: HostSandbox;
let hook: WebhookListener;

beforeEach(async () => {
  sandbox = new HostSandbox("owb-recovery-");
  buildDataDir(sandbox.dataDir, { bigUploadBytes: 200_000 });
  hook = await webhookListener();
});
afterEach(async () => {
  await hook.close();
  sandbox.cleanup();
});

const CONTAINERS = ["open-webui", "ollama"];

function install(consistency: "pause" | "stop") {
  const nas = path.join(sandbox.root, "nas");
  const job = (name: string) => ({ name, method: "local-snapshot", targets: ["nas"], retention: { keep: 3 }, consistency });
  sandbox.install({
    targets: { nas: { type: "local", path: nas } },
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: CONTAINERS, jobs: [job("nightly"), job("weekly")] }],
    notify: { webhookUrl: hook.url },
  });
}

const record = () => path.join(sandbox.paths.stateDir, "suspended-containers");
const states = () => CONTAINERS.map((c) => sandbox.containerState(c));
const suspended = { pause: "paused", stop: "exited" } as const;
const resumeVerb = { pause: "unpause", stop: "start" } as const;
const actions = () => sandbox.dockerCalls().filter((c) => /^(pause|unpause|stop|start) /.test(c));
const alerts = () => hook.jsonBodies().filter((b) => /killed while it had the containers/.test(b.message));

describe.each(["pause", "stop"] as const)("consistency %s", (consistency) => {
  beforeEach(() => install(consistency));

  it("SIGKILL in the window: the containers stay suspended until the next invocation (list) resumes them, with one alert", async () => {
    const run = startHeld(sandbox, ["run", "nightly"], "run-suspended");
    await run.held;
    expect(states()).toEqual([suspended[consistency], suspended[consistency]]);
    run.kill("SIGKILL");
    const killed = await run.exited;
    expect(killed.signal).toBe("SIGKILL");
    // Nothing ran after the kill: the record says what the dead run suspended.
    expect(states()).toEqual([suspended[consistency], suspended[consistency]]);
    expect(fs.readFileSync(record(), "utf8")).toBe(`owner run nightly\n${consistency} open-webui\n${consistency} ollama\n`);

    const list = await sandbox.ok(["list", "nightly"]);
    expect(states()).toEqual(["running", "running"]);
    expect(list.stderr).toMatch(/a run of job nightly died while it had the containers suspended; resumed: open-webui ollama/);
    expect(actions().slice(-2)).toEqual([`${resumeVerb[consistency]} open-webui`, `${resumeVerb[consistency]} ollama`]);
    expect(fs.existsSync(record())).toBe(false);
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]).toMatchObject({ host: "web1", job: "nightly", outcome: "failure" });

    // Once: later invocations find nothing to do, and say nothing.
    const calls = sandbox.dockerCalls().length;
    const again = await sandbox.ok(["recover"]);
    expect(again.stderr).toMatch(/nothing left suspended/);
    expect(sandbox.dockerCalls()).toHaveLength(calls);
    expect(alerts()).toHaveLength(1);
    // And the job runs normally again.
    await sandbox.ok(["run", "nightly"]);
    expect(states()).toEqual(["running", "running"]);
  });

  it("SIGTERM in the window: the run's own trap resumes the containers before it exits", async () => {
    const run = startHeld(sandbox, ["run", "nightly"], "run-suspended");
    await run.held;
    run.kill("SIGTERM");
    const r = await run.exited;
    expect(r.code).toBe(143);
    expect(states()).toEqual(["running", "running"]);
    expect(fs.existsSync(record())).toBe(false);
    expect(r.stderr).toMatch(/resumed container ollama/);
    // Nothing for the next invocation to do.
    const calls = sandbox.dockerCalls().length;
    await sandbox.ok(["list", "nightly"]);
    expect(sandbox.dockerCalls()).toHaveLength(calls);
  });

  it("SIGKILL, then `recover` (what ExecStopPost= runs): resumes only the containers still as the run left them", async () => {
    const run = startHeld(sandbox, ["run", "nightly"], "run-suspended");
    await run.held;
    run.kill("SIGKILL");
    await run.exited;
    // Meanwhile someone stopped ollama on purpose (or removed it): it is not ours to start.
    sandbox.setContainerState("ollama", consistency === "pause" ? "exited" : "absent");
    const r = await sandbox.ok(["recover"]);
    expect(sandbox.containerState("open-webui")).toBe("running");
    expect(sandbox.containerState("ollama")).toBe(consistency === "pause" ? "exited" : "absent");
    expect(r.stderr).toMatch(/container ollama is (exited|absent) now, not (paused|exited) as it was left; leaving it as it is/);
    expect(actions().slice(-1)).toEqual([`${resumeVerb[consistency]} open-webui`]);
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0].message).toMatch(/resumed: open-webui; changed since, left as they are: ollama/);
    expect(fs.existsSync(record())).toBe(false);
  });
});

it("a container that will not come back stays recorded: retried by every invocation, alerted once", async () => {
  install("pause");
  const run = startHeld(sandbox, ["run", "nightly"], "run-suspended");
  await run.held;
  run.kill("SIGKILL");
  await run.exited;
  sandbox.failDocker("unpause");
  const first = await sandbox.run(["recover"]);
  expect(first.code).not.toBe(0);
  expect(first.stderr).toMatch(/could not unpause container open-webui/);
  expect(states()).toEqual(["paused", "paused"]);
  expect(fs.readFileSync(record(), "utf8")).toBe("owner run nightly\nalerted\npause open-webui\npause ollama\n");
  expect(alerts()).toHaveLength(1);

  fs.rmSync(path.join(sandbox.root, "docker-stub", "fail-unpause"));
  await sandbox.ok(["list", "nightly"]);
  expect(states()).toEqual(["running", "running"]);
  expect(fs.existsSync(record())).toBe(false);
  expect(alerts()).toHaveLength(1);
});

it("a second job that needs the containers waits for the first one's copy, then runs: never both suspended at once", async () => {
  install("pause");
  const first = startHeld(sandbox, ["run", "nightly"], "run-suspended");
  await first.held;
  const second = start(sandbox, ["run", "weekly"]);
  // It waits on the containers lock, suspending nothing meanwhile.
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = () => {
      if (/another job has the containers paused or stopped for its copy; waiting up to \d+ s/.test(second.stderr())) return resolve();
      if (Date.now() > deadline) return reject(new Error(`weekly never waited:\n${second.stderr()}`));
      setTimeout(poll, 20);
    };
    poll();
  });
  expect(actions()).toEqual(["pause open-webui", "pause ollama"]);
  first.release();
  const [a, b] = await Promise.all([first.exited, second.exited]);
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
  expect(actions()).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama", "pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
  expect(states()).toEqual(["running", "running"]);
  expect(fs.existsSync(record())).toBe(false);
});

it("recover (and every other command) leaves a live run's suspended containers to that run", async () => {
  install("stop");
  const run = startHeld(sandbox, ["run", "nightly"], "run-suspended");
  await run.held;
  for (const args of [["recover"], ["list", "weekly"]]) {
    const r = await sandbox.ok(args);
    expect(r.stderr).toMatch(/a run or restore in progress holds the containers; it brings them back itself/);
    expect(states()).toEqual(["exited", "exited"]);
  }
  expect(actions()).toEqual(["stop open-webui", "stop ollama"]);
  run.release();
  expect((await run.exited).code).toBe(0);
  expect(states()).toEqual(["running", "running"]);
  expect(alerts()).toEqual([]);
});
