/**
 * A host in a temporary directory: the rendered backup command and env file installed
 * there, every working path inside it, and a `docker` stub on PATH that records its calls.
 * Scripts run for real (bash, sqlite3, rsync, restic, rclone); only docker is stubbed.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../config";
import { renderBackupFiles } from "../../scripts/render/backup";
import { plainObjectStorage, plainTargets } from "../../scripts/render/plain-targets";
import { shellQuote } from "../../scripts/render/shell";
import { HostFile } from "../../scripts/render/types";
import { s3ClientEnv } from "./s3-server";

const DOCKER_STUB = `#!/usr/bin/env bash
# Test stub: records every call; answers what openwebui-backup asks; keeps each container's
# state (running unless set; stop → exited, pause → paused, start/unpause → running; "absent"
# makes inspect fail like a container that does not exist). Files are read with builtins: the
# stub runs a few thousand times over the suite.
printf '%s\\n' "$*" >>"$DOCKER_STUB_LOG"
# line <n> <file>: the file's line n.
line() { local -a lines; mapfile -t lines <"$2"; printf '%s\\n' "\${lines[$1 - 1]-}"; }
case "$1" in
  volume)
    name=\${*: -1}
    if [[ ! -f "$DOCKER_STUB_DIR/volumes/$name" ]]; then echo "Error: No such volume: $name" >&2; exit 1; fi
    case "$*" in
      *".Driver"*) if [[ -f "$DOCKER_STUB_DIR/volumes/$name.driver" ]]; then echo "$(<"$DOCKER_STUB_DIR/volumes/$name.driver")"; else echo local; fi ;;
      *) echo "$(<"$DOCKER_STUB_DIR/volumes/$name")" ;;
    esac ;;
  inspect)
    name=\${*: -1}
    img="$DOCKER_STUB_DIR/image/$name"
    case "$*" in
      *"openwebui.image"*) if [[ -f "$img" ]]; then line 4 "$img"; else echo "Error: No such object: $name" >&2; exit 1; fi ;;
      *".Config.Image"*) if [[ -f "$img" ]]; then line 1 "$img"; else echo "Error: No such object: $name" >&2; exit 1; fi ;;
      *"{{ .Image }}"*) if [[ -f "$img" ]]; then line 2 "$img"; else echo "Error: No such object: $name" >&2; exit 1; fi ;;
      *)
        state=running
        if [[ -f "$DOCKER_STUB_DIR/state/$name" ]]; then state=$(<"$DOCKER_STUB_DIR/state/$name"); fi
        if [[ "$state" == absent ]]; then echo "Error: No such object: $name" >&2; exit 1; fi
        echo "$state" ;;
    esac ;;
  image)
    id=\${*: -1}
    for f in "$DOCKER_STUB_DIR"/image/*; do
      if [[ -f "$f" && "$(line 2 "$f")" == "$id" ]]; then line 3 "$f"; exit 0; fi
    done
    echo "Error: No such image: $id" >&2; exit 1 ;;
  stop|start|pause|unpause)
    # Probes: which of the paths in DOCKER_STUB_PROBES (':'-separated) exist at this call.
    if [[ -n "\${DOCKER_STUB_PROBES:-}" ]]; then
      seen=""
      IFS=: read -r -a probes <<<"$DOCKER_STUB_PROBES"
      for p in "\${probes[@]}"; do if [[ -e "$p" ]]; then seen+="1"; else seen+="0"; fi; done
      printf '%s %s %s\\n' "$1" "$2" "$seen" >>"$DOCKER_STUB_LOG.probes"
    fi
    if [[ -f "$DOCKER_STUB_DIR/fail-$1" ]]; then exit 1; fi
    # A process standing in for the container's (pids/<name>) is frozen and thawed like a
    # paused container's processes; pids/<name>.frozen keeps the time of each freeze.
    if [[ -f "$DOCKER_STUB_DIR/pids/$2" ]]; then
      case "$1" in
        pause)
          printf '%s\\n' "$EPOCHREALTIME" >>"$DOCKER_STUB_DIR/pids/$2.frozen"
          kill -STOP "$(<"$DOCKER_STUB_DIR/pids/$2")" ;;
        unpause) kill -CONT "$(<"$DOCKER_STUB_DIR/pids/$2")" ;;
      esac
    fi
    # Stateful, like the engine: what inspect reports next follows from this call.
    case "$1" in stop) state=exited ;; pause) state=paused ;; *) state=running ;; esac
    printf '%s\n' "$state" >"$DOCKER_STUB_DIR/state/$2"
    echo "$2" ;;
  exec)
    # exec [-i] [-e NAME[=value]]… <container> <command…>: runs the command here, with the
    # environment lines of exec/<container> (e.g. PGHOST of a test cluster) and the -e ones;
    # "-e NAME" takes the value from this process, as docker's client does.
    shift
    envs=()
    while [[ $# -gt 0 && "$1" == -* ]]; do
      case "$1" in
        -e) if [[ "$2" == *=* ]]; then envs+=("$2"); else envs+=("$2=\${!2-}"); fi; shift 2 ;;
        -u|-w) shift 2 ;;
        *) shift ;;
      esac
    done
    name=$1; shift
    conf="$DOCKER_STUB_DIR/exec/$name"
    if [[ ! -f "$conf" ]]; then echo "Error response from daemon: No such container: $name" >&2; exit 1; fi
    if [[ -f "$DOCKER_STUB_DIR/state/$name" && "$(<"$DOCKER_STUB_DIR/state/$name")" != running ]]; then
      echo "Error response from daemon: container $name is not running" >&2; exit 1
    fi
    mapfile -t base <"$conf"
    exec env "\${base[@]}" "\${envs[@]}" "$@" ;;
esac
`;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How the sandbox's `restic` makes the repository that the command's `restic init` asks for:
 *   "cloned"  from a template that the real restic initialised once for the whole test run, with
 *             a fresh id and a key for the job's password (restic-test-repo.js `clone`): restic's
 *             init spends about 2.8 s of CPU calibrating its key derivation, which over thirty
 *             inits was a fifth of the end-to-end tier's CPU;
 *   "real"    by the real `restic init`, its key then rewrapped (`cheap-key`).
 * Either way the repository's key has cheap scrypt parameters, so the later restic calls of a
 * test do not each pay half a second of key derivation; every other restic call is the real one.
 */
