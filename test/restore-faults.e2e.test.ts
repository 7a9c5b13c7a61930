/**
 * `restore --in-place` under faults, for real: SIGTERM and SIGKILL at each phase (while
 * fetching, after the stop, between the renames of the swap, after the swap), a failed check
 * after the swap, a full disk (a small tmpfs as the data's file system), a run and a restore
 * at the same time, and a host with no container to stop. After each, the data directory holds
 * the complete previous data or the complete restored data (sha256 of every file), the
 * containers run only on complete data, and the next invocation settles what was left.
 * Real bash, rsync and sqlite3; `docker` is the sandbox's stateful stub.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startHeld } from "./support/held-command";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir, isDatabaseFile, treeHashes } from "./support/openwebui-data";
import { describeWithTmpfs, mountTmpfs, unmountAll } from "./support/tmpfs";
import { WebhookListener, webhookListener } from "./support/webhook-listener";

jest.setTimeout(240_000);

const CONTAINERS = ["open-webui", "ollama"];
/** The folders an in-place restore keeps inside a data directory that is a mountpoint. */
const isRestoreFolder = (rel: string) => /^\.openwebui-(before-)?restore-/.test(rel);

const withTmpfs = describeWithTmpfs();

let sandbox: HostSandbox;
let hook: WebhookListener;

beforeEach(async () => {
  sandbox = new HostSandbox("owb-restore-");
  hook = await webhookListener();
});
afterEach(async () => {
  unmountAll();
  await hook.close();
  sandbox.cleanup();
});

const nas = () => path.join(sandbox.root, "nas");
const journal = () => path.join(sandbox.paths.stateDir, "restore-in-place");
const states = () => CONTAINERS.map((c) => sandbox.containerState(c));
const actions = () => sandbox.dockerCalls().filter((c) => /^(pause|unpause|stop|start) /.test(c));
const interruptedAlerts = () => hook.jsonBodies().filter((b) => /in-place restore of job nightly was interrupted/.test(b.message));

function install(dataDir: string, containers: string[] = CONTAINERS): void {
  const pause = containers.length > 0 ? [{ name: "weekly", method: "local-snapshot", targets: ["nas"], retention: { keep: 3 }, consistency: "pause" }] : [];
  sandbox.install({
    targets: { nas: { type: "local", path: nas() } },
    hosts: [
      {
        name: "web1",
        data: { dir: dataDir },
        containers,
        jobs: [
          { name: "nightly", method: "local-snapshot", targets: ["nas"], retention: { keep: 3 } },
          ...pause,
          { name: "hourly", method: "local-snapshot", targets: ["nas"], retention: { keep: 3 } },
        ],
      },
    ],
    notify: { webhookUrl: hook.url },
  });
}

interface Trees {
  /** The live data before the restore: what "the previous data" must be, file for file. */
  old: Map<string, string>;
  /** The backup being restored: what "the restored data" must be, file for file. */
  restored: Map<string, string>;
}

/** Backs up the data dir, then changes it, so the previous and the restored trees differ. */
async function backUpThenChange(dataDir: string): Promise<Trees> {
  await sandbox.ok(["run", "nightly"]);
  const root = path.join(nas(), "web1", "nightly");
  const [folder] = fs.readdirSync(root);
  const restored = treeHashes(path.join(root, folder, "data"));
  fs.writeFileSync(path.join(dataDir, "uploads", "report 2024 final.pdf"), "overwritten by mistake");
  fs.rmSync(path.join(dataDir, "vector_db"), { recursive: true });
  fs.writeFileSync(path.join(dataDir, "uploads", "after the backup.txt"), "new since");
  const old = treeHashes(dataDir);
  expect(old).not.toEqual(restored);
  return { old, restored };
}

/** Where the data and the restore's kept folders live, for the two layouts. */
interface Layout {
  readonly name: string;
  /** Creates the data dir (on a tmpfs mount for "entries"); false when it cannot. */
  prepare(): string;
  /** The data dir's files, without the restore's own folders. */
  tree(): Map<string, string> | "absent";
  /** Copies of the backup kept by a restore (complete or not). */
  copies(): string[];
  /** Previous data kept by a restore. */
  safeties(): string[];
}

