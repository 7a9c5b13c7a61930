/**
 * Online copies of files that change in place, for real (rsync, sqlite3, a writer process;
 * docker is the stub, whose `pause` freezes the writer with SIGSTOP as the cgroup freezer would):
 * a Chroma-shaped segment file rewritten in place in bursts is staged as one whole version, by
 * waiting for the burst to end; one that never settles is copied in a pause taken between
 * bursts, and the pause is measured and reported. Uploads are hard-linked, segment files copied.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { STILL_SECONDS } from "../scripts/render/env-contract";
import { startHeld } from "./support/held-command";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { waitFor } from "./support/wait";

jest.setTimeout(180_000);

const BLOCK = 4096;
const BLOCKS = 4096; // a 16 MiB data_level0.bin: a burst and its copy take long enough to overlap

let sandbox: HostSandbox;
let writer: Writer | undefined;
beforeEach(() => {
  sandbox = new HostSandbox("owb-online-", { stillSeconds: STILL_SECONDS }); // the real quiet period: these tests are about it
  buildDataDir(sandbox.dataDir);
});
afterEach(async () => {
  await writer?.stop();
  writer = undefined;
  sandbox.cleanup();
});

const segmentDir = () => path.join(sandbox.dataDir, "vector_db", "6f1c9a3e-2b4d-4e8f-9a1b-3c5d7e9f0a2b");
const segmentFile = () => path.join(segmentDir(), "data_level0.bin");
const metricsFile = () => path.join(sandbox.root, "textfile", "openwebui_backup.prom");
const logFile = () => path.join(sandbox.paths.logDir, "nightly.log");

function install(job: Record<string, unknown> = {}) {
  sandbox.install({
    targets: { nas: { type: "local", path: path.join(sandbox.root, "nas") } },
    hosts: [
      {
        name: "web1",
        data: { dir: sandbox.dataDir },
        containers: ["open-webui", "ollama"],
        paths: { metricsFile: metricsFile() },
        jobs: [{ name: "nightly", method: "local-snapshot", targets: ["nas"], retention: { keep: 3 }, ...job }],
      },
    ],
  });
}

/** The versions found in a segment file's blocks (each block is its version number, repeated). */
function blockVersions(file: string): Set<bigint> {
  const buf = fs.readFileSync(file);
  expect(buf.length).toBe(BLOCK * BLOCKS);
  const versions = new Set<bigint>();
  for (let off = 0; off < buf.length; off += 8) versions.add(buf.readBigUInt64LE(off));
  return versions;
}