export type ResticInit = "cloned" | "real";

const realRestic = () => execFileSync("bash", ["-c", "command -v restic"], { encoding: "utf8" }).trim();
const RESTIC_TEST_REPO = path.join(__dirname, "restic-test-repo.js");
const TEMPLATE_PASSWORD = "the-template-protects-nothing";
/** In the test run's temporary root (TMPDIR, see temp-root.ts), so that every worker finds the same one. */
const resticTemplate = () => path.join(os.tmpdir(), "restic-template");

/**
 * The template that "cloned" inits copy, made by the real restic the first time a worker needs
 * it. Here, in the test's own setup, rather than inside a command the test runs and times.
 */
function ensureResticTemplate(): void {
  const template = resticTemplate();
  if (fs.existsSync(path.join(template, "config"))) return;
  const env = { ...process.env, RESTIC_REPOSITORY: template, RESTIC_PASSWORD: TEMPLATE_PASSWORD };
  const make = `[[ -f "$RESTIC_REPOSITORY/config" ]] || { "$1" init >/dev/null && node "$2" cheap-key; }`;
  execFileSync("flock", [`${template}.lock`, "bash", "-c", make, "make-template", realRestic(), RESTIC_TEST_REPO], { env, stdio: ["ignore", "ignore", "inherit"] });
}

function resticShim(init: ResticInit): string {
  const real = shellQuote(realRestic());
  const repo = `node ${shellQuote(RESTIC_TEST_REPO)}`;
  const make =
    init === "real"
      ? `  ${real} "\${args[@]}" || exit
  exec ${repo} cheap-key >&2`
      : `  RESTIC_TEMPLATE_PASSWORD=${TEMPLATE_PASSWORD} exec ${repo} clone ${shellQuote(resticTemplate())}`;
  return `#!/usr/bin/env bash
# Test shim: the real restic, but a repository this command initialises is ${init === "real" ? "made by restic and then given a cheap key" : "cloned from the test run's template"} (see restic-test-repo.js).
args=("$@")
while (($# > 0)); do
  case $1 in
    -o | -r | --repo | --option | --password-file | --cache-dir | --key-hint) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
if [[ "\${1:-}" == init && -n "\${RESTIC_REPOSITORY:-}" && -n "\${RESTIC_PASSWORD:-}" ]]; then
${make}
fi
exec ${real} "\${args[@]}"
`;
}

