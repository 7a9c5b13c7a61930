/**
 * The migration step's two scripts, run for real with stand-ins for what only a cluster has:
 * `kubectl` (a recorded Deployment and its pods) and Open WebUI's `start.sh` (a real HTTP server
 * that answers /health, or a start that fails). Asserted: the old version is scaled to 0 and its
 * pods are gone before the step ends; a first install has nothing to stop; the new version is
 * started once and stopped after /health answers; a failed start fails the step (so Pulumi never
 * rolls the chart out).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { MIGRATE_SCRIPT, OPENWEBUI_POD_SELECTOR, STOP_SCRIPT } from "../scripts/render/kubernetes/openwebui";

const FAKE_KUBECTL = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >>"$FAKE_DIR/calls.log"
case "$1 $2" in
  "get deployment")
    if [[ -e $FAKE_DIR/deployment ]]; then echo "deployment.apps/$3"; fi
    ;;
  "scale deployment")
    # The pods go away a little after the scale, as they do in a cluster.
    (sleep 1; rm -f "$FAKE_DIR/pods") &
    ;;
  "get pods")
    [[ $4 == "$EXPECTED_SELECTOR" ]] || { echo "unexpected selector $4" >&2; exit 1; }
    if [[ -e $FAKE_DIR/pods ]]; then echo "pod/open-webui-7d9f-abcde"; fi
    ;;
  *)
    echo "unexpected kubectl call: $*" >&2
    exit 1
    ;;
esac
`;

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "owb-k8s-migrate-"));
  fs.mkdirSync(path.join(root, "bin"));
  fs.writeFileSync(path.join(root, "bin", "kubectl"), FAKE_KUBECTL, { mode: 0o755 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function fakeDir(name: string, state: { deployment?: boolean; pods?: boolean }) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  if (state.deployment) fs.writeFileSync(path.join(dir, "deployment"), "");
  if (state.pods) fs.writeFileSync(path.join(dir, "pods"), "");
  return dir;
}

const stop = (dir: string) =>
  spawnSync("bash", ["-c", STOP_SCRIPT], {
    env: { PATH: `${path.join(root, "bin")}:${process.env.PATH}`, FAKE_DIR: dir, DEPLOYMENT: "open-webui", POD_SELECTOR: OPENWEBUI_POD_SELECTOR, EXPECTED_SELECTOR: OPENWEBUI_POD_SELECTOR },
    encoding: "utf8",
  });

describe("stop-open-webui", () => {
  it("scales the running version to 0 and returns only once its pods are gone", () => {
    const dir = fakeDir("running", { deployment: true, pods: true });
    const r = stop(dir);
    expect(r.stdout).toContain("deployment/open-webui stopped");
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(dir, "pods"))).toBe(false);
    const calls = fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n");
    expect(calls[0]).toBe("get deployment open-webui --ignore-not-found -o name");
    expect(calls[1]).toBe("scale deployment open-webui --replicas=0");
    expect(calls.slice(2).every((c) => c === `get pods -l ${OPENWEBUI_POD_SELECTOR} -o name`)).toBe(true);
  });

  it("a first install has nothing to stop", () => {
    const dir = fakeDir("first", {});
    const r = stop(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("first install");
    expect(fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n")).toHaveLength(1);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs the migrate script in `dir` (where start.sh is) and resolves with its exit code and output. */
function migrate(dir: string, port: number): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", MIGRATE_SCRIPT], { cwd: dir, env: { PATH: process.env.PATH, PORT: String(port), IMAGE_TAG: "0.11.0", NODE: process.execPath } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (status) => resolve({ status, out }));
  });
}

describe("migrate", () => {
  it("starts the new version once, and stops it after /health answers", async () => {
    const dir = fs.mkdtempSync(path.join(root, "ok-"));
    // Stand-in for Open WebUI's start.sh: a real server; it records that it ran and that it was stopped.
    fs.writeFileSync(
      path.join(dir, "start.sh"),
      `echo started >>runs\n"$NODE" -e 'require("http").createServer((q, s) => s.end("ok")).listen(Number(process.env.PORT), "127.0.0.1")' &\nsrv=$!\necho "$srv" >server.pid\ntrap 'kill "$srv"; wait "$srv"; echo stopped >>runs; exit 0' TERM\nwait "$srv"\n`,
    );
    const r = await migrate(dir, await freePort());
    expect(r.out).toContain("migrated: Open WebUI 0.11.0 started with migrations on and answered /health");
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, "runs"), "utf8").trim().split("\n")).toEqual(["started", "stopped"]);
    // Nothing left running: the server it started is gone.
    const pid = Number(fs.readFileSync(path.join(dir, "server.pid"), "utf8"));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it("fails when the new version exits before it is healthy (a failed migration)", async () => {
    const dir = fs.mkdtempSync(path.join(root, "fail-"));
    fs.writeFileSync(path.join(dir, "start.sh"), 'echo "alembic: migration failed" >&2\nexit 3\n');
    const r = await migrate(dir, await freePort());
    expect(r.status).toBe(1);
    expect(r.out).toContain("alembic: migration failed");
    expect(r.out).toContain("Open WebUI exited before it answered /health: the migration failed");
  });
});
