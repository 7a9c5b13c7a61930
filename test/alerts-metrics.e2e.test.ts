/**
 * Alerts, metrics and the manifest, end to end: a local HTTP listener receives the webhook and
 * the health-check pings (also when the target is down and for the restore drill); the
 * Prometheus textfile parses with a real parser and matches the run; the manifest carries the
 * schema revision, Chroma's migrations and the image, and restore warns on another version.
 */
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheus: (text: string) => { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] }[] = require("parse-prometheus-text-format");
import { parseStackConfig } from "../config";
import { plainTargets } from "../scripts/render/plain-targets";
import { NOTIFY_FAILURE_PATH, renderSystemdFiles } from "../scripts/render/systemd";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { waitFor } from "./support/wait";
import { WebhookListener, webhookListener } from "./support/webhook-listener";

jest.setTimeout(120_000);

let sandbox: HostSandbox;
let hook: WebhookListener;
beforeEach(async () => {
  sandbox = new HostSandbox("owb-alerts-");
  buildDataDir(sandbox.dataDir, {});
  hook = await webhookListener();
});
afterEach(async () => {
  await hook.close();
  sandbox.cleanup();
});

/** A port nothing listens on: an S3 target that is down. */
async function deadEndpoint(): Promise<string> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

const metricsFile = () => path.join(sandbox.root, "textfile", "openwebui_backup.prom");

function config(targets: Record<string, unknown>, jobTargets: string[], notify: Record<string, unknown> = {}, job: Record<string, unknown> = {}) {
  return {
    targets,
    hosts: [
      {
        name: "web1",
        data: { dir: sandbox.dataDir },
        paths: { metricsFile: metricsFile() },
        jobs: [{ name: "nightly", method: "local-snapshot", targets: jobTargets, retention: { keep: 3 }, ...job }],
      },
    ],
    notify: { webhookUrl: hook.url, healthcheckUrl: `${hook.url}/hc`, ...notify },
  };
}

const nas = () => ({ type: "local", path: path.join(sandbox.root, "nas") });
const paths = () => hook.requests.map((r) => r.path.replace(/^\/hook\/secret-token/, ""));