interface Writer {
  proc: ChildProcess;
  /** The last version the writer reported finishing. */
  last(): number;
  /** Its stalls inside bursts, [from, to] in seconds since the epoch (segment-writer.py). */
  stalls(): [number, number][];
  /** Resolves once the writer has finished a burst newer than `version`. */
  burstAfter(version: number): Promise<void>;
  /** Asks it to stop bursting; resolves with its final version. */
  settle(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a writer that rewrites data_level0.bin in place in bursts, `gap` seconds apart; resolves after its first burst. */
async function startWriter(gap: number): Promise<Writer> {
  fs.writeFileSync(segmentFile(), Buffer.alloc(BLOCK * BLOCKS)); // version 0 everywhere
  const stopFile = path.join(sandbox.root, "writer.stop");
  const proc = spawn("python3", [path.join(__dirname, "support", "segment-writer.py"), segmentFile(), String(BLOCKS), String(gap), stopFile], { stdio: ["ignore", "pipe", "inherit"] });
  let last = 0;
  let stopped: number | undefined;
  const stalls: [number, number][] = [];
  const waiters: (() => void)[] = [];
  let pending = "";
  proc.stdout!.on("data", (chunk) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const stall = /^stall (\S+) (\S+)$/.exec(line);
      if (stall) stalls.push([Number(stall[1]), Number(stall[2])]);
      const m = /^(burst|stopped) (\d+)$/.exec(line);
      if (!m) continue;
      if (m[1] === "burst") last = Number(m[2]);
      else stopped = Number(m[2]);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const exited = new Promise((r) => proc.once("exit", r));
  const until = (cond: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the writer stopped reporting")), 60_000);
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  await until(() => last >= 1);
  return {
    proc,
    last: () => last,
    stalls: () => stalls,
    burstAfter: (version) => until(() => last > version),
    settle: async () => {
      fs.writeFileSync(stopFile, "");
      await until(() => stopped !== undefined);
      return stopped!;
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

const log = () => (fs.existsSync(logFile()) ? fs.readFileSync(logFile(), "utf8") : "");
const state = () => JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8"));
const pauseMetric = () => Number(/^openwebui_backup_pause_seconds\{host="web1",job="nightly",target="nas"\} (\S+)$/m.exec(fs.readFileSync(metricsFile(), "utf8"))![1]);
// How long copy.bash waits for the folders to be still before it pauses the containers.
const PAUSE_GAP = Number(/^readonly PAUSE_GAP=(\S+)$/m.exec(fs.readFileSync(path.join(__dirname, "..", "scripts", "host", "backup", "copy.bash"), "utf8"))![1]);

/**
 * The longest the writer, in the middle of a burst, went without writing and without being
 * frozen, in stalls that began at or after `since`: the part of a stall before a freeze counts.
 */
function longestStallUnfrozen(since: number): number {
  const freezes = sandbox.containerFreezes("open-webui");
  let longest = 0;
  for (const [from, to] of writer!.stalls()) {
    if (from < since) continue;
    const frozenAt = freezes.filter((t) => t > from && t < to);
    longest = Math.max(longest, (frozenAt.length ? Math.min(...frozenAt) : to) - from);
  }
  return longest;
}

const dockerVerbs = () => sandbox.dockerCalls().filter((c) => !/inspect/.test(c));

/** Restores the newest snapshot and returns the versions in its data_level0.bin. */
async function restoredVersions(): Promise<Set<bigint>> {
  const restored = path.join(sandbox.root, `restored-${Date.now()}`);
  await sandbox.ok(["restore", "nightly", "--to", restored]);
  return blockVersions(path.join(restored, "vector_db", path.basename(segmentDir()), "data_level0.bin"));
}

it("a file rewritten during the first copy, at the same size and within the same second, is copied again", async () => {
  // rsync's quick check compares size and whole seconds: the re-copy of a changed folder must
  // not take the torn first copy for an up-to-date one.
  install();
  fs.writeFileSync(segmentFile(), Buffer.alloc(BLOCK * BLOCKS, 1));
  const run = startHeld(sandbox, ["run", "nightly"], "online-copied");
  await run.held;
  const staged = path.join(sandbox.paths.stagingDir, "nightly", "data", "vector_db", path.basename(segmentDir()), "data_level0.bin");
  const copiedAt = fs.statSync(staged).mtimeMs / 1000; // the source's mtime when it was copied
  const rewritten = Buffer.alloc(BLOCK * BLOCKS, 2);
  fs.writeFileSync(segmentFile(), rewritten);
  const sameSecond = Math.floor(copiedAt) + (copiedAt % 1 < 0.5 ? 0.75 : 0.25);
  fs.utimesSync(segmentFile(), sameSecond, sameSecond);
  run.release();
  const exit = await run.exited;
  expect(exit.code).toBe(0);
  expect(exit.stderr).toMatch(/changed while copied or just before/);
  const restored = path.join(sandbox.root, "restored");
  await sandbox.ok(["restore", "nightly", "--to", restored]);
  expect(fs.readFileSync(path.join(restored, "vector_db", path.basename(segmentDir()), "data_level0.bin")).equals(rewritten)).toBe(true);
});

it("a segment file rewritten in bursts during the copy is staged once its burst is over: one whole version, no pause", async () => {
  install();
  writer = await startWriter(0.05);
  const run = sandbox.run(["run", "nightly"]);
  // The run has seen the folder change and waits for it to be still: the moment to look at the stage.
  await waitFor("the run to notice the rewrites", () => /changed while copied or just before/.test(log()));
  const staged = path.join(sandbox.paths.stagingDir, "nightly", "data");
  const ino = (root: string, rel: string) => fs.statSync(path.join(root, rel)).ino;
  // Uploads are written once: hard links. Segment files change in place: copies.
  expect(ino(staged, "uploads/big.bin")).toBe(ino(sandbox.dataDir, "uploads/big.bin"));
  const header = path.join("vector_db", path.basename(segmentDir()), "header.bin");
  expect(ino(staged, header)).not.toBe(ino(sandbox.dataDir, header));
  expect(ino(staged, path.join("vector_db", path.basename(segmentDir()), "data_level0.bin"))).not.toBe(fs.statSync(segmentFile()).ino);

  const final = await writer.settle();
  const r = await run;
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/every folder settled and was copied while still/);
  expect(dockerVerbs()).toEqual([]);
  expect(state()).toMatchObject({ outcome: "success", pauseSeconds: 0 });
  expect(pauseMetric()).toBe(0);
  // The staged copy is one whole version written during the run (the one the file settled on,
  // unless a starved writer paused for longer than the quiet period between two bursts).
  const versions = [...(await restoredVersions())];
  expect(versions).toHaveLength(1);
  expect(versions[0]).toBeGreaterThanOrEqual(1n);
  expect(versions[0]).toBeLessThanOrEqual(BigInt(final));
});

it("a segment file that never settles is copied in a pause between bursts; the pause is reported and the container runs again", async () => {
  install({ settleTimeout: 3 });
  // Still means 5 s here, so that even a writer starved for seconds on a busy machine never settles.
  const env = fs.readFileSync(sandbox.paths.envFile, "utf8");
  expect(env).toMatch(/^OWB_STILL_SECONDS='2'$/m);
  fs.writeFileSync(sandbox.paths.envFile, env.replace(/^OWB_STILL_SECONDS='2'$/m, "OWB_STILL_SECONDS='5'"));
  writer = await startWriter(0.3); // bursts every 0.3 s
  sandbox.setContainerProcess("open-webui", writer.proc.pid!);
  // Two things, and only those, excuse a torn copy, after which the run is tried again:
  //  - the writer stalled mid-burst, unfrozen, for as long as the gap the run waits for: no one
  //    looking only at the files can tell that from the end of a burst;
  //  - each of the run's 5 pauses met the start of a burst (on a busy machine the pause can come
  //    later than the gap), and the run copied what the last one froze, saying so.
  for (let attempt = 1; ; attempt++) {
    const since = Date.now() / 1000;
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/still changing after 3 s; pausing the containers to copy them/);
    const m = /paused the containers for (\d+\.\d{3}) s to copy 1 folder\(s\) that never settled/.exec(r.stderr);
    expect(m).not.toBeNull();
    const seconds = Number(m![1]);
    expect(seconds).toBeGreaterThan(0);
    expect(state()).toMatchObject({ outcome: "success", pauseSeconds: seconds });
    expect(pauseMetric()).toBe(seconds);
    expect(fs.readFileSync(metricsFile(), "utf8")).toMatch(/^# TYPE openwebui_backup_pause_seconds gauge$/m);
    // Every pause was undone (a pause that met a write just before it is undone and taken again).
    const verbs = dockerVerbs();
    expect(verbs.length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < verbs.length; i += 4) expect(verbs.slice(i, i + 4)).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
    // The writer, standing in for the container, runs again: not stopped, and it finishes new bursts.
    expect(fs.readFileSync(`/proc/${writer.proc.pid}/stat`, "utf8").split(") ")[1][0]).not.toBe("T");
    await writer.burstAfter(writer.last());
    // Paused between two bursts: one whole version.
    if ((await restoredVersions()).size === 1) break;
    const excuse = { stalledForTheGap: longestStallUnfrozen(since) >= PAUSE_GAP - 0.005, everyPauseMetAWrite: /a write landed just before each of 5 pauses/.test(r.stderr) };
    expect(excuse).not.toEqual({ stalledForTheGap: false, everyPauseMetAWrite: false });
    expect(attempt).toBeLessThan(5);
  }
});

it.each(["pause", "stop"])("consistency %s: the whole copy is taken with the containers suspended, nothing waits to settle, and the time is reported", async (mode) => {
  install({ consistency: mode });
  const r = await sandbox.ok(["run", "nightly"]);
  expect(r.stderr).not.toMatch(/online copy:/);
  const undo = mode === "pause" ? "unpause" : "start";
  expect(dockerVerbs()).toEqual([`${mode} open-webui`, `${mode} ollama`, `${undo} open-webui`, `${undo} ollama`]);
  const m = new RegExp(`the containers were ${mode === "pause" ? "paused" : "stopped"} for (\\d+\\.\\d{3}) s while the copy was taken`).exec(r.stderr);
  expect(m).not.toBeNull();
  expect(state().pauseSeconds).toBe(Number(m![1]));
  expect(pauseMetric()).toBe(Number(m![1]));
});
