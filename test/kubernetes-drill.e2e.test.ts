/**
 * The restore drill's scripts, run for real outside a cluster: restic restores a k8up-shaped
 * snapshot from the local S3 server with the drill's own script, rclone lists uploads there, and
 * the drill's bash checks a real PostgreSQL through psql. Only `kubectl` is a stand-in: it records
 * what the drill asks of the cluster (create the throwaway cluster, wait, delete) and runs
 * `kubectl exec … -- psql …` against the local PostgreSQL.
 *
 * Asserted: the throwaway cluster is created owned by the Job and recovering to the file
 * snapshot's time, and is deleted on success, on every failure and on SIGTERM; a file row without
 * its object, a database without users, a cluster that never gets Ready, or a delete that fails
 * each fail the drill (a failed Job is the alert), naming what is wrong.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DRILL_SCRIPT, DRILL_TABLES, LIST_UPLOADS_SCRIPT, OPENWEBUI_DATA_DIR, RESTORE_FILES_SCRIPT } from "../scripts/render/kubernetes/drill";
import { S3TestServer, s3ClientEnv, startS3Server } from "./support/s3-server";
import { waitFor } from "./support/wait";

const BUCKET = "owb-backups";
const DRILL_CLUSTER = "openwebui-db-drill";
const JOB = { name: "openwebui-restore-drill-29100000", uid: "0b6f7c1e-1111-4222-8333-944445555666" };

/** A stand-in kubectl: records each call; `exec … -- psql …` runs the real psql against the test server. */
const FAKE_KUBECTL = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >>"$FAKE_DIR/calls.log"
case $1 in
  create)
    cat >"$FAKE_DIR/created.json"
    ;;
  delete)
    echo x >>"$FAKE_DIR/deletes"
    [[ ! -e $FAKE_DIR/fail-delete ]]
    # fail-final-delete: the leftover delete at the start works, the one at the end does not.
    [[ ! -e $FAKE_DIR/fail-final-delete || $(wc -l <"$FAKE_DIR/deletes") -lt 2 ]]
    ;;
  wait)
    touch "$FAKE_DIR/waiting"
    if [[ -e $FAKE_DIR/block-wait ]]; then exec sleep 300; fi
    [[ ! -e $FAKE_DIR/fail-wait ]]
    ;;
  exec)
    [[ $2 == "${DRILL_CLUSTER}-1" ]] || { echo "exec into unexpected pod $2" >&2; exit 1; }
    while [[ $1 != -- ]]; do shift; done
    shift
    [[ $1 == psql ]] || { echo "unexpected command $1" >&2; exit 1; }
    shift
    exec psql -h "$PG_SOCKET_DIR" -U postgres "$@"
    ;;
  *)
    echo "unexpected kubectl call: $*" >&2
    exit 1
    ;;