describe("alerts", () => {
  it("a successful run pings start and success, and posts no webhook", async () => {
    sandbox.install(config({ nas: nas() }, ["nas"]));
    await sandbox.ok(["run", "nightly"]);
    expect(paths()).toEqual(["/hc/start", "/hc"]);
  });

  it("a target that is down: the webhook gets host, job, target, outcome, duration, bytes, log; pings start and fail", async () => {
    const endpoint = await deadEndpoint();
    sandbox.install(
      config({ nas: nas(), down: { type: "s3", bucket: "gone", endpoint, region: "us-east-1", accessKeyId: "k", secretAccessKey: "s" } }, ["nas", "down"], {}, { method: "snapshot" }),
    );
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(paths()).toEqual(["/hc/start", "", "/hc/fail"]);
    const [body] = hook.jsonBodies();
    const state = JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8"));
    expect(body).toMatchObject({ host: "web1", job: "nightly", method: "snapshot", target: "down", outcome: "failure", bytes: state.bytes, started: state.started });
    expect(body.bytes).toBeGreaterThan(1_000_000);
    expect(body.duration).toBe(body.finished - body.started);
    expect(body.log).toMatch(/down: FAILED/);
    const fail = hook.requests.find((q) => q.path.endsWith("/hc/fail"))!;
    expect(fail.body).toMatch(/down: FAILED/);
  });

  it("the restore drill's failure reaches the webhook and the job's own health check", async () => {
    sandbox.install(config({ nas: nas() }, ["nas"], {}, { healthcheckUrl: `${hook.url}/job-check` }));
    const r = await sandbox.run(["verify", "nightly"]); // nothing backed up yet
    expect(r.code).not.toBe(0);
    expect(paths()).toEqual(["/job-check/start", "", "/job-check/fail"]);
    expect(hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "nas", outcome: "failure", message: "restore drill failed on target nas" });
  });

  it("the alert's log ends with the run's last lines even when the log's writer lags behind the run", async () => {
    // tee that writes each line to the log file (and on to stderr) 50 ms late.
    fs.writeFileSync(
      path.join(sandbox.binDir, "tee"),
      `#!/usr/bin/env bash\nfile=\${!#}\nwhile IFS= read -r line; do sleep 0.05; printf '%s\\n' "$line" >>"$file"; printf '%s\\n' "$line"; done\n`,
      { mode: 0o755 },
    );
    sandbox.install(config({ nas: nas() }, ["nas"]));
    const r = await sandbox.run(["verify", "nightly"]); // nothing backed up yet
    expect(r.code).not.toBe(0);
    // What the run said up to its error: the alert carries these last 20 lines, the error last.
    const said = r.stderr.trimEnd().split("\n");
    const failed = said.findIndex((line) => /error: nas: no complete snapshot/.test(line));
    expect(failed).toBeGreaterThan(0);
    const lastWords = said.slice(Math.max(0, failed - 19), failed + 1).join("\n");
    expect(hook.jsonBodies()[0].log).toBe(lastWords);
    expect(hook.requests.find((q) => q.path.endsWith("/hc/fail"))!.body.trimEnd()).toBe(lastWords);
  });

  it("a webhook that is down does not fail a successful job", async () => {
    const endpoint = await deadEndpoint();
    sandbox.install(config({ nas: nas() }, ["nas"], { webhookUrl: `${endpoint}/hook`, healthcheckUrl: `${endpoint}/hc` }));
    const r = await sandbox.ok(["run", "nightly"]);
    expect(r.stderr).toMatch(/warning: could not ping the health check/);
  });

  describe("the systemd OnFailure= handler", () => {
    function installHandler(invocation: string) {
      const cfg = parseStackConfig({ ...config({ nas: nas() }, ["nas"]), hosts: [{ ...config({ nas: nas() }, ["nas"]).hosts[0], paths: { ...sandbox.paths, metricsFile: metricsFile() } }] });
      const file = renderSystemdFiles({ stack: "test", host: cfg.hosts[0], targets: plainTargets(cfg), notify: cfg.notify }).find((f) => f.path === NOTIFY_FAILURE_PATH)!;
      const handler = path.join(sandbox.binDir, "notify-failure");
      fs.writeFileSync(handler, file.content, { mode: 0o755 });
      fs.writeFileSync(path.join(sandbox.binDir, "systemctl"), `#!/bin/sh\necho ${invocation}\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(sandbox.binDir, "journalctl"), "#!/bin/sh\necho 'the last journal line'\n", { mode: 0o755 });
      return handler;
    }
    // Asynchronous: the listener answering the handler's curl lives in this process.
    const runHandler = (handler: string) => promisify(execFile)(handler, ["openwebui-backup-nightly.service"], { env: sandbox.env() });

    it("stays quiet when the command already alerted for this invocation", async () => {
      sandbox.install(config({ nas: nas() }, ["nas"]));
      const handler = installHandler("0123abcd");
      fs.writeFileSync(path.join(sandbox.dataDir, "webui.db"), "this is not a database");
      const r = await sandbox.run(["run", "nightly"], { INVOCATION_ID: "0123abcd" });
      expect(r.code).not.toBe(0);
      expect(paths()).toEqual(["/hc/start", "", "/hc/fail"]);
      expect(fs.existsSync(path.join(sandbox.paths.stateDir, "alerted", "0123abcd"))).toBe(true);
      const quiet = await runHandler(handler);
      expect(quiet.stderr).toMatch(/already reported it/);
      expect(paths()).toEqual(["/hc/start", "", "/hc/fail"]); // nothing more
    });

    it("reports a failure the command could not (killed, crashed): webhook and /fail", async () => {
      sandbox.install(config({ nas: nas() }, ["nas"]));
      const handler = installHandler("ffff0000");
      await runHandler(handler);
      expect(paths()).toEqual(["", "/hc/fail"]);
      expect(hook.jsonBodies()[0]).toMatchObject({ host: "web1", job: "nightly", unit: "openwebui-backup-nightly.service", outcome: "failure", log: "the last journal line" });
    });
  });
});

describe("metrics", () => {
  const value = (families: ReturnType<typeof parsePrometheus>, name: string, target: string) => {
    const fam = families.find((f) => f.name === `openwebui_backup_${name}`);
    expect(fam?.type).toBe("GAUGE");
    const m = fam!.metrics.find((x) => x.labels?.target === target);
    expect(m?.labels).toEqual({ host: "web1", job: "nightly", target });
    return Number(m!.value);
  };

  it("parses as Prometheus text and matches the run; a later failure keeps the last success", async () => {
    sandbox.install(config({ nas: nas(), other: { type: "local", path: path.join(sandbox.root, "nas2") } }, ["nas", "other"], { webhookUrl: undefined, healthcheckUrl: undefined }));
    await sandbox.ok(["run", "nightly"]);
    const state = JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8"));
    let families = parsePrometheus(fs.readFileSync(metricsFile(), "utf8"));
    for (const t of ["nas", "other"]) {
      expect(value(families, "exit_status", t)).toBe(0);
      expect(value(families, "bytes", t)).toBe(state.bytes);
      expect(value(families, "last_success_timestamp_seconds", t)).toBe(value(families, "last_run_timestamp_seconds", t));
      expect(value(families, "last_run_timestamp_seconds", t)).toBeGreaterThanOrEqual(state.started);
      expect(value(families, "last_run_timestamp_seconds", t)).toBeLessThanOrEqual(state.finished);
      expect(value(families, "duration_seconds", t)).toBe(value(families, "last_run_timestamp_seconds", t) - state.started);
    }
    expect((fs.statSync(metricsFile()).mode & 0o777).toString(8)).toBe("644");
    expect(fs.readdirSync(path.dirname(metricsFile()))).toEqual(["openwebui_backup.prom"]); // no temporary left

    const firstSuccess = value(families, "last_success_timestamp_seconds", "other");
    // The timestamps count whole seconds: the next run must start in a later one.
    await waitFor("the clock to pass the first run's second", () => Date.now() / 1000 >= firstSuccess + 1, 5_000);
    // The second target goes down: a file where its folder should be.
    fs.rmSync(path.join(sandbox.root, "nas2"), { recursive: true });
    fs.writeFileSync(path.join(sandbox.root, "nas2"), "not a directory");
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    families = parsePrometheus(fs.readFileSync(metricsFile(), "utf8"));
    expect(value(families, "exit_status", "nas")).toBe(0);
    expect(value(families, "exit_status", "other")).toBe(1);
    expect(value(families, "last_success_timestamp_seconds", "other")).toBe(firstSuccess);
    expect(value(families, "last_run_timestamp_seconds", "other")).toBeGreaterThan(firstSuccess);
    expect(value(families, "last_success_timestamp_seconds", "nas")).toBeGreaterThan(firstSuccess);
  });
});

describe("manifest", () => {
  const manifestOf = (snapshotRoot: string) => {
    const [snap] = fs.readdirSync(snapshotRoot).sort().reverse();
    return JSON.parse(fs.readFileSync(path.join(snapshotRoot, snap, "manifest.json"), "utf8"));
  };
  const root = () => path.join(sandbox.root, "nas", "web1", "nightly");

  it("records schema revision, Chroma migrations, image and digest; restore warns on another version", async () => {
    sandbox.install(config({ nas: nas() }, ["nas"], { webhookUrl: undefined, healthcheckUrl: undefined }));
    sandbox.setContainerImage("open-webui", "ghcr.io/open-webui/open-webui:v0.6.5", "sha256:1111", "ghcr.io/open-webui/open-webui@sha256:2222");
    await sandbox.ok(["run", "nightly"]);
    const m = manifestOf(root());
    expect(m).toMatchObject({ format: 1, host: "web1", job: "nightly", schemaRevision: "3781e22d8b01", chromaVersion: "sysdb:1", image: "ghcr.io/open-webui/open-webui:v0.6.5", imageDigest: "ghcr.io/open-webui/open-webui@sha256:2222" });
    expect(m.files).toBeGreaterThan(5);
    expect(m.bytes).toBeGreaterThan(1_000_000);

    const same = await sandbox.ok(["restore", "nightly", "--to", path.join(sandbox.root, "r1")]);
    expect(same.stderr).toMatch(/manifest: .*"schemaRevision": "3781e22d8b01"/);
    expect(same.stderr).not.toMatch(/warning: this backup was made by/);

    sandbox.setContainerImage("open-webui", "ghcr.io/open-webui/open-webui:v0.6.9", "sha256:3333", "ghcr.io/open-webui/open-webui@sha256:4444");
    const other = await sandbox.ok(["restore", "nightly", "--to", path.join(sandbox.root, "r2")]);
    expect(other.stderr).toMatch(/warning: this backup was made by Open WebUI ghcr\.io\/open-webui\/open-webui:v0\.6\.5 .*schema 3781e22d8b01; the running container is ghcr\.io\/open-webui\/open-webui:v0\.6\.9/);
  });

  it("older Open WebUI: the last peewee migration; no docker answer: no image", async () => {
    const db = path.join(sandbox.dataDir, "webui.db");
    execFileSync("sqlite3", [db, "DROP TABLE alembic_version; CREATE TABLE migratehistory (id INTEGER PRIMARY KEY, name TEXT, migrated_at TEXT); INSERT INTO migratehistory (name) VALUES ('016_add_user_api_key'), ('017_add_user_oauth_sub');"]);
    sandbox.install(config({ nas: nas() }, ["nas"], { webhookUrl: undefined, healthcheckUrl: undefined }));
    await sandbox.ok(["run", "nightly"]);
    expect(manifestOf(root())).toMatchObject({ schemaRevision: "peewee:017_add_user_oauth_sub", image: "", imageDigest: "" });
  });
});
