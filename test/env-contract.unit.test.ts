/**
 * The env file is a contract between two languages: the renderer writes it, the host
 * command's bash parts read it. Both sides are held here to the one declaration in
 * scripts/render/env-contract.ts, and the command's parts to the config's list of methods.
 */
import * as fs from "fs";
import * as path from "path";
import { JOB_METHODS, pruneScheduleOf } from "../config/schema";
import { BACKUP_COMMAND_PARTS, hostAsset } from "../scripts/render/assets";
import { HOST_SETTINGS, SettingScope, settingName } from "../scripts/render/env-contract";
import { renderStackFile } from "../scripts/cli/render-cli";

/** Every script installed on a host that sources the env file. */
const READERS = [...BACKUP_COMMAND_PARTS, "notify-failure.bash"];

interface SettingRead {
  readonly scope: SettingScope;
  readonly key: string;
  readonly where: string;
}

/**
 * The settings a bash text reads: direct host variables ($OWB_X, ${OWB_X:-}), the
 * accessors job_setting / target_setting / job_target_setting (with or without -v <var>) with a literal key, and
 * notify-failure's OWB_JOB_${job}_X. rclone's RCLONE_CONFIG_OWB_* are its own, not ours.
 */
export function settingsRead(text: string, where: string): SettingRead[] {
  const reads: SettingRead[] = [];
  const code = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");
  for (const m of code.matchAll(/(?<![A-Z_])OWB_([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Za-z0-9_*$])/g)) reads.push({ scope: "host", key: m[1], where });
  for (const m of code.matchAll(/OWB_JOB_\$\{[^}]*\}_([A-Z][A-Z0-9_]*)/g)) reads.push({ scope: "job", key: m[1], where });
  for (const m of code.matchAll(/\bjob_setting (?:-v \S+ )?([A-Z][A-Z0-9_]*)/g)) reads.push({ scope: "job", key: m[1], where });
  for (const m of code.matchAll(/\btarget_setting (?:-v \S+ )?"[^"]*" ([A-Z][A-Z0-9_]*)/g)) reads.push({ scope: "target", key: m[1], where });
  for (const m of code.matchAll(/\bjob_target_setting (?:-v \S+ )?"[^"]*" ([A-Z][A-Z0-9_]*)/g)) reads.push({ scope: "job-target", key: m[1], where });
  return reads;
}

const declared = (scope: SettingScope, key: string) => HOST_SETTINGS.some((s) => s.scope === scope && s.key === key);
const allReads = READERS.flatMap((file) => settingsRead(hostAsset(file), file));

describe("the env contract", () => {
  it("finds the reads it looks for (the scanner itself)", () => {
    const reads = settingsRead(
      'x=$OWB_HOST y=${OWB_LOCK_DIR:-} RCLONE_CONFIG_OWB_TYPE=s3 $(job_setting METHOD) $(target_setting "$t" BUCKET) $(job_target_setting "$1" LOCATION) OWB_JOB_${job//-/_}_HEALTHCHECK_URL\n# $OWB_IN_A_COMMENT\njob_setting -v limit TIMEOUT; target_setting -v type "$t" TYPE; job_target_setting -v "$2" "$1" PATH',
      "t",
    );
    expect(reads.map((r) => `${r.scope}:${r.key}`).sort()).toEqual([
      "host:HOST",
      "host:LOCK_DIR",
      "job-target:LOCATION",
      "job-target:PATH",
      "job:HEALTHCHECK_URL",
      "job:METHOD",
      "job:TIMEOUT",
      "target:BUCKET",
      "target:TYPE",
    ]);
  });

  it("declares every setting the host scripts read", () => {
    const undeclared = allReads.filter((r) => !declared(r.scope, r.key)).map((r) => `${r.where}: ${r.scope} ${r.key}`);
    expect(undeclared).toEqual([]);
  });

  it("declares nothing that no host script reads", () => {
    const unread = HOST_SETTINGS.filter((s) => !allReads.some((r) => r.scope === s.scope && r.key === s.key)).map((s) => `${s.scope} ${s.key}`);
    expect(unread).toEqual([]);
  });

  it("reads settings only through the declared forms: no name built at run time elsewhere", () => {
    const accessors = new Set(["setting", "job_setting", "target_setting", "job_target_setting"]);
    const dynamic: string[] = [];
    for (const file of BACKUP_COMMAND_PARTS) {
      let fn = "";
      for (const line of hostAsset(file).split("\n")) {
        const def = /^([a-z_]+)\(\) \{/.exec(line);
        if (def) fn = def[1];
        if (/\bsetting "[A-Z_]*\$/.test(line) && !accessors.has(fn)) dynamic.push(`${file}: ${line.trim()}`);
        const dynamicKey = /\bjob_setting (?:-v \S+ )?"?\$/.test(line) || /\b(job_)?target_setting (?:-v \S+ )?"[^"]*" "?\$/.test(line);
        if (dynamicKey && !accessors.has(fn)) dynamic.push(`${file}: ${line.trim()}`);
      }
    }
    expect(dynamic).toEqual([]);
  });

  // The example stacks between them use every method, every target type, cron and systemd.
  const examples = ["plan1.yaml", "plan2.yaml"].flatMap((file) =>
    renderStackFile(path.join(__dirname, "..", "examples", file), "example", {}).hosts.map((h) => [`${file} ${h.host}`, h] as const),
  );

  it.each(examples)("%s: the env file assigns only declared names and lists every required one that applies", (_label, rendered) => {
    const env = rendered.files.find((f) => f.path.endsWith("backup.env"))!;
    const assigned = [...env.content.matchAll(/^(OWB_[A-Za-z0-9_]+)=/gm)].map((m) => m[1]);
    const jobs = [...env.content.matchAll(/^OWB_JOB_([a-z0-9_]+)_METHOD=/gm)].map((m) => m[1]);
    const targetsOf = (job: string) => /^OWB_JOB_[a-z0-9_]+_TARGETS='([^']*)'$/m.exec(env.content.split("\n").filter((l) => l.startsWith(`OWB_JOB_${job}_TARGETS=`)).join("\n"))![1].split(" ");
    const namesFor = (required: boolean) => {
      const names: string[] = [];
      for (const s of HOST_SETTINGS.filter((x) => (required ? x.required && x.key !== "REQUIRED" : true))) {
        if (s.scope === "host") names.push(settingName(s.scope, s.key));
        for (const job of jobs) {
          if (s.scope === "job") names.push(settingName(s.scope, s.key, { job }));
          for (const target of targetsOf(job)) {
            if (s.scope === "target") names.push(settingName(s.scope, s.key, { target }));
            if (s.scope === "job-target") names.push(settingName(s.scope, s.key, { job, target }));
          }
        }
      }
      return [...new Set(names)].sort();
    };
    expect(jobs.length).toBeGreaterThan(0);
    expect(assigned.filter((n) => !namesFor(false).includes(n))).toEqual([]);
    const required = /^OWB_REQUIRED='([^']*)'$/m.exec(env.content)![1].split(" ");
    expect([...required].sort()).toEqual(namesFor(true));
    for (const name of required) expect(assigned).toContain(name);
  });
});

