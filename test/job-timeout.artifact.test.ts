/**
 * A job's timeout from config to host: the time spans the config accepts (read as systemd
 * reads them), the refusals with their field path, the env file's seconds, the unit's
 * TimeoutStartSec= a margin above them (checked by systemd-analyze), the cron lines, and the
 * refusal of `sync` to a local target.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseStackConfig } from "../config";
import { formatTimespan, parseTimespan } from "../config/timespan";
import { hostAsset } from "../scripts/render/assets";
import { renderBackupEnv } from "../scripts/render/backup";
import { renderCronFiles } from "../scripts/render/cron";
import { SYSTEMD_UNIT_DIR } from "../scripts/render/naming";
import { JOB_TIMEOUT_MARGIN_SEC, renderSystemdFiles } from "../scripts/render/systemd";
import { hostInput, rawConfig } from "./support/schedule-fixtures";

/** Seconds systemd reads from a time span (systemd-analyze timespan), or undefined when it refuses it. */
function systemdSeconds(span: string): number | undefined {
  const r = spawnSync("systemd-analyze", ["timespan", span], { encoding: "utf8" });
  const us = /μs: (\d+)/.exec(r.stdout);
  return r.status === 0 && us ? Number(us[1]) / 1e6 : undefined;
}

/** The problems of a config whose first job has this timeout, as `path: message` lines. */
function timeoutProblems(timeout: unknown): string[] {
  const raw = rawConfig() as any;
  raw.hosts[0].jobs[0].timeout = timeout;
  try {
    parseStackConfig(raw);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
}

describe("hosts[].jobs[].timeout", () => {
  it.each([
    ["6h", 21600],
    ["90min", 5400],
    ["1h 30min", 5400],
    ["1h30min", 5400],
    ["2 h 5 m", 7500],
    ["45s", 45],
    ["1sec", 1],
    ["2d", 172800],
    ["1w 1d", 691200],
    ["3 hours", 10800],
    ["10 minutes", 600],
  ])("accepts %j as %d seconds, as systemd reads it", (span, seconds) => {
    expect(parseTimespan(span)).toBe(seconds);
    expect(systemdSeconds(span)).toBe(seconds);
    expect(timeoutProblems(span)).toEqual([]);
  });

  it.each([
    ["6", "a number without unit"],
    ["1.5h", "a fraction"],
    ["0s", "zero"],
    ["1M", "months (inexact)"],
    ["500ms", "a sub-second unit"],
    ["infinity", "no limit"],
    ["6 hrs", "an unknown unit"],
    ["-1h", "a negative span"],
    ["", "nothing"],
  ])("refuses %j (%s), naming the field and what is accepted", (span) => {
    expect(parseTimespan(span)).toBeUndefined();
    expect(timeoutProblems(span)).toEqual([
      'hosts[0].jobs[0].timeout: must be a systemd time span of whole numbers with units, such as "6h", "90min" or "1h 30min" (units s, min, h, d, w; at least 1s)',
    ]);
  });

  it("refuses a number, which YAML gives for `timeout: 3600`", () => {
    expect(timeoutProblems(3600)).toEqual([expect.stringMatching(/^hosts\[0\]\.jobs\[0\]\.timeout: expected a systemd time span/)]);
  });

  it("defaults to 6h", () => {
    expect(parseStackConfig(rawConfig()).hosts[0].jobs.map((j) => j.timeout)).toEqual(["6h", "6h"]);
  });

  it.each([[1, "1s"], [300, "5min"], [21900, "6h 5min"], [90061, "1d 1h 1min 1s"]])("formats %d seconds as %j, which systemd reads back", (seconds, span) => {
    expect(formatTimespan(seconds)).toBe(span);
    expect(systemdSeconds(span)).toBe(seconds);
  });
});

describe("rendered", () => {
  const input = hostInput({
    jobs: [
      { name: "nightly", method: "restic", targets: ["offsite", "disk"], retention: { daily: 7 }, consistency: "pause", timeout: "1h 30min" },
      { name: "weekly-copy", method: "snapshot", targets: ["disk"], retention: { keep: 4 }, schedule: "30 4 * * 0" },
    ],
    restoreDrill: { job: "nightly" },
  });

  it("writes the timeout in seconds to the env file", () => {
    const env = renderBackupEnv(input).content;
    expect(env).toMatch(/^OWB_JOB_nightly_TIMEOUT='5400'$/m);
    expect(env).toMatch(/^OWB_JOB_weekly_copy_TIMEOUT='21600'$/m);
    expect(/^OWB_REQUIRED='([^']*)'$/m.exec(env)![1].split(" ")).toEqual(expect.arrayContaining(["OWB_JOB_nightly_TIMEOUT", "OWB_JOB_weekly_copy_TIMEOUT"]));
  });

  it("gives each service, the drill's included, TimeoutStartSec= five minutes above its job's timeout; systemd-analyze verify passes", () => {
    const files = renderSystemdFiles(input);
    const unit = (name: string) => files.find((f) => f.path === `${SYSTEMD_UNIT_DIR}/${name}`)!.content;
    expect(unit("openwebui-backup-nightly.service")).toMatch(/^TimeoutStartSec=1h 35min$/m);
    expect(unit("openwebui-backup-weekly-copy.service")).toMatch(/^TimeoutStartSec=6h 5min$/m);
    expect(unit("openwebui-restore-drill.service")).toMatch(/^TimeoutStartSec=1h 35min$/m);
    expect(unit("openwebui-backup-nightly.service")).toMatchSnapshot();

    const root = fs.mkdtempSync(path.join(os.tmpdir(), "owb-timeout-units-"));
    try {
      fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
      for (const f of files) {
        fs.mkdirSync(path.join(root, path.dirname(f.path)), { recursive: true });
        fs.writeFileSync(path.join(root, f.path), f.content, { mode: f.mode });
      }
      fs.mkdirSync(path.join(root, path.dirname(input.host.paths.command)), { recursive: true });
      fs.writeFileSync(path.join(root, input.host.paths.command), "#!/bin/sh\n", { mode: 0o755 });
      const services = files.filter((f) => f.path.endsWith(".service") && !f.path.includes("@")).map((f) => f.path);
      const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...services], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } });
      expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("the host command's margin is the unit's, with room for the watchdog's grace after TERM and the alert", () => {
    const timeouts = hostAsset("backup/timeouts.bash");
    expect(timeouts).toMatch(new RegExp(`^readonly TIMEOUT_MARGIN=${JOB_TIMEOUT_MARGIN_SEC}$`, "m"));
    // The fault tests shorten the grace; on a host it is 120 s, well inside the margin.
    const grace = Number(/^readonly TIMEOUT_KILL_AFTER=(\d+)$/m.exec(timeouts)?.[1]);
    expect(grace).toBe(120);
    expect(grace + 60).toBeLessThan(JOB_TIMEOUT_MARGIN_SEC);
  });

  it("cron runs a job without an outer flock (the run reports a held lock itself); the drill keeps its flock", () => {
    const cron = renderCronFiles(hostInput({ scheduler: "cron" }))[0].content;
    const line = (marker: string) => cron.split("\n").find((l) => /^[0-9*@]/.test(l) && l.includes(marker))!;
    expect(line("/nightly.cron.log")).not.toMatch(/flock/);
    expect(line("/nightly.restore-drill.cron.log")).toMatch(/flock -n '[^']*\/cron-nightly\.restore-drill\.lock'/);
  });
});

describe("sync needs a versioned bucket", () => {
  it("refuses a local target, pointing to local-snapshot", () => {
    const raw = rawConfig({ jobs: [{ name: "mirror", method: "sync", targets: ["offsite", "disk"] }] });
    expect(() => parseStackConfig(raw)).toThrow(ConfigError);
    try {
      parseStackConfig(raw);
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        { path: "hosts[0].jobs[0].targets[1]", message: 'method sync needs a versioned bucket (s3 or b2); "disk" is a local target, which keeps no history: use method local-snapshot for local targets' },
      ]);
    }
  });

  it("accepts s3 and b2 targets", () => {
    const raw = rawConfig({ jobs: [{ name: "mirror", method: "sync", targets: ["offsite"] }] });
    expect(parseStackConfig(raw).hosts[0].jobs[0].method).toBe("sync");
  });
});