const dirLayout: Layout = {
  name: "a plain data directory (renamed whole)",
  prepare: () => sandbox.dataDir,
  tree: () => (fs.existsSync(sandbox.dataDir) ? treeHashes(sandbox.dataDir) : "absent"),
  copies: () => fs.readdirSync(sandbox.root).filter((n) => /^data\.restore-\d{8}T\d{6}Z(-\d+)?$/.test(n)).map((n) => path.join(sandbox.root, n)),
  safeties: () => fs.readdirSync(sandbox.root).filter((n) => /^data\.before-restore-/.test(n)).map((n) => path.join(sandbox.root, n)),
};

const entriesLayout: Layout = {
  name: "a data directory that is a mountpoint (entries renamed one by one)",
  prepare: () => {
    mountTmpfs(sandbox.dataDir, "64m");
    // As at the root of an ext4 mount: the file system's own, which stays where it is.
    fs.mkdirSync(path.join(sandbox.dataDir, "lost+found"));
    return sandbox.dataDir;
  },
  tree: () => treeHashes(sandbox.dataDir, isRestoreFolder),
  copies: () => fs.readdirSync(sandbox.dataDir).filter((n) => /^\.openwebui-restore-\d{8}T\d{6}Z(-\d+)?$/.test(n)).map((n) => path.join(sandbox.dataDir, n)),
  safeties: () => fs.readdirSync(sandbox.dataDir).filter((n) => /^\.openwebui-before-restore-/.test(n)).map((n) => path.join(sandbox.dataDir, n)),
};

type Settled = "old" | "restored";

interface Point {
  readonly point: string;
  /** What the data dir holds once settled (by the trap, or by the next invocation). */
  readonly settled: Settled;
  /** Right after a SIGKILL, before anything settles it. */
  readonly killed: { data: Settled | "absent" | "partial"; containers: "running" | "exited" };
  /** A checked, complete copy of the backup is kept after settling (the swap did not finish). */
  readonly copyKept: boolean;
}

const POINTS: Point[] = [
  { point: "restore-fetch", settled: "old", killed: { data: "old", containers: "running" }, copyKept: false },
  { point: "restore-fetched", settled: "old", killed: { data: "old", containers: "running" }, copyKept: false },
  { point: "restore-suspended", settled: "old", killed: { data: "old", containers: "exited" }, copyKept: true },
  { point: "restore-mid-swap", settled: "old", killed: { data: "partial", containers: "exited" }, copyKept: true },
  { point: "restore-swapped", settled: "restored", killed: { data: "restored", containers: "exited" }, copyKept: false },
];

/** The backup time a kept copy's manifest records. */
const made = (copy: string) => JSON.parse(fs.readFileSync(`${copy}.manifest.json`, "utf8")).created;

/** Before the fetched copy is checked, make it really partial: the hold then stands for "mid-fetch". */
function truncateCopy(layout: Layout): void {
  const [copy] = layout.copies();
  fs.rmSync(path.join(copy, "uploads"), { recursive: true });
}

function expectSettled(layout: Layout, trees: Trees, p: Point, output: string): void {
  expect(layout.tree()).toEqual(p.settled === "old" ? trees.old : trees.restored);
  expect(states()).toEqual(["running", "running"]);
  expect(fs.existsSync(journal())).toBe(false);
  const copies = layout.copies();
  if (p.copyKept) {
    expect(copies).toHaveLength(1);
    expect(treeHashes(copies[0])).toEqual(trees.restored);
    expect(output).toContain(`the restored copy of latest (made ${made(copies[0])}) is in ${copies[0]} (complete, checked before the swap)`);
  } else {
    expect(copies).toEqual([]);
  }
  // No partial leftovers beside it (restic scratch, a manifest without its copy).
  const holder = layout === dirLayout ? sandbox.root : sandbox.dataDir;
  if (layout === entriesLayout) expect(fs.statSync(path.join(sandbox.dataDir, "lost+found")).isDirectory()).toBe(true);
  const sideFiles = fs.readdirSync(holder).filter((n) => /restore-\d{8}T\d{6}Z(-\d+)?\./.test(n));
  expect(sideFiles.sort()).toEqual(copies.flatMap((c) => [`${path.basename(c)}.files.sha256`, `${path.basename(c)}.manifest.json`]).sort());
  if (p.settled === "restored") {
    expect(layout.safeties()).toHaveLength(1);
    const safety = layout.safeties()[0];
    expect(treeHashes(safety)).toEqual(trees.old);
  } else {
    expect(layout.safeties()).toEqual([]);
  }
}