describe("the host command's parts", () => {
  it.each(JOB_METHODS.map((m) => [m]))("method %s has its own part defining ship_, list_, restore_ and manifest_", (method) => {
    const file = `backup/methods/${method}.bash`;
    expect(BACKUP_COMMAND_PARTS).toContain(file);
    const text = hostAsset(file);
    const fn = method.replace(/-/g, "_");
    for (const kind of ["ship", "list", "restore", "manifest"]) expect(text).toMatch(new RegExp(`^${kind}_${fn}\\(\\) \\{`, "m"));
  });

  it.each(JOB_METHODS.map((m) => [m]))("method %s defines prune_ unless it keeps no retention (sync)", (method) => {
    const fn = method.replace(/-/g, "_");
    const defines = new RegExp(`^prune_${fn}\\(\\) \\{`, "m").test(hostAsset(`backup/methods/${method}.bash`));
    expect(defines).toBe(pruneScheduleOf({ method }) !== undefined);
  });

  it("joins every part file, and each part defines functions only (main is called last)", () => {
    const dir = path.join(__dirname, "..", "scripts", "host");
    const onDisk = fs
      .readdirSync(path.join(dir, "backup"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".bash"))
      .map((f) => `backup/${f}`)
      .sort();
    expect([...BACKUP_COMMAND_PARTS].sort()).toEqual(onDisk);
    expect(BACKUP_COMMAND_PARTS[BACKUP_COMMAND_PARTS.length - 1]).toBe("backup/main.bash");
    expect(hostAsset("backup/main.bash").trimEnd().endsWith('main "$@"')).toBe(true);
  });
});
