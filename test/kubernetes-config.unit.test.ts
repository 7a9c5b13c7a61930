/**
 * `openwebui:clusters`: what the config refuses before anything touches a cluster, each time
 * with the field and what is accepted; and the two cron dialects (CloudNativePG's six fields,
 * Kubernetes' five) read exactly, checked against cron-parser.
 */
import { CronExpressionParser } from "cron-parser";
import { parseStackConfig } from "../config";
import { cnpgScheduleProblem, kubernetesScheduleProblem, parseKubernetesCron, parseSecondsCron } from "../calendar/kubernetes-cron";
import { configProblemsUnder } from "./support/config-problems";
import { RawCluster, parsedCluster, rawCluster, rawStack } from "./support/k8s-plan";

const problems = (clusters: RawCluster[], extra: Record<string, unknown> = {}) =>
  configProblemsUnder(rawStack(clusters, extra), ["clusters", "hosts", "resticPassword", "targets"]).map((p) => `${p.path}: ${p.message}`);

describe("clusters config", () => {
  it("a cluster alone is a valid stack, with the pinned versions and safe defaults filled in", () => {
    const c = parsedCluster();
    expect(c).toMatchObject({
      namespace: "openwebui",
      operators: { install: true },
      openwebui: { chartVersion: "16.0.0", imageTag: "0.11.0", replicas: 1, ollama: { enabled: false }, pipelines: { enabled: false } },
      files: { provider: "s3" },
      postgres: { instances: 3, size: "20Gi" },
      backup: { target: "offsite", schedule: "0 0 3 * * *", retention: "30d" },
      restoreDrill: { enabled: true, schedule: "0 5 * * 0" },
    });
    expect(parseStackConfig(rawStack([rawCluster()])).hosts).toEqual([]);
  });

  it("the example from the issue parses as written", () => {
    const c = parsedCluster({
      kubeconfig: "apiVersion: v1\nkind: Config\n",
      namespace: "openwebui",
      operators: { install: true },
      openwebui: { chartVersion: "16.0.0", imageTag: "0.11.0", replicas: 2, host: "chat.example.com", ollama: { enabled: false } },
      files: { provider: "s3" },
      postgres: { instances: 3, size: "20Gi" },
      backup: { target: "offsite", schedule: "0 0 3 * * *", retention: "30d" },
      restoreDrill: { schedule: "0 5 * * 0" },
    });
    expect(c.openwebui.replicas).toBe(2);
    expect(parsedCluster({ files: { provider: "pvc", size: "50Gi", storageClass: "nfs-client", accessMode: "ReadWriteMany" }, openwebui: { replicas: 3 }, backup: { target: "offsite", files: { schedule: "15 * * * *" } } }).files).toEqual({
      provider: "pvc",
      size: "50Gi",
      storageClass: "nfs-client",
      accessMode: "ReadWriteMany",
    });
  });

  const table: [string, RawCluster[], Record<string, unknown>, string][] = [
    ["no hosts and no clusters", [], {}, "hosts: needs at least one host (or a Kubernetes cluster under clusters)"],
    [
      "replicas > 1 on a ReadWriteOnce volume",
      [rawCluster({ openwebui: { replicas: 2 }, files: { provider: "pvc" } })],
      {},
      "clusters[0].files.accessMode: is ReadWriteOnce, but clusters[0].openwebui.replicas is 2: every replica mounts the file volume, so it must be ReadWriteMany",
    ],
    ["a 5-field CloudNativePG cron", [rawCluster({ backup: { target: "offsite", schedule: "0 3 * * *" } })], {}, 'clusters[0].backup.schedule: "0 3 * * *" has 5 fields; CloudNativePG reads six fields, seconds first: "0 0 3 * * *"'],
    ["a 6-field drill cron", [rawCluster({ restoreDrill: { schedule: "0 0 5 * * 0" } })], {}, 'clusters[0].restoreDrill.schedule: "0 0 5 * * 0" has 6 fields; a Kubernetes CronJob reads five fields'],
    ["a 6-field k8up cron", [rawCluster({ files: { provider: "pvc" }, backup: { target: "offsite", files: { schedule: "0 15 * * * *" } } })], {}, "clusters[0].backup.files.schedule: \"0 15 * * * *\" has 6 fields"],
    ["a TZ= prefix", [rawCluster({ restoreDrill: { schedule: "TZ=Europe/Berlin 0 5 * * 0" } })], {}, "clusters[0].restoreDrill.schedule: \"TZ=Europe/Berlin 0 5 * * 0\": a TZ= prefix is refused by the Kubernetes API"],
    ["seconds out of range", [rawCluster({ backup: { target: "offsite", schedule: "75 0 3 * * *" } })], {}, 'clusters[0].backup.schedule: seconds field "75": second 75 is outside 0-59'],
    ["a b2 target", [rawCluster({ backup: { target: "b2" } })], {}, 'clusters[0].backup.target: "b2" is a b2 target; WAL archiving (barman-cloud) and the cluster\'s backups speak the S3 API. Declare the bucket as type: s3 with endpoint: https://s3.<region>.backblazeb2.com'],
    ["a local target", [rawCluster({ backup: { target: "nas" } })], {}, 'clusters[0].backup.target: "nas" is a local target'],
    ["an unknown target", [rawCluster({ backup: { target: "nope" } })], {}, 'clusters[0].backup.target: unknown target "nope"; s3 targets: offsite, minio'],
    [
      "pruning with an unmanaged key",
      [rawCluster({ backup: { target: "minio", retention: "30d" } })],
      {},
      'clusters[0].backup.retention: prunes from inside the cluster, but "minio" is not managed, so nothing shows its key cannot delete object versions',
    ],
    [
      "an unmanaged target without a key",
      [rawCluster({ backup: { target: "bare" } })],
      { targets: { bare: { type: "s3", bucket: "bare-bucket", region: "eu-central-1" } } },
      'clusters[0].backup.target: "bare" is not managed and has no accessKeyId/secretAccessKey',
    ],
    ["files on a volume without a restic password", [rawCluster({ files: { provider: "pvc" } })], { resticPassword: undefined }, "resticPassword: required because clusters[0] keeps files on a volume"],
    ["backup.files with files in S3", [rawCluster({ backup: { target: "offsite", files: { schedule: "15 * * * *" } } })], {}, "clusters[0].backup.files: only for files on a volume (files.provider: pvc)"],
    ["a TLS secret without a host", [rawCluster({ openwebui: { tlsSecret: "chat-tls" } })], {}, "clusters[0].openwebui.tlsSecret: needs clusters[0].openwebui.host"],
    ["a moving image tag", [rawCluster({ openwebui: { imageTag: "main" } })], {}, "clusters[0].openwebui.imageTag: must be a version tag such as \"0.11.0\"; latest, main, dev, cuda, ollama move"],
    ["a retention barman-cloud cannot read", [rawCluster({ backup: { target: "offsite", retention: "30" } })], {}, 'clusters[0].backup.retention: must be a number followed by d, w or m, such as "30d"'],
    ["a storage size typo", [rawCluster({ postgres: { size: "20GB" } })], {}, 'clusters[0].postgres.size: must be a storage size such as "20Gi"'],
    ["an unknown files provider", [rawCluster({ files: { provider: "nfs" } })], {}, "clusters[0].files.provider: expected { provider: s3 } or { provider: pvc, size, storageClass, accessMode }"],
    ["a typo in a key", [rawCluster({ openwebui: { replica: 2 } })], {}, 'clusters[0].openwebui: unknown key "replica"; accepted: chartVersion, imageTag, secretKey, replicas, host, ingressClassName, tlsSecret, ollama, pipelines; did you mean "replica" → "replicas"?'],
    ["two clusters in one namespace", [rawCluster(), rawCluster({ name: "staging", backup: { target: "minio" } })], {}, 'clusters[1].namespace: "openwebui" on the same Kubernetes cluster as clusters[0]'],
    ["duplicate cluster names", [rawCluster(), rawCluster({ namespace: "other" })], {}, 'clusters[1].name: duplicate cluster name "prod" (also clusters[0])'],
    [
      "a cluster writing where a host job writes",
      [rawCluster({ name: "web1", backup: { target: "offsite" } })],
      { hosts: [{ name: "web1", data: { dir: "/d" }, jobs: [{ name: "postgres", method: "restic", targets: ["offsite"], retention: { daily: 7 } }] }] },
      'clusters[0].backup.target: writes web1/postgres/ on target "offsite", where hosts[0].jobs[0] writes web1/postgres/',
    ],
    [
      "an archive storage class under the cluster's backups",
      [rawCluster()],
      { targets: { offsite: { type: "s3", bucket: "owb-backups", region: "eu-central-1", managed: { lifecycle: { transitionDays: 30, transitionStorageClass: "GLACIER" } } } } },
      "targets.offsite.managed.lifecycle.transitionStorageClass: GLACIER objects cannot be read without a restore request",
    ],
  ];

  it.each(table)("%s", (_name, clusters, extra, expected) => {
    expect(problems(clusters, extra)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  it("two clusters on one target in different prefixes and namespaces are fine", () => {
    expect(problems([rawCluster(), rawCluster({ name: "staging", namespace: "openwebui-staging" })])).toEqual([]);
  });

  it("replicas > 1 is fine with files in S3 or on a ReadWriteMany volume", () => {
    expect(problems([rawCluster({ openwebui: { replicas: 4 } })])).toEqual([]);
    expect(problems([rawCluster({ openwebui: { replicas: 4 }, files: { provider: "pvc", accessMode: "ReadWriteMany" } })])).toEqual([]);
  });
});

describe("cron dialects", () => {
  const start = new Date("2027-03-01T00:00:00Z");
  /** The next `n` run times by cron-parser (UTC). */
  const nextRuns = (expression: string, n: number) => {
    const it = CronExpressionParser.parse(expression, { currentDate: start, tz: "UTC" });
    return Array.from({ length: n }, () => it.next().toDate().toISOString());
  };
  /** The next `n` run times from our parsed spec, walking second by second over a few days. */
  const ourRuns = (spec: ReturnType<typeof parseSecondsCron>, n: number) => {
    const runs: string[] = [];
    for (let t = start.getTime() + 1000; runs.length < n && t < start.getTime() + 40 * 86_400_000; t += 1000) {
      const d = new Date(t);
      const dayOk = spec.days.includes(d.getUTCDate());
      const wdOk = spec.weekdays.includes(d.getUTCDay());
      if (
        spec.seconds.includes(d.getUTCSeconds()) &&
        spec.minutes.includes(d.getUTCMinutes()) &&
        spec.hours.includes(d.getUTCHours()) &&
        spec.months.includes(d.getUTCMonth() + 1) &&
        (spec.dayOrSemantics ? dayOk || wdOk : dayOk && wdOk)
      )
        runs.push(d.toISOString());
    }
    return runs;
  };

  it.each(["0 0 3 * * *", "30 */15 * * * *", "0 0 4 * * 1-5", "0,30 0 0 1 * *"])("six fields, seconds first: %s runs when cron-parser says", (expression) => {
    expect(ourRuns(parseSecondsCron(expression), 3)).toEqual(nextRuns(expression, 3));
  });

  it.each(["0 5 * * 0", "15 * * * *", "*/20 2-4 * * *", "@daily"])("five fields: %s runs when cron-parser says", (expression) => {
    expect(ourRuns(parseKubernetesCron(expression), 3)).toEqual(nextRuns(expression, 3));
  });

  it("names the other dialect's shape when the field count is wrong", () => {
    expect(cnpgScheduleProblem("0 3 * * *")).toMatch(/did you mean "0 0 3 \* \* \*"/);
    expect(kubernetesScheduleProblem("0 0 5 * * 0")).toMatch(/did you mean "0 5 \* \* 0"/);
    expect(cnpgScheduleProblem("@daily")).toMatch(/not an @ shorthand/);
    expect(cnpgScheduleProblem("0 0 3 * *  *")).toBeUndefined();
    expect(kubernetesScheduleProblem("0 5 * * 0")).toBeUndefined();
  });
});