/** After settling, a new restore completes: the restored data in place, the service running. */
async function restoreAgain(layout: Layout, trees: Trees): Promise<void> {
  const again = await sandbox.ok(["restore", "nightly", "--in-place"]);
  expect(again.stderr).toMatch(/restore in place done/);
  expect(layout.tree()).toEqual(trees.restored);
  expect(states()).toEqual(["running", "running"]);
  expect(fs.existsSync(journal())).toBe(false);
  if (layout === entriesLayout) {
    // The previous data kept inside the data directory is not backed up with it.
    expect(layout.safeties().length).toBeGreaterThan(0);
    await sandbox.ok(["run", "nightly"]);
    const root = path.join(nas(), "web1", "nightly");
    const newest = fs.readdirSync(root).sort().pop()!;
    const backedUp = treeHashes(path.join(root, newest, "data"), isDatabaseFile); // databases: a fresh copy each run
    expect([...backedUp.keys()].filter((rel) => rel.startsWith(".openwebui-"))).toEqual([]);
    expect(backedUp).toEqual(new Map([...trees.restored].filter(([rel]) => !isDatabaseFile(rel))));
  }
}

describe.each([
  ["dir", dirLayout, POINTS],
  ["entries", entriesLayout, POINTS.filter((p) => ["restore-suspended", "restore-mid-swap", "restore-swapped"].includes(p.point))],
] as const)("%s layout", (kind, layout, points) => {
  const suite = kind === "entries" ? withTmpfs : describe;
  suite(layout.name, () => {
    let trees: Trees;
    beforeEach(async () => {
      const dataDir = layout.prepare();
      buildDataDir(dataDir);
      install(dataDir);
      trees = await backUpThenChange(dataDir);
    });

    describe.each(points.map((p) => [p.point, p] as const))("interrupted at %s", (_name, p) => {
      it("SIGTERM: the trap settles it at once; the service runs, on complete data", async () => {
        const restore = startHeld(sandbox, ["restore", "nightly", "--in-place"], p.point);
        await restore.held;
        if (p.point === "restore-fetched") truncateCopy(layout);
        restore.kill("SIGTERM");
        const r = await restore.exited;
        expect(r.code).toBe(143);
        expect(r.stderr).toMatch(/the in-place restore was interrupted; settling it/);
        expectSettled(layout, trees, p, r.stderr);
        if (p.point === "restore-fetch" || p.point === "restore-fetched") expect(actions()).toEqual([]); // never stopped
        await restoreAgain(layout, trees);
      });

      it("SIGKILL: complete data or none is running; the next invocation settles it and alerts once", async () => {
        const restore = startHeld(sandbox, ["restore", "nightly", "--in-place"], p.point);
        await restore.held;
        if (p.point === "restore-fetched") truncateCopy(layout);
        restore.kill("SIGKILL");
        expect((await restore.exited).signal).toBe("SIGKILL");

        // Nothing settled it yet: the containers run only where the data is complete.
        const tree = layout.tree();
        if (p.killed.data === "old") expect(tree).toEqual(trees.old);
        if (p.killed.data === "restored") expect(tree).toEqual(trees.restored);
        if (p.killed.data === "partial") {
          expect(tree).not.toEqual(trees.old);
          expect(tree).not.toEqual(trees.restored);
        }
        expect(states()).toEqual([p.killed.containers, p.killed.containers]);
        expect(fs.existsSync(journal())).toBe(true);

        // The next invocation, whatever it is, settles it first.
        const next = await sandbox.ok(p.point === "restore-swapped" ? ["recover"] : ["list", "nightly"]);
        expect(next.stderr).toMatch(/an in-place restore of latest( \(made [0-9TZ:-]+\))? from nas was interrupted \(phase [a-z-]+\); settling it/);
        expectSettled(layout, trees, p, next.stderr);
        expect(interruptedAlerts()).toHaveLength(1);
        expect(interruptedAlerts()[0].message).toMatch(p.settled === "old" ? /rolled back: the previous data is in place/ : /completed: the restored data is in place/);
        await sandbox.ok(["list", "nightly"]);
        expect(interruptedAlerts()).toHaveLength(1);
        await restoreAgain(layout, trees);
      });
    });

    it("a failed check after the swap rolls back: the previous data in place, the service running on it", async () => {
      const restore = startHeld(sandbox, ["restore", "nightly", "--in-place"], "restore-swapped");
      await restore.held;
      // The swapped-in database is damaged before the post-swap check reads it.
      const db = path.join(sandbox.dataDir, "webui.db");
      const fd = fs.openSync(db, "r+");
      fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 8192);
      fs.closeSync(fd);
      restore.release();
      const r = await restore.exited;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/integrity_check failed after the swap; putting the previous data back/);
      expect(layout.tree()).toEqual(trees.old);
      expect(states()).toEqual(["running", "running"]);
      expect(fs.existsSync(journal())).toBe(false);
      expect(layout.safeties()).toEqual([]);
      const [copy] = layout.copies();
      expect(r.stderr).toContain(`the restored copy of latest (made ${made(copy)}) is in ${copy} (it failed the check after the swap; kept for inspection)`);
      expect(actions()).toEqual(["stop open-webui", "stop ollama", "start open-webui", "start ollama"]);
    });
  });
});