esac
`;

interface Run {
  status: number | null;
  stderr: string;
  stdout: string;
}

let root: string;
let s3: S3TestServer;
let pgDir: string;
let socketDir: string;
let snapshotTime: string;
const resticEnv = () => ({
  ...s3ClientEnv(),
  RESTIC_REPOSITORY: `s3:${s3.endpoint}/${BUCKET}/prod/files`,
  RESTIC_PASSWORD: "drill-test-password",
  AWS_ACCESS_KEY_ID: s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  RESTIC_CACHE_DIR: path.join(root, "restic-cache"),
});
/** Where the test's "k8up" mounted the volume; in a pod this is /data/openwebui-files. */
const volumePath = () => path.join(root, "data", "openwebui-files");

function psql(sql: string): string {
  return execFileSync("psql", ["-h", socketDir, "-U", "postgres", "-d", "app", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], { encoding: "utf8" });
}

/** Open WebUI-shaped tables, with `files` as (id, path) rows. */
function seedDatabase(users: number, files: [string, string | null][]) {
  psql(`TRUNCATE "user", chat, file, knowledge`);
  for (let i = 0; i < users; i++) psql(`INSERT INTO "user" (id, email) VALUES ('u${i}', 'u${i}@example.org')`);
  psql(`INSERT INTO chat (id, user_id) VALUES ('c1', 'u0')`);
  for (const [id, p] of files) psql(`INSERT INTO file (id, filename, path) VALUES ('${id}', 'f', ${p === null ? "NULL" : `'${p.replace(/'/g, "''")}'`})`);
}

/** A fresh pod: empty work and scratch dirs, the drill's files, a clean stand-in kubectl. */
function freshPod(name: string) {
  const pod = path.join(root, "pods", name);
  for (const d of ["work", "scratch", "drill", "fake"]) fs.mkdirSync(path.join(pod, d), { recursive: true });
  fs.writeFileSync(path.join(pod, "drill", "drill.sh"), DRILL_SCRIPT);
  fs.writeFileSync(path.join(pod, "drill", "cluster.json"), JSON.stringify({ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: DRILL_CLUSTER }, spec: { instances: 1, bootstrap: { recovery: { source: "origin" } } } }));
  return {
    dir: pod,
    env: { WORK_DIR: path.join(pod, "work"), SCRATCH_DIR: path.join(pod, "scratch"), DRILL_DIR: path.join(pod, "drill"), FAKE_DIR: path.join(pod, "fake") },
    calls: () => (fs.existsSync(path.join(pod, "fake", "calls.log")) ? fs.readFileSync(path.join(pod, "fake", "calls.log"), "utf8").trim().split("\n") : []),
    created: () => JSON.parse(fs.readFileSync(path.join(pod, "fake", "created.json"), "utf8")),
  };
}
type Pod = ReturnType<typeof freshPod>;

function drillEnv(pod: Pod, provider: "pvc" | "s3"): NodeJS.ProcessEnv {
  return {
    PATH: `${path.join(root, "bin")}:${process.env.PATH}`,
    HOME: root,
    ...pod.env,
    PG_SOCKET_DIR: socketDir,
    JOB_NAME: JOB.name,
    JOB_UID: JOB.uid,
    DRILL_CLUSTER,
    DATABASE: "app",
    TABLES: DRILL_TABLES.join(" "),
    READY_TIMEOUT: "2h",
    FILES_PROVIDER: provider,
    OPENWEBUI_DATA_DIR,
    RESTORED_DATA: `${pod.env.SCRATCH_DIR}${volumePath()}`,
    BUCKET,
    UPLOADS_PREFIX: "prod/uploads",
  };
}

function restoreFiles(pod: Pod): Run {
  const r = spawnSync("sh", ["-c", RESTORE_FILES_SCRIPT], { env: { ...resticEnv(), ...pod.env, SNAPSHOT_PATH: volumePath() }, encoding: "utf8" });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function runDrill(pod: Pod, provider: "pvc" | "s3"): Run {
  const r = spawnSync("bash", [path.join(pod.env.DRILL_DIR, "drill.sh")], { env: drillEnv(pod, provider), encoding: "utf8" });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "owb-k8s-drill-"));
  fs.mkdirSync(path.join(root, "bin"));
  fs.writeFileSync(path.join(root, "bin", "kubectl"), FAKE_KUBECTL, { mode: 0o755 });

  // A real PostgreSQL, run as nobody (postgres refuses root), reached over a socket in the test dir.
  pgDir = path.join(root, "pg");
  socketDir = path.join(root, "pgsock");
  fs.mkdirSync(pgDir);
  fs.mkdirSync(socketDir);
  fs.chownSync(pgDir, 65534, 65534);
  fs.chownSync(socketDir, 65534, 65534);
  fs.chmodSync(root, 0o755);
  execFileSync("runuser", ["-u", "nobody", "--", "initdb", "-D", pgDir, "-U", "postgres", "--auth=trust", "-E", "UTF8"], { stdio: "ignore" });
  execFileSync("runuser", ["-u", "nobody", "--", "pg_ctl", "-D", pgDir, "-l", path.join(socketDir, "log"), "-w", "-t", "60", "-o", `-k ${socketDir} -c listen_addresses=''`, "start"], { stdio: "ignore" });
  execFileSync("psql", ["-h", socketDir, "-U", "postgres", "-X", "-q", "-c", "CREATE DATABASE app"]);
  psql(`CREATE TABLE "user" (id text PRIMARY KEY, email text); CREATE TABLE chat (id text PRIMARY KEY, user_id text); CREATE TABLE file (id text PRIMARY KEY, filename text, path text); CREATE TABLE knowledge (id text PRIMARY KEY)`);

  // The file volume as k8up backs it up: one folder per volume, uploads inside; names with spaces and quotes.
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  fs.mkdirSync(path.join(volumePath(), "uploads"), { recursive: true });
  fs.writeFileSync(path.join(volumePath(), "uploads", "f1_report.pdf"), "pdf bytes");
  fs.writeFileSync(path.join(volumePath(), "uploads", "f2_a b's notes.txt"), "notes");
  fs.writeFileSync(path.join(volumePath(), "webui.db"), "not used with postgres");
  execFileSync("restic", ["init"], { env: resticEnv(), stdio: "ignore" });
  execFileSync("restic", ["backup", "--host", "openwebui", volumePath()], { env: resticEnv(), stdio: "ignore" });
  const snaps = JSON.parse(execFileSync("restic", ["snapshots", "--json"], { env: resticEnv(), encoding: "utf8" })) as { time: string }[];
  snapshotTime = snaps[0].time;
}, 120_000);

afterAll(async () => {
  spawnSync("runuser", ["-u", "nobody", "--", "pg_ctl", "-D", pgDir, "-m", "immediate", "stop"], { stdio: "ignore" });
  await s3?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const upload = (name: string) => `${OPENWEBUI_DATA_DIR}/uploads/${name}`;

describe("restore drill, files on a volume", () => {
  it("restores the latest snapshot with restic and passes when every file row has its file; the throwaway cluster is created owned by the Job, at the snapshot's time, and deleted", () => {
    const pod = freshPod("ok");
    expect(restoreFiles(pod)).toMatchObject({ status: 0 });
    expect(fs.readFileSync(path.join(pod.env.SCRATCH_DIR, volumePath(), "uploads", "f2_a b's notes.txt"), "utf8")).toBe("notes");
    seedDatabase(2, [
      ["f1", upload("f1_report.pdf")],
      ["f2", upload("f2_a b's notes.txt")],
      ["f3", null],
    ]);
    const run = runDrill(pod, "pvc");
    expect(run.stderr).toContain("restore drill ok: 2 users, 1 chats, 3 files, 0 knowledge bases");
    expect(run.stderr).toContain("files ok: all 2 stored objects are present");
    expect(run.status).toBe(0);
    const created = pod.created();
    expect(created.metadata.ownerReferences).toEqual([{ apiVersion: "batch/v1", kind: "Job", name: JOB.name, uid: JOB.uid }]);
    const expected = snapshotTime.replace(/\.\d+/, "");
    expect(created.spec.bootstrap.recovery.recoveryTarget).toEqual({ targetTime: expected });
    expect(expected).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    const verbs = pod.calls().map((c) => c.split(" ")[0]);
    expect(verbs[0]).toBe("delete"); // a leftover of an interrupted run goes first
    expect(verbs.slice(1, 3)).toEqual(["create", "wait"]);
    expect(verbs[verbs.length - 1]).toBe("delete");
    expect(pod.calls()[verbs.length - 1]).toContain(`clusters.postgresql.cnpg.io/${DRILL_CLUSTER}`);
  });

  it("fails, naming the file, when a file row has no file in the snapshot; the throwaway cluster is still deleted", () => {
    const pod = freshPod("missing");
    expect(restoreFiles(pod).status).toBe(0);
    seedDatabase(1, [
      ["f1", upload("f1_report.pdf")],
      ["f9", upload("f9_uploaded after the backup.png")],
      ["f8", "/somewhere/else/f8"],
    ]);
    const run = runDrill(pod, "pvc");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`missing: file f9 at ${upload("f9_uploaded after the backup.png")}`);
    expect(run.stderr).toContain("missing: file f8 at /somewhere/else/f8");
    expect(run.stderr).toContain("restore drill FAILED: 2 of 3 files have no stored object");
    expect(pod.calls().at(-1)).toMatch(/^delete /);
    expect(run.stderr).toContain(`deleted cluster/${DRILL_CLUSTER}`);
  });

  it("fails when the recovered database has no users", () => {
    const pod = freshPod("no-users");
    expect(restoreFiles(pod).status).toBe(0);
    seedDatabase(0, []);
    const run = runDrill(pod, "pvc");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("restore drill FAILED: the recovered database has no users");
    expect(pod.calls().at(-1)).toMatch(/^delete /);
  });

  it("fails when a table is missing from the recovered database", () => {
    const pod = freshPod("no-table");
    expect(restoreFiles(pod).status).toBe(0);
    seedDatabase(1, []);
    psql("ALTER TABLE knowledge RENAME TO knowledge_gone");
    try {
      const run = runDrill(pod, "pvc");
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("restore drill FAILED: cannot count the rows of table knowledge in the recovered database");
      expect(pod.calls().at(-1)).toMatch(/^delete /);
    } finally {
      psql("ALTER TABLE knowledge_gone RENAME TO knowledge");
    }
  });

  it("fails when the throwaway cluster never gets Ready, and deletes it", () => {
    const pod = freshPod("not-ready");
    expect(restoreFiles(pod).status).toBe(0);
    fs.writeFileSync(path.join(pod.env.FAKE_DIR, "fail-wait"), "");
    const run = runDrill(pod, "pvc");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`restore drill FAILED: cluster/${DRILL_CLUSTER} did not become Ready within 2h`);
    expect(pod.calls().map((c) => c.split(" ")[0])).toEqual(["delete", "create", "wait", "delete"]);
  });

  it("fails when the throwaway cluster cannot be deleted, though every check passed", () => {
    const pod = freshPod("stuck");
    expect(restoreFiles(pod).status).toBe(0);
    seedDatabase(1, [["f1", upload("f1_report.pdf")]]);
    fs.writeFileSync(path.join(pod.env.FAKE_DIR, "fail-final-delete"), "");
    const run = runDrill(pod, "pvc");
    expect(run.stderr).toContain("restore drill ok: 1 users");
    expect(run.stderr).toContain(`could not delete cluster/${DRILL_CLUSTER}; it is owned by job/${JOB.name}`);
    expect(run.status).toBe(1);
  });

  it("stops before creating anything when a leftover throwaway cluster cannot be deleted", () => {
    const pod = freshPod("stuck-leftover");
    expect(restoreFiles(pod).status).toBe(0);
    fs.writeFileSync(path.join(pod.env.FAKE_DIR, "fail-delete"), "");
    const run = runDrill(pod, "pvc");
    expect(run.status).toBe(1);
    expect(pod.calls().map((c) => c.split(" ")[0])).toEqual(["delete", "delete"]);
  });

  it("on SIGTERM while waiting for the cluster (the Job's deadline), stops at once and deletes it", async () => {
    const pod = freshPod("terminated");
    expect(restoreFiles(pod).status).toBe(0);
    fs.writeFileSync(path.join(pod.env.FAKE_DIR, "block-wait"), "");
    const child: ChildProcess = spawn("bash", [path.join(pod.env.DRILL_DIR, "drill.sh")], { env: drillEnv(pod, "pvc"), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor("the drill to wait for its cluster", () => fs.existsSync(path.join(pod.env.FAKE_DIR, "waiting")), 30_000);
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stderr).toContain("restore drill FAILED: terminated");
    expect(pod.calls().at(-1)).toMatch(/^delete /);
    // The blocked `kubectl wait` was killed with it, not left behind.
    const leftovers = spawnSync("pgrep", ["-f", "sleep 300"], { encoding: "utf8" }).stdout.trim();
    for (const pid of leftovers.split("\n").filter(Boolean)) {
      const env = fs.existsSync(`/proc/${pid}/environ`) ? fs.readFileSync(`/proc/${pid}/environ`, "utf8") : "";
      expect(env.includes(pod.env.FAKE_DIR)).toBe(false);
    }
  });

  it("the restore step fails when the repository holds no snapshot of the volume", () => {
    const pod = freshPod("no-snapshot");
    const r = spawnSync("sh", ["-c", RESTORE_FILES_SCRIPT], { env: { ...resticEnv(), ...pod.env, SNAPSHOT_PATH: "/data/some-other-volume" }, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no snapshot of /data/some-other-volume in the repository");
    expect(fs.readdirSync(pod.env.SCRATCH_DIR)).toEqual([]);
  });
});

describe("restore drill, files in S3", () => {
  const uploadKey = (name: string) => `prod/uploads/${name}`;
  beforeAll(() => {
    const src = path.join(root, "s3-src");
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, "u1_photo.jpg"), "jpg");
    fs.writeFileSync(path.join(src, "u2_two words.txt"), "txt");
    execFileSync("rclone", ["copy", src, `:s3:${BUCKET}/prod/uploads`], {
      env: { ...s3ClientEnv(), RCLONE_S3_PROVIDER: "Other", RCLONE_S3_ENDPOINT: s3.endpoint, RCLONE_S3_ACCESS_KEY_ID: s3.accessKeyId, RCLONE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey },
      stdio: "ignore",
    });
  });

  /** The list step as the pod runs it: rclone, env auth with the reader key, the planned variables. */
  function listUploads(pod: Pod): Run {
    const r = spawnSync("sh", ["-c", LIST_UPLOADS_SCRIPT], {
      env: {
        ...s3ClientEnv(),
        ...pod.env,
        BUCKET,
        UPLOADS_PREFIX: "prod/uploads",
        RCLONE_S3_PROVIDER: "Other",
        RCLONE_S3_ENV_AUTH: "true",
        RCLONE_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
      encoding: "utf8",
    });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  }

  it("passes when every file row's object is in the bucket, recovering to the end of the WAL", () => {
    const pod = freshPod("s3-ok");
    expect(listUploads(pod)).toMatchObject({ status: 0 });
    expect(fs.readFileSync(path.join(pod.env.WORK_DIR, "objects.txt"), "utf8").split("\n").filter(Boolean).sort()).toEqual(["u1_photo.jpg", "u2_two words.txt"]);
    seedDatabase(1, [
      ["u1", `s3://${BUCKET}/${uploadKey("u1_photo.jpg")}`],
      ["u2", `s3://${BUCKET}/${uploadKey("u2_two words.txt")}`],
    ]);
    const run = runDrill(pod, "s3");
    expect(run.stderr).toContain("files ok: all 2 stored objects are present");
    expect(run.status).toBe(0);
    expect(pod.created().spec.bootstrap.recovery.recoveryTarget).toBeUndefined();
  });

  it("fails naming a file row whose object is not in the bucket, or is in another bucket", () => {
    const pod = freshPod("s3-missing");
    expect(listUploads(pod).status).toBe(0);
    seedDatabase(1, [
      ["u1", `s3://${BUCKET}/${uploadKey("u1_photo.jpg")}`],
      ["u3", `s3://${BUCKET}/${uploadKey("u3_gone.pdf")}`],
      ["u4", `s3://another-bucket/${uploadKey("u1_photo.jpg")}`],
    ]);
    const run = runDrill(pod, "s3");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`missing: file u3 at s3://${BUCKET}/${uploadKey("u3_gone.pdf")}`);
    expect(run.stderr).toContain("missing: file u4 at s3://another-bucket/");
    expect(run.stderr).toContain("2 of 3 files have no stored object");
    expect(pod.calls().at(-1)).toMatch(/^delete /);
  });
});
