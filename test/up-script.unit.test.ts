/**
 * `npm run up` checks what it can before touching any state, and each failure says what to
 * do: a CLI that cannot start (the npm package downloads it on first use), a Docker daemon
 * that does not answer. "Creating stack" appears only when a stack is really created. The
 * Pulumi CLI and docker are stubs on PATH here (no engine, no daemon on this machine).
 *
 * @long for a unit test (starts ts-node in each test): first in its tier (tier-sequencer.js)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { localHosts, main as preflightMain } from "../scripts/cli/up-preflight";

const REPO = path.join(__dirname, "..");
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-up-"));
  fs.mkdirSync(path.join(dir, "bin"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A Pulumi CLI stub: logs its arguments; `behaviour` is bash run for each call. */
function pulumiStub(behaviour: string): string {
  const file = path.join(dir, "pulumi");
  fs.writeFileSync(file, `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >>"${dir}/pulumi.log"\n${behaviour}\n`, { mode: 0o755 });
  return file;
}

function dockerStub(answers: boolean): void {
  const body = answers ? 'echo "27.3.1"' : 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1';
  fs.writeFileSync(path.join(dir, "bin", "docker"), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
}

function up(pulumiBin: string) {
  const state = path.join(dir, "state");
  const r = spawnSync("bash", [path.join(REPO, "scripts", "cli", "up.sh")], {
    encoding: "utf8",
    timeout: 120_000,
    env: { PATH: `${dir}/bin:${process.env.PATH}`, HOME: dir, PULUMI_BIN: pulumiBin, PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "test only", OPENWEBUI_STACK: "dev" },
  });
  const log = fs.existsSync(path.join(dir, "pulumi.log")) ? fs.readFileSync(path.join(dir, "pulumi.log"), "utf8").trim().split("\n") : [];
  return { code: r.status, stderr: r.stderr, stateMade: fs.existsSync(state), calls: log };
}

const WORKING_CLI = `case "$1" in
  version) echo v3.265.0 ;;
  stack) if [[ "$2" == select ]]; then if [[ -f "${"$"}{0%/*}/made" ]]; then exit 0; fi; echo "error: no stack named 'dev' found" >&2; exit 255; fi
         if [[ "$2" == init ]]; then : >"${"$"}{0%/*}/made"; fi ;;
  up) exit 0 ;;
esac`;

it("a CLI that cannot start (offline first use) is named, with PULUMI_BIN as the way out, before any state exists", () => {
  dockerStub(true);
  const r = up(pulumiStub('echo "Downloading pulumi v3.265.0..."; echo "pulumi: fetch failed" >&2; exit 1'));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/does not start/);
  expect(r.stderr).toMatch(/fetch failed/);
  expect(r.stderr).toMatch(/downloads the real CLI on first use/);
  expect(r.stderr).toMatch(/PULUMI_BIN=/);
  expect(r.stderr).not.toMatch(/creating stack/);
  expect(r.stateMade).toBe(false);
  expect(r.calls).toEqual(["version"]);
});

it("a Docker daemon that does not answer stops the deploy of a local host before any state exists", () => {
  dockerStub(false);
  const r = up(pulumiStub(WORKING_CLI));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/runs on this machine, but the Docker daemon does not answer/);
  expect(r.stderr).toMatch(/Cannot connect to the Docker daemon/);
  expect(r.stateMade).toBe(false);
  expect(r.calls).toEqual(["version"]);
});

it('says "creating stack" only when it creates one, then deploys', () => {
  dockerStub(true);
  const cli = pulumiStub(WORKING_CLI);
  const first = up(cli);
  expect(first.code).toBe(0);
  expect(first.stderr).toMatch(/creating stack dev/);
  expect(first.calls).toEqual(["version", "stack select dev", "stack init dev --secrets-provider passphrase", "up --stack dev"]);
  fs.rmSync(path.join(dir, "pulumi.log"));
  const second = up(cli);
  expect(second.code).toBe(0);
  expect(second.stderr).not.toMatch(/creating stack/);
  expect(second.calls).toEqual(["version", "stack select dev", "up --stack dev"]);
});

it("a stack select that fails for another reason is reported, not taken for a missing stack", () => {
  dockerStub(true);
  const r = up(pulumiStub(`case "$1" in version) echo v3 ;; stack) echo "error: could not read the state: permission denied" >&2; exit 1 ;; esac`));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/could not select stack dev: error: could not read the state: permission denied/);
  expect(r.stderr).not.toMatch(/creating stack/);
});

describe("the preflight's view of the stack file", () => {
  it("the dev stack deploys to this machine", () => {
    expect(localHosts(path.join(REPO, "Pulumi.dev.yaml"))).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it("a broken stack file is one line and exit 1", () => {
    const file = path.join(dir, "Pulumi.bad.yaml");
    fs.writeFileSync(file, "config:\n  openwebui:hosts:\n    - name: web1\n     data: x\n");
    const chunks: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(preflightMain([file])).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(chunks.join("")).toMatch(/^.*Pulumi\.bad\.yaml:4:1: .+\n$/);
  });
});