describe("an interrupted swap that cannot be undone as it was left", () => {
  it("keeps the containers stopped, says where both complete copies are, blocks runs, and finishes once the way is clear", async () => {
    buildDataDir(sandbox.dataDir);
    install(sandbox.dataDir);
    const trees = await backUpThenChange(sandbox.dataDir);
    const restore = startHeld(sandbox, ["restore", "nightly", "--in-place"], "restore-mid-swap");
    await restore.held;
    restore.kill("SIGKILL");
    await restore.exited;
    // Meanwhile something created a fresh data directory where the data was (as `docker run -v`
    // does for a missing bind source, before Open WebUI fills it with a new, empty database).
    fs.mkdirSync(sandbox.dataDir);
    fs.writeFileSync(path.join(sandbox.dataDir, "webui.db"), "a fresh database");
    const [safety] = dirLayout.safeties();
    const [copy] = dirLayout.copies();

    const list = await sandbox.run(["list", "nightly"]);
    expect(list.stderr).toContain(`could not settle the interrupted in-place restore (phase swap-out). The containers stay stopped so that Open WebUI cannot start on incomplete data: the previous data is in ${safety}; the restored copy of latest (made ${made(copy)}) (complete) is in ${copy}`);
    expect(states()).toEqual(["exited", "exited"]);
    expect(treeHashes(safety)).toEqual(trees.old);
    expect(treeHashes(copy)).toEqual(trees.restored);
    expect(fs.readFileSync(path.join(sandbox.dataDir, "webui.db"), "utf8")).toBe("a fresh database");
    expect(interruptedAlerts()).toHaveLength(1);
    expect(interruptedAlerts()[0].message).toMatch(/could not be settled: the containers stay stopped/);

    // No backup of that directory, and no second alert about the restore.
    const run = await sandbox.run(["run", "nightly"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/an interrupted in-place restore has not been settled/);
    expect(interruptedAlerts()).toHaveLength(1);
    expect(states()).toEqual(["exited", "exited"]);

    // The operator moves the stray directory away; recover finishes the rollback.
    fs.renameSync(sandbox.dataDir, `${sandbox.dataDir}.stray`);
    await sandbox.ok(["recover"]);
    expect(dirLayout.tree()).toEqual(trees.old);
    expect(states()).toEqual(["running", "running"]);
    expect(fs.existsSync(journal())).toBe(false);
    expect(interruptedAlerts()).toHaveLength(1);
  });
});

withTmpfs("a full disk (tmpfs as the data's file system)", () => {
  const fsDir = () => path.join(sandbox.root, "fs");
  const dataDir = () => path.join(fsDir(), "data");
  const avail = () => Number(execFileSync("df", ["-B1", "--output=avail", fsDir()], { encoding: "utf8" }).trim().split("\n")[1]);
  const copies = () => fs.readdirSync(fsDir()).filter((n) => n !== "data");

  it("refuses before touching anything when the copy cannot fit beside the live data", async () => {
    mountTmpfs(fsDir(), "12m");
    buildDataDir(dataDir(), { bigUploadBytes: 7_000_000 });
    install(dataDir());
    const trees = await backUpThenChange(dataDir());
    const free = avail();
    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not enough free space beside .*\/fs\/data for the restored copy: it needs about \d+ MiB on that file system, \d+ MiB are free\. Nothing was changed\./);
    expect(treeHashes(dataDir())).toEqual(trees.old);
    expect(copies()).toEqual([]);
    expect(avail()).toBe(free);
    expect(actions()).toEqual([]);
    expect(states()).toEqual(["running", "running"]);
    expect(fs.existsSync(journal())).toBe(false);
  });

  it("the same restore goes through where it fits (the check is not vacuous)", async () => {
    mountTmpfs(fsDir(), "64m");
    buildDataDir(dataDir(), { bigUploadBytes: 7_000_000 });
    install(dataDir());
    const trees = await backUpThenChange(dataDir());
    const r = await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(r.stderr).toMatch(/free space beside the data: \d+ MiB; the copy needs about \d+ MiB/);
    expect(treeHashes(dataDir())).toEqual(trees.restored);
    const safety = copies().filter((n) => n.startsWith("data.before-restore-"));
    expect(safety).toHaveLength(1);
    expect(treeHashes(path.join(fsDir(), safety[0]))).toEqual(trees.old);
    expect(states()).toEqual(["running", "running"]);
  });

  it("the disk filling up during the fetch: the partial copy is removed, the live data and the service untouched", async () => {
    mountTmpfs(fsDir(), "40m");
    buildDataDir(dataDir(), { bigUploadBytes: 7_000_000 });
    install(dataDir());
    const trees = await backUpThenChange(dataDir());
    const restore = startHeld(sandbox, ["restore", "nightly", "--in-place"], "restore-fetch");
    await restore.held;
    // Someone else fills the file system after the free-space check passed.
    const filler = path.join(fsDir(), "filler");
    const fd = fs.openSync(filler, "w");
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(1 << 20, 1));
    } catch (e: any) {
      expect(e.code).toBe("ENOSPC");
    } finally {
      fs.closeSync(fd);
    }
    restore.release();
    const r = await restore.exited;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the restore stopped while fetching; the live data was not touched and the partial copy was removed/);
    expect(treeHashes(dataDir())).toEqual(trees.old);
    expect(copies()).toEqual(["filler"]);
    expect(actions()).toEqual([]);
    expect(states()).toEqual(["running", "running"]);
    expect(fs.existsSync(journal())).toBe(false);

    fs.rmSync(filler);
    await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(treeHashes(dataDir())).toEqual(trees.restored);
  });
});

