/**
 * The config model: every bad value is refused before anything renders or deploys, with the
 * full field path and what is accepted; good configs get their defaults.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseStackConfig } from "../config";
import { configFromStackFile, secretEnvVarName, secretPlaceholder } from "../config/sources";

const base = () => ({
  targets: {
    "offsite-s3": { type: "s3", bucket: "my-backups", prefix: "web1", region: "eu-central-1", accessKeyId: "AKIA", secretAccessKey: "s3cret" },
    "offsite-b2": { type: "b2", bucket: "my-b2-backups", prefix: "web1", keyId: "k", applicationKey: "a" },
    nas: { type: "local", path: "/mnt/nas/open-webui" },
  },
  hosts: [
    {
      name: "web1",
      data: { dir: "/var/lib/open-webui/data" },
      containers: ["open-webui"],
      jobs: [
        { name: "nightly", method: "restic", targets: ["offsite-s3", "nas"], schedule: "*-*-* 03:00:00", retention: { daily: 7, weekly: 4, monthly: 6 }, consistency: "online" },
        { name: "weekly", method: "snapshot", targets: ["offsite-b2"], schedule: "Sun *-*-* 04:00:00", retention: { keep: 3 } },
      ],
    },
  ] as any[],
  resticPassword: "pw",
});

type Mutate = (c: ReturnType<typeof base>) => void;

/** Problems as `path: message` lines. */
function problemsOf(mutate: Mutate): string[] {
  const cfg = base();
  mutate(cfg);
  try {
    parseStackConfig(cfg);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe("a valid config", () => {
  it("parses, with defaults filled in", () => {
    const cfg = parseStackConfig(base());
    expect(cfg.hosts[0].jobs[1].consistency).toBe("online");
    expect(cfg.hosts[0].jobs[0].exclude).toEqual(["cache/", "audit.log"]);
    expect(cfg.hosts[0].paths.envFile).toBe("/etc/openwebui-backup/backup.env");
    expect(cfg.hosts[0].paths.command).toBe("/usr/local/sbin/openwebui-backup");
    expect(cfg.notify).toEqual({});
  });

  it("restic without any password: pulumi up generates one per host", () => {
    const raw = base() as any;
    delete raw.resticPassword;
    expect(parseStackConfig(raw).resticPassword).toBeUndefined();
  });
});

describe("bad configs are refused with the field path and what is accepted", () => {
  const table: [string, Mutate, string][] = [
    ["unknown target", (c) => (c.hosts[0].jobs[0].targets[1] = "nass"), 'hosts[0].jobs[0].targets[1]: unknown target "nass"; known: offsite-s3, offsite-b2, nas'],
    ["typo in a job key", (c) => (c.hosts[0].jobs[0].shedule = "daily"), 'hosts[0].jobs[0]: unknown key "shedule"; accepted: name, method, targets, schedule, pruneSchedule, retention, consistency, exclude'],
    ["typo at the top level", (c) => ((c as any).target = {}), 'unknown key "target"'],
    ["unknown method", (c) => (c.hosts[0].jobs[0].method = "borg"), "hosts[0].jobs[0].method: "],
    ["unknown consistency", (c) => (c.hosts[0].jobs[0].consistency = "freeze"), "hosts[0].jobs[0].consistency: "],
    ["unknown target type", (c) => ((c.targets as any).nas = { type: "ftp", path: "/x" }), 'targets.nas.type: expected one of "s3", "b2", "local"'],
    ["job name with a slash", (c) => (c.hosts[0].jobs[0].name = "night/ly"), "hosts[0].jobs[0].name: job name must be lowercase letters, digits and '-'"],
    ["job name with shell syntax", (c) => (c.hosts[0].jobs[0].name = "$(reboot)"), "hosts[0].jobs[0].name: job name must be"],
    ["host name with a space", (c) => (c.hosts[0].name = "web 1"), "hosts[0].name: host name must be"],
    ["target name with an underscore", (c) => ((c.targets as any).my_nas = { type: "local", path: "/x" }), "targets.my_nas: target names must be lowercase letters"],
    ["prefix with shell syntax", (c) => ((c.targets["offsite-s3"] as any).prefix = "web1/$(id)"), "targets.offsite-s3.prefix: must be path segments of A-Z a-z 0-9 . _ -"],
    ["prefix with a leading slash", (c) => ((c.targets["offsite-s3"] as any).prefix = "/web1"), "targets.offsite-s3.prefix: must be path segments"],
    ["local path relative", (c) => ((c.targets.nas as any).path = "mnt/nas"), "targets.nas.path: must be an absolute path without newlines"],
    ["local path with a newline", (c) => ((c.targets.nas as any).path = "/mnt/nas\n/etc"), "targets.nas.path: must be an absolute path without newlines"],
    ["local path with ..", (c) => ((c.targets.nas as any).path = "/mnt/../etc"), 'targets.nas.path: must be an absolute path without newlines and without ".." segments'],
    ["data dir relative", (c) => (c.hosts[0].data = { dir: "data" }), "hosts[0].data.dir: must be an absolute path"],
    ["bucket name with uppercase", (c) => ((c.targets["offsite-s3"] as any).bucket = "My_Backups"), "targets.offsite-s3.bucket: must be a bucket name"],
    ["s3 without bucket", (c) => delete (c.targets["offsite-s3"] as any).bucket, "targets.offsite-s3.bucket: required unless the target is managed"],
    ["s3 without region or endpoint", (c) => delete (c.targets["offsite-s3"] as any).region, "targets.offsite-s3.region: required unless endpoint is given"],
    ["s3 key id without secret", (c) => delete (c.targets["offsite-s3"] as any).secretAccessKey, "targets.offsite-s3.secretAccessKey: accessKeyId and secretAccessKey go together"],
    ["b2 without application key", (c) => delete (c.targets["offsite-b2"] as any).applicationKey, "targets.offsite-b2.applicationKey: required unless the target is managed"],
    ["endpoint with shell syntax", (c) => ((c.targets["offsite-s3"] as any).endpoint = "https://$(id).example.org"), "targets.offsite-s3.endpoint: must not contain whitespace, quotes, backticks"],
    ["endpoint not http", (c) => ((c.targets["offsite-s3"] as any).endpoint = "ftp://example.org"), "targets.offsite-s3.endpoint: must be an http:// or https:// URL"],
    ["webhook with a quote", (c) => ((c as any).notify = { webhookUrl: "https://example.org/a'b" }), "notify.webhookUrl: must not contain whitespace, quotes"],
    ["negative retention", (c) => (c.hosts[0].jobs[0].retention.daily = -1), "hosts[0].jobs[0].retention.daily: "],
    ["fractional retention", (c) => (c.hosts[0].jobs[0].retention.daily = 1.5), "hosts[0].jobs[0].retention.daily: "],
    ["typo in retention", (c) => (c.hosts[0].jobs[0].retention.dayly = 7), 'hosts[0].jobs[0].retention: unknown key "dayly"; accepted: keep, hourly, daily, weekly, monthly, yearly'],
    ["snapshot without keep", (c) => (c.hosts[0].jobs[1].retention = { daily: 3 }), "hosts[0].jobs[1].retention.keep: required for method snapshot"],
    ["snapshot with calendar retention", (c) => (c.hosts[0].jobs[1].retention = { keep: 3, weekly: 2 }), "hosts[0].jobs[1].retention.weekly: method snapshot accepts only keep"],
    ["restic without retention", (c) => (c.hosts[0].jobs[0].retention = {}), "hosts[0].jobs[0].retention: method restic needs at least one of keep, hourly, daily, weekly, monthly, yearly"],
    ["a host password on a host without restic", (c) => ((c.hosts[0].resticPassword = "mine"), (c.hosts[0].jobs = [c.hosts[0].jobs[1]])), 'hosts[0].resticPassword: host "web1" has no restic job to use it'],
    ["an empty host password", (c) => (c.hosts[0].resticPassword = ""), "hosts[0].resticPassword: must not be empty"],
    ["no targets in a job", (c) => (c.hosts[0].jobs[0].targets = []), "hosts[0].jobs[0].targets: needs at least one target"],
    ["a target listed twice", (c) => (c.hosts[0].jobs[0].targets = ["nas", "nas"]), "hosts[0].jobs[0].targets: lists a target twice"],
    ["duplicate job names", (c) => (c.hosts[0].jobs[1].name = "nightly"), 'hosts[0].jobs[1].name: duplicate job name "nightly" on host "web1"'],
    ["duplicate host names", (c) => c.hosts.push({ ...c.hosts[0], jobs: [] }), 'hosts[1].name: duplicate host name "web1"'],
    ["pause without containers", (c) => ((c.hosts[0].containers = []), (c.hosts[0].jobs[0].consistency = "pause")), 'hosts[0].jobs[0].consistency: "pause" needs hosts[0].containers'],
    ["container name with shell syntax", (c) => (c.hosts[0].containers = ["open-webui;reboot"]), "hosts[0].containers[0]: must be a Docker container name"],
    ["exclude escaping the data dir", (c) => (c.hosts[0].jobs[0].exclude = ["../etc"]), "hosts[0].jobs[0].exclude[0]: "],
    ["exclude with a space", (c) => (c.hosts[0].jobs[0].exclude = ["my cache"]), "hosts[0].jobs[0].exclude[0]: must be a path relative to the data directory"],
    ["no hosts", (c) => (c.hosts = []), "hosts: needs at least one host"],
    [
      "a path systemd cannot hold, on a systemd host",
      (c) => ((c.targets.nas as any).path = "/mnt/nas/$(x)"),
      "targets.nas.path: cannot be written into a systemd unit: no quotes, '\\', '$' or control characters (or use scheduler: cron); host \"web1\" uses systemd",
    ],
    [
      "two hosts writing one location",
      (c) => c.hosts.push({ name: "web2", data: { dir: "/d" }, jobs: [{ name: "nightly", method: "restic", targets: ["offsite-s3"], retention: { daily: 1 } }] }),
      'hosts[1].jobs[0].targets[0]: writes to the same location on target "offsite-s3" as hosts[0].jobs[0]',
    ],
  ];

  it.each(table)("%s", (_name, mutate, expected) => {
    const problems = problemsOf(mutate);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  it("lists every problem at once, not only the first", () => {
    const problems = problemsOf((c) => {
      c.hosts[0].jobs[0].targets[1] = "nass";
      c.hosts[0].jobs[1].retention = { daily: 3 };
    });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringContaining('unknown target "nass"'), expect.stringContaining("hosts[0].jobs[1].retention.keep: required")]),
    );
  });

  it("two hosts may share a target when their locations differ", () => {
    expect(
      problemsOf((c) => c.hosts.push({ name: "web2", data: { dir: "/d" }, jobs: [{ name: "nightly", method: "restic", targets: ["nas"], retention: { daily: 1 } }] })),
    ).toEqual([]);
  });
});

describe("stack files read without the engine (render CLI)", () => {
  const write = (text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-stack-"));
    const file = path.join(dir, "Pulumi.test.yaml");
    fs.writeFileSync(file, text);
    return file;
  };
  const stack = `config:
  aws:region: eu-central-1
  openwebui:targets:
    offsite: { type: s3, bucket: b-1, region: eu-central-1, accessKeyId: AKIA, secretAccessKey: { secure: v1:abc } }
  openwebui:hosts:
    - name: web1
      data: { dir: /srv/data }
      jobs: [ { name: nightly, method: restic, targets: [offsite], retention: { daily: 7 } } ]
  openwebui:resticPassword: { secure: v1:def }
`;

  it("takes encrypted values from environment variables named after their path", () => {
    expect(secretEnvVarName("targets.offsite.secretAccessKey")).toBe("OPENWEBUI_TARGETS_OFFSITE_SECRETACCESSKEY");
    const { config, placeholders } = configFromStackFile(write(stack), {
      OPENWEBUI_TARGETS_OFFSITE_SECRETACCESSKEY: "from-env",
      OPENWEBUI_RESTICPASSWORD: "pw-from-env",
    });
    expect(placeholders).toEqual([]);
    expect(config.targets.offsite).toMatchObject({ secretAccessKey: "from-env" });
    expect(config.resticPassword).toBe("pw-from-env");
  });

  it("renders a marked placeholder, and says which variable would supply it, when the variable is unset", () => {
    const { config, placeholders } = configFromStackFile(write(stack), {});
    expect(placeholders).toEqual([
      { path: "targets.offsite.secretAccessKey", envVar: "OPENWEBUI_TARGETS_OFFSITE_SECRETACCESSKEY" },
      { path: "resticPassword", envVar: "OPENWEBUI_RESTICPASSWORD" },
    ]);
    expect(config.resticPassword).toBe(secretPlaceholder("resticPassword"));
  });

  it("refuses a misspelt openwebui key and ignores other namespaces", () => {
    expect(() => configFromStackFile(write(stack.replace("openwebui:hosts", "openwebui:host")), {})).toThrow(/unknown key "host"/);
  });
});
