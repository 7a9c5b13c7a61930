/**
 * The host of the fault test files (dead targets, the job's timeout, a mirror cut off): a
 * sandbox with Open WebUI-shaped data and a webhook listener per test, one S3 server per file,
 * the stack config they install, and what the tests read back (state, metrics, leftovers).
 * faultHost() registers the jest hooks; call it once at the top of a test file.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./host-sandbox";
import { buildDataDir } from "./openwebui-data";
import { S3TestServer, useS3Server } from "./s3-server";
import { WebhookListener, webhookListener } from "./webhook-listener";

export interface FaultHost {
  readonly sandbox: HostSandbox;
  readonly hook: WebhookListener;
  /** The file's S3 server. */
  readonly s3: S3TestServer;
  /** A new bucket on `server` (the file's own by default). */
  bucket(server?: S3TestServer): Promise<string>;
  /** A stack config: host web1 with job nightly, the webhook and health check, a metrics file. */
  config(job: Record<string, unknown>, targets: Record<string, unknown>): Record<string, unknown>;
  /** Restores the job's latest backup from a target into a new folder under the sandbox. */
  restore(target: string, name: string, env?: NodeJS.ProcessEnv): Promise<string>;
  /** The job's state file. */
  state(): Record<string, unknown>;
  /** One of the job's metrics for a target, or undefined. */
  metric(name: string, target: string): number | undefined;
  /** What is left in the staging folder. */
  stagingLeft(): string[];
  /** docker calls that change a container (inspections left out). */
  dockerVerbs(): string[];
  /**
   * A shim for `tool` on the sandbox's PATH: the first call that has $HOLD_ARG among its
   * arguments touches $HOLD_MARKER and blocks; every other call is the real tool.
   */
  holdShim(tool: string): void;
}

export function faultHost(prefix: string): FaultHost {
  const s3 = useS3Server();
  let sandbox: HostSandbox;
  let hook: WebhookListener;
  let buckets = 0;
  beforeEach(async () => {
    sandbox = new HostSandbox(prefix);
    buildDataDir(sandbox.dataDir);
    hook = await webhookListener();
  });
  afterEach(async () => {
    await hook.close();
    sandbox.cleanup();
  });
  const metricsFile = () => path.join(sandbox.root, "textfile", "owb.prom");

  return {
    get sandbox() {
      return sandbox;
    },
    get hook() {
      return hook;
    },
    s3,
    async bucket(server = s3) {
      const name = `faults-${++buckets}`;
      await server.createBucket(name);
      return name;
    },
    config: (job, targets) => ({
      targets,
      hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: ["open-webui", "ollama"], paths: { metricsFile: metricsFile() }, jobs: [{ name: "nightly", ...job }] }],
      notify: { webhookUrl: hook.url, healthcheckUrl: `${hook.url}/hc` },
      resticPassword: "correct horse battery staple",
    }),
    async restore(target, name, env = {}) {
      const dest = path.join(sandbox.root, name);
      await sandbox.ok(["restore", "nightly", "--target", target, "--to", dest], env);
      return dest;
    },
    state: () => JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8")),
    metric(name, target) {
      const text = fs.readFileSync(metricsFile(), "utf8");
      const m = new RegExp(`^openwebui_backup_${name}\\{host="web1",job="nightly",target="${target}"\\} (\\d+)$`, "m").exec(text);
      return m ? Number(m[1]) : undefined;
    },
    stagingLeft: () => (fs.existsSync(sandbox.paths.stagingDir) ? fs.readdirSync(sandbox.paths.stagingDir) : []),
    dockerVerbs: () => sandbox.dockerCalls().filter((c) => !/inspect/.test(c)),
    holdShim(tool) {
      const real = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
      fs.writeFileSync(
        path.join(sandbox.binDir, tool),
        `#!/usr/bin/env bash
# A dry run (staging's space estimate) copies nothing: the hold waits for a real call.
case " $* " in *" -n "* | *" --dry-run "*) exec ${real} "$@" ;; esac
for a in "$@"; do
  if [[ -n "\${HOLD_ARG:-}" && "$a" == "$HOLD_ARG" && ! -e "$HOLD_MARKER" ]]; then : >"$HOLD_MARKER"; exec sleep 600; fi
done
exec ${real} "$@"
`,
        { mode: 0o755 },
      );
    },
  };
}