describe("a run and a restore at the same time", () => {
  let trees: Trees;
  beforeEach(async () => {
    buildDataDir(sandbox.dataDir);
    install(sandbox.dataDir);
    trees = await backUpThenChange(sandbox.dataDir);
  });

  it("a restore refuses while a run has the containers paused for its copy; the run finishes and resumes them", async () => {
    const run = startHeld(sandbox, ["run", "weekly"], "run-suspended");
    await run.held;
    expect(states()).toEqual(["paused", "paused"]);
    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/a backup run is copying the data directory right now .*Nothing was changed\./);
    expect(dirLayout.tree()).toEqual(trees.old);
    expect(dirLayout.copies()).toEqual([]);
    expect(fs.existsSync(journal())).toBe(false);
    run.release();
    expect((await run.exited).code).toBe(0);
    expect(states()).toEqual(["running", "running"]);
    expect(actions()).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
  });

  it("a run refuses (and alerts) while a restore has the containers stopped; the restore finishes", async () => {
    const restore = startHeld(sandbox, ["restore", "nightly", "--in-place"], "restore-suspended");
    await restore.held;
    for (const job of ["weekly", "hourly"]) {
      // weekly would pause the containers, hourly copies online: neither may read the data now.
      const r = await sandbox.run(["run", job]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/an in-place restore is replacing the data directory right now; this run copies nothing/);
    }
    expect(hook.jsonBodies().filter((b) => b.outcome === "failure" && /staging/.test(b.message)).map((b) => b.job)).toEqual(["weekly", "hourly"]);
    expect(actions()).toEqual(["stop open-webui", "stop ollama"]); // nobody paused or started anything meanwhile
    restore.release();
    expect((await restore.exited).code).toBe(0);
    expect(dirLayout.tree()).toEqual(trees.restored);
    expect(states()).toEqual(["running", "running"]);
    // And the runs work again afterwards.
    await sandbox.ok(["run", "weekly"]);
  });
});

