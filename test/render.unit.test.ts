/**
 * The pure renderer: whole-text snapshots of every file a host gets (so a reviewer sees each
 * change), credentials only where they belong, and the render CLI. Shellcheck on every
 * script is in render.artifact.test.ts.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as renderMain, renderStackFile } from "../scripts/cli/render-cli";
import { shellQuote } from "../scripts/render/shell";
import { SECRETS, full, render, small } from "./support/render-fixtures";

describe.each([
  ["small", small, 0],
  ["full, systemd host", full, 0],
  ["full, cron host", full, 1],
])("%s config", (_name, cfg, hostIndex) => {
  const { files } = render(cfg(), hostIndex);

  it("renders the same text as last reviewed", () => {
    for (const f of files) expect(`${f.path} (mode ${f.mode.toString(8)})\n${f.content}`).toMatchSnapshot(f.path);
  });

  it("credentials appear only in the env file, which is mode 0600", () => {
    for (const f of files) {
      const leaked = SECRETS.filter((s) => f.content.includes(s));
      if (f.path.endsWith("backup.env")) expect(f.mode).toBe(0o600);
      else expect({ path: f.path, leaked }).toEqual({ path: f.path, leaked: [] });
    }
  });
});

/** Sources an env file with bash and prints the named variables, one per line. */
function sourceAndPrint(content: string, names: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "owb-env-")), "backup.env");
  fs.writeFileSync(file, content, { mode: 0o600 });
  return execFileSync("bash", ["-c", `source "$1"; for n in ${names.join(" ")}; do printf '%s\\n' "\${!n}"; done`, "bash", file], { encoding: "utf8" });
}

describe("the env file", () => {
  it("holds every credential the host's jobs need, and sources back to the exact values", () => {
    const { files } = render(full());
    const env = files.find((f) => f.path.endsWith("backup.env"))!;
    for (const s of SECRETS) expect(env.content).toContain(s);
    const dumped = sourceAndPrint(env.content, ["OWB_JOB_nightly_AT_nas_LOCATION", "OWB_TARGET_offsite_s3_SECRET_ACCESS_KEY"]);
    expect(dumped).toBe("/mnt/nas/open webui/web1/nightly\ns3-secret-key-value\n");
    const cronEnv = render(full(), 1).files.find((f) => f.path.endsWith("backup.env"))!;
    expect(sourceAndPrint(cronEnv.content, ["OWB_JOB_nightly_AT_odd_LOCATION"])).toBe("/mnt/nas/open webui's $(backups)/web2/nightly\n");
  });

  it("names no target the host's jobs don't use", () => {
    const { files } = render(full(), 1);
    const env = files.find((f) => f.path.endsWith("backup.env"))!;
    expect(env.content).not.toMatch(/offsite/);
    expect(env.content).not.toContain(SECRETS[1]);
  });
});

describe("shellQuote", () => {
  it.each(["plain", "with space", "it's", "$(touch x)", "`id`", 'a"b', "line\nbreak", "-leading", "", "\\back"])("round-trips %j through bash as data", (value) => {
    const out = execFileSync("bash", ["-c", `printf '%s' ${shellQuote(value)}`], { encoding: "utf8" });
    expect(out).toBe(value);
  });
});

describe("npm run render", () => {
  const stackFile = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-cli-"));
    const file = path.join(dir, "Pulumi.demo.yaml");
    fs.writeFileSync(
      file,
      `config:
  openwebui:targets:
    nas: { type: local, path: /mnt/nas }
    offsite: { type: s3, bucket: b-1, region: eu-central-1, accessKeyId: AKIA, secretAccessKey: { secure: v1:abc } }
  openwebui:hosts:
    - name: web1
      data: { dir: /srv/data }
      jobs: [ { name: nightly, method: restic, targets: [nas, offsite], retention: { daily: 7 } } ]
  openwebui:resticPassword: { secure: v1:def }
`,
    );
    return { dir, file };
  };

  it("writes DIR/<host>/<absolute path> with each file's mode, and a marked placeholder for encrypted values", () => {
    const { dir, file } = stackFile();
    const out = path.join(dir, "out");
    const stderr: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s: any) => (stderr.push(String(s)), true));
    const stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(renderMain(["--stack", "demo", "--config", file, "--out", out], { OPENWEBUI_RESTICPASSWORD: "pw-from-env" })).toBe(0);
    } finally {
      spy.mockRestore();
      stdout.mockRestore();
    }
    const command = path.join(out, "web1", "usr/local/sbin/openwebui-backup");
    const env = path.join(out, "web1", "etc/openwebui-backup/backup.env");
    expect(fs.statSync(command).mode & 0o777).toBe(0o755);
    expect(fs.statSync(env).mode & 0o777).toBe(0o600);
    const envText = fs.readFileSync(env, "utf8");
    expect(envText).toContain("OWB_RESTIC_PASSWORD='pw-from-env'");
    expect(envText).toContain("UNRENDERED-PULUMI-SECRET(targets.offsite.secretAccessKey)");
    expect(stderr.join("")).toContain("set OPENWEBUI_TARGETS_OFFSITE_SECRETACCESSKEY to render the real value");
    expect(stderr.join("")).not.toContain("pw-from-env");
  });

  it("fails with the field path on a bad stack file, before writing anything", () => {
    const { dir, file } = stackFile();
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("targets: [nas, offsite]", "targets: [nass]"));
    const stderr: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s: any) => (stderr.push(String(s)), true));
    try {
      expect(renderMain(["--stack", "demo", "--config", file, "--out", path.join(dir, "out")], {})).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(stderr.join("")).toContain('hosts[0].jobs[0].targets[0]: unknown target "nass"; known: nas, offsite');
    expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
  });

  it("renders the dev stack in the repository", () => {
    const { hosts } = renderStackFile(path.join(__dirname, "..", "Pulumi.dev.yaml"), "dev", {});
    expect(hosts.map((h) => h.host)).toEqual(["dev"]);
    expect(hosts[0].files.map((f) => f.path)).toContain("/usr/local/sbin/openwebui-backup");
  });
});