export class HostSandbox {
  readonly root: string;
  readonly dataDir: string;
  readonly binDir: string;
  readonly dockerLog: string;
  files: HostFile[] = [];
  extraEnv: NodeJS.ProcessEnv = {};
  /** What the stack would give the env file for the database container's role. */
  databasePassword?: string;

  /**
   * The env file's OWB_STILL_SECONDS: how long a folder that changed just before an online copy
   * must stay still before it is copied again. A test's data directory is always just written,
   * so the real 2 s would be a wait in nearly every run; tests of the online copy itself pass
   * the real value.
   */
  readonly stillSeconds: number;

  constructor(prefix = "owb-host-", opts: { stillSeconds?: number; resticInit?: ResticInit } = {}) {
    this.stillSeconds = opts.stillSeconds ?? 0.2;
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dataDir = path.join(this.root, "data");
    this.binDir = path.join(this.root, "bin");
    this.dockerLog = path.join(this.root, "docker.log");
    fs.mkdirSync(path.join(this.root, "docker-stub", "volumes"), { recursive: true });
    fs.mkdirSync(path.join(this.root, "docker-stub", "state"), { recursive: true });
    fs.mkdirSync(path.join(this.root, "docker-stub", "image"), { recursive: true });
    fs.mkdirSync(path.join(this.root, "docker-stub", "exec"), { recursive: true });
    fs.mkdirSync(this.binDir);
    fs.writeFileSync(path.join(this.binDir, "docker"), DOCKER_STUB, { mode: 0o755 });
    fs.writeFileSync(this.dockerLog, "");
    const resticInit = opts.resticInit ?? "cloned";
    if (resticInit === "cloned") ensureResticTemplate();
    fs.writeFileSync(path.join(this.binDir, "restic"), resticShim(resticInit), { mode: 0o755 });
  }

  /** Working paths of the backup command, all inside the sandbox. */
  get paths() {
    const p = (s: string) => path.join(this.root, s);
    return {
      envFile: p("etc/openwebui-backup/backup.env"),
      command: p("usr/local/sbin/openwebui-backup"),
      stagingDir: p("var/lib/openwebui-backup/staging"),
      stateDir: p("var/lib/openwebui-backup/state"),
      lockDir: p("run/lock/openwebui-backup"),
      logDir: p("var/log/openwebui-backup"),
    };
  }

  /** Validates a stack config (hosts[0].paths filled in here), renders host 0 and installs its files. */
  install(raw: Record<string, any>, stack = "test", hostIndex = 0): HostFile[] {
    const withPaths = { ...raw, hosts: raw.hosts.map((h: any, i: number) => (i === hostIndex ? { ...h, paths: { ...this.paths, ...h.paths } } : h)) };
    const cfg = parseStackConfig(withPaths);
    const host = cfg.hosts[hostIndex];
    this.files = renderBackupFiles({
      stack,
      host,
      targets: plainTargets(cfg),
      notify: cfg.notify,
      resticPassword: cfg.resticPassword,
      objectStorage: plainObjectStorage(cfg, host),
      databasePassword: this.databasePassword,
    });
    for (const f of this.files) {
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      fs.writeFileSync(f.path, f.path === this.paths.envFile ? this.withStillSeconds(f.content) : f.content, { mode: f.mode });
      fs.chmodSync(f.path, f.mode);
    }
    return this.files;
  }