describe("a host with no container to stop", () => {
  it.each([
    ["lists no containers", [] as string[], /this host lists no containers \(hosts\[\]\.containers\)/],
    ["lists containers that do not exist here", CONTAINERS, /none of its containers \(open-webui ollama\) exists here/],
  ])("%s: restore --in-place refuses unless --force", async (_title, containers, message) => {
    buildDataDir(sandbox.dataDir);
    install(sandbox.dataDir, containers);
    const trees = await backUpThenChange(sandbox.dataDir);
    for (const c of CONTAINERS) sandbox.setContainerState(c, "absent");
    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/add --force\. Nothing was changed\./);
    expect(dirLayout.tree()).toEqual(trees.old);
    expect(dirLayout.copies()).toEqual([]);

    const forced = await sandbox.ok(["restore", "nightly", "--in-place", "--force"]);
    expect(forced.stderr).toMatch(/warning: --force: no container to stop/);
    expect(dirLayout.tree()).toEqual(trees.restored);
    expect(actions()).toEqual([]);
  });
});

describe("data in a Docker volume", () => {
  const mountpoint = () => path.join(sandbox.root, "volumes", "open-webui", "_data");
  const installVolume = () =>
    sandbox.install({
      targets: { nas: { type: "local", path: nas() } },
      hosts: [{ name: "web1", data: { volume: "open-webui" }, containers: CONTAINERS, jobs: [{ name: "nightly", method: "local-snapshot", targets: ["nas"], retention: { keep: 3 } }] }],
    });

  it("swaps a plain local volume's _data by renames, keeping the previous data beside it", async () => {
    buildDataDir(mountpoint());
    sandbox.setVolume("open-webui", mountpoint());
    installVolume();
    const trees = await backUpThenChange(mountpoint());
    await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(treeHashes(mountpoint())).toEqual(trees.restored);
    const beside = fs.readdirSync(path.dirname(mountpoint())).filter((n) => n !== "_data");
    expect(beside).toEqual([expect.stringMatching(/^_data\.before-restore-\d{8}T\d{6}Z(-\d+)?$/)]);
    expect(treeHashes(path.join(path.dirname(mountpoint()), beside[0]))).toEqual(trees.old);
    expect(states()).toEqual(["running", "running"]);
  });

  it("refuses a volume whose storage Docker mounts from elsewhere (driver options)", async () => {
    buildDataDir(mountpoint());
    sandbox.setVolume("open-webui", mountpoint());
    sandbox.setVolumeDriver("open-webui", "local device o type");
    installVolume();
    const trees = await backUpThenChange(mountpoint());
    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Docker volume open-webui is not a plain local volume \(driver and options: local device o type\); restore --to a directory/);
    expect(treeHashes(mountpoint())).toEqual(trees.old);
    expect(actions()).toEqual([]);
  });
});