  private withStillSeconds(envFile: string): string {
    const line = /^OWB_STILL_SECONDS='[^']*'$/m;
    if (!line.test(envFile)) throw new Error("the rendered env file has no OWB_STILL_SECONDS line to set");
    return envFile.replace(line, `OWB_STILL_SECONDS='${this.stillSeconds}'`);
  }

  setVolume(name: string, mountpoint: string): void {
    fs.writeFileSync(path.join(this.root, "docker-stub", "volumes", name), `${mountpoint}\n`);
  }

  setContainerState(name: string, state: string): void {
    fs.writeFileSync(path.join(this.root, "docker-stub", "state", name), `${state}\n`);
  }

  /** What `docker inspect` would report now: running, paused, exited, or absent. */
  containerState(name: string): string {
    const f = path.join(this.root, "docker-stub", "state", name);
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : "running";
  }

  /** What `docker volume inspect` reports as the volume's driver and option keys ("local" unless set). */
  setVolumeDriver(name: string, driverAndOptions: string): void {
    fs.writeFileSync(path.join(this.root, "docker-stub", "volumes", `${name}.driver`), `${driverAndOptions}\n`);
  }

  /**
   * What `docker inspect` reports for a container's image: the reference it was created from,
   * image id, repo digest, and the `openwebui.image` label the stack sets (absent: none).
   */
  setContainerImage(name: string, image: string, id: string, repoDigest: string, label = ""): void {
    fs.writeFileSync(path.join(this.root, "docker-stub", "image", name), `${image}\n${id}\n${repoDigest}\n${label}\n`);
  }

  /**
   * Lets `docker exec <name> …` run commands here, as if inside that container, with these
   * environment variables (a test cluster's PGHOST and PGPORT, say).
   */
  setExecEnvironment(name: string, env: Record<string, string>): void {
    fs.writeFileSync(path.join(this.root, "docker-stub", "exec", name), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(""));
  }

  /** A process that `docker pause <name>` freezes (SIGSTOP) and `docker unpause <name>` thaws (SIGCONT). */
  setContainerProcess(name: string, pid: number): void {
    fs.mkdirSync(path.join(this.root, "docker-stub", "pids"), { recursive: true });
    fs.writeFileSync(path.join(this.root, "docker-stub", "pids", name), `${pid}\n`);
  }

  /** When `docker pause <name>` froze the process set by setContainerProcess, in seconds since the epoch. */
  containerFreezes(name: string): number[] {
    const f = path.join(this.root, "docker-stub", "pids", `${name}.frozen`);
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map(Number) : [];
  }

  failDocker(verb: "start" | "stop" | "pause" | "unpause"): void {
    fs.writeFileSync(path.join(this.root, "docker-stub", `fail-${verb}`), "");
  }

  /** Per stop/start/pause/unpause call: "<verb> <container> <1|0 per probe path existing>". */
  dockerProbes(): string[] {
    const f = `${this.dockerLog}.probes`;
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter(Boolean) : [];
  }

  dockerCalls(): string[] {
    return fs.readFileSync(this.dockerLog, "utf8").split("\n").filter(Boolean);
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...s3ClientEnv(process.env),
      // rclone's defaults retry a dead server for minutes; a test wants the failure now.
      RCLONE_RETRIES: "1",
      RCLONE_LOW_LEVEL_RETRIES: "1",
      PATH: `${this.binDir}:${process.env.PATH}`,
      // restic's cache (a folder per repository) per sandbox, not one for the run (temp-root.ts):
      // a run of the suite makes a few hundred repositories, and restic looks through that
      // folder at every start.
      XDG_CACHE_HOME: path.join(this.root, "cache"),
      OPENWEBUI_BACKUP_ENV: this.paths.envFile,
      DOCKER_STUB_LOG: this.dockerLog,
      DOCKER_STUB_DIR: path.join(this.root, "docker-stub"),
      ...this.extraEnv,
    };
  }

  /** Runs the installed command; resolves with its exit code and output, never rejects. */
  run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return this.start(args, env).result;
  }

  /** Starts the installed command; `stderr()` is what it has logged so far, for a test that acts at a point of the run. */
  start(args: string[], env: NodeJS.ProcessEnv = {}): { result: Promise<RunResult>; stderr: () => string } {
    let soFar = "";
    const result = new Promise<RunResult>((resolve) => {
      const child = execFile(this.paths.command, args, { env: { ...this.env(), ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as any).code === "number" ? (err as any).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
      child.stderr?.on("data", (chunk) => (soFar += String(chunk)));
    });
    return { result, stderr: () => soFar };
  }

  /** Pids of the running processes named `name` whose working directory is inside this sandbox. */
  processes(name: string): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const argv0 = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0];
        const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
        if (path.basename(argv0) === name && (cwd === this.root || cwd.startsWith(`${this.root}/`))) pids.push(Number(entry));
      } catch {
        // The process ended while we looked.
      }
    }
    return pids;
  }

  /** Like run, but fails the test with the command's output when it does not exit 0. */
  async ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    const r = await this.run(args, env);
    if (r.code !== 0) throw new Error(`openwebui-backup ${args.join(" ")} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r;
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
