/**
 * Open WebUI on PostgreSQL with its files in S3, as configured and as deployed: config errors
 * name the field, the pure planning functions, and under Pulumi mocks the database container,
 * its volume and health dependency, the secret DATABASE_URL and password, the storage env vars,
 * a managed storage target's bucket rules and the key scoped to the prefix, and what reaches the
 * backup command's env file. pgvector (`vectors: true`) is tested only here: Debian 12 has no
 * pgvector package to run it against.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../config";
import { postgresUrlProblem } from "../config/database";
import { openwebuiEnv, postgresDataPath, stackDatabaseUrl, storageEnv } from "../components/openwebui-stack";
import { s3FileStoreLifecycleRules, s3FileStorePolicy } from "../components/s3-backup-bucket";
import { deployOpenWebUIStacks, deployStack, stackOutputs } from "../program/deploy";
import { renderBackupCommand, renderBackupEnv } from "../scripts/render/backup";
import { hostAsset } from "../scripts/render/assets";
import { renderHostFiles } from "../scripts/render/host-files";
import { extraPackageCommands } from "../scripts/render/installer";
import { plainObjectStorage, plainTargets } from "../scripts/render/plain-targets";
import { awsLookupMock, isSecret, promiseOf, registered, resourcesOfType, unwrapInput } from "./support/pulumi-mocks";

const OWUI = "ghcr.io/open-webui/open-webui:v0.6.5";
const PG_IMAGE = "postgres:16.4";
const URL_SECRET = "postgresql://webui:s3cr%40t@db.example.org:5432/openwebui?sslmode=require";

const T = {
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  image: "docker:index/remoteImage:RemoteImage",
  password: "random:index/randomPassword:RandomPassword",
  user: "aws:iam/user:User",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  accessKey: "aws:iam/accessKey:AccessKey",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  localCommand: "command:local:Command",
};

const S3_FILES = { type: "s3", bucket: "owui-files", region: "eu-central-1", accessKeyId: "AKIAFILES", secretAccessKey: "files-secret" };

function raw(openwebui: Record<string, unknown> = {}, host: Record<string, unknown> = {}, targets: Record<string, unknown> = { files: S3_FILES }) {
  return { targets, hosts: [{ name: "box", openwebui: { image: OWUI, preUpgradeBackup: false, ...openwebui }, ...host }] };
}

function problemsOf(config: unknown): { path: string; message: string }[] {
  try {
    parseStackConfig(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected the config to be refused");
}

// ---------------------------------------------------------------- config

describe("config: bad database and storage settings name the field and what is accepted", () => {
  const db = (postgres: unknown) => raw({ database: { postgres } });
  test.each<[string, unknown, string, string | RegExp]>([
    ["postgres with neither image nor url", db({}), "hosts[0].openwebui.database.postgres", "expected image (the stack runs PostgreSQL) or url (a server it does not run)"],
    ["postgres with both", db({ image: PG_IMAGE, url: URL_SECRET }), "hosts[0].openwebui.database.postgres.url", "give either image (the stack runs PostgreSQL) or url (a server it does not run), not both"],
    ["an unpinned postgres image", db({ image: "postgres:latest" }), "hosts[0].openwebui.database.postgres.image", /^the tag "latest" is not a pin/],
    ["an http URL", db({ url: "http://db/openwebui" }), "hosts[0].openwebui.database.postgres.url", /^must be a PostgreSQL URL such as .* \(postgresql:\/\/ or postgres:\/\/\)$/],
    ["a URL without a database", db({ url: "postgresql://u:p@db:5432/" }), "hosts[0].openwebui.database.postgres.url", /it names no database/],
    ["a URL without a user", db({ url: "postgresql://db/openwebui" }), "hosts[0].openwebui.database.postgres.url", /it names no user/],
    ["a URL with another parameter", db({ url: "postgresql://u:p@db/openwebui?connect_timeout=5" }), "hosts[0].openwebui.database.postgres.url", /the parameter "connect_timeout" is not supported \(only sslmode\)/],
    ["a bad sslmode", db({ url: "postgresql://u:p@db/openwebui?sslmode=maybe" }), "hosts[0].openwebui.database.postgres.url", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"],
    ["vectors not a boolean", db({ image: PG_IMAGE, vectors: "yes" }), "hosts[0].openwebui.database.postgres.vectors", /expected boolean/],
    ["an unknown database key", raw({ database: { mysql: {} } }), "hosts[0].openwebui.database", /^unknown key "mysql"; accepted: postgres$/],
    ["storage on an unknown target", raw({ storage: { s3: { target: "nope" } } }), "hosts[0].openwebui.storage.s3.target", 'unknown target "nope"; known: files'],
    ["storage on a local target", raw({ storage: { s3: { target: "nas" } } }, {}, { nas: { type: "local", path: "/mnt/nas" } }), "hosts[0].openwebui.storage.s3.target", 'must name an s3 target; "nas" is a local target'],
    ["a storage prefix with a leading '/'", raw({ storage: { s3: { target: "files", prefix: "/files" } } }), "hosts[0].openwebui.storage.s3.prefix", /^must be path segments/],
    [
      "a storage prefix inside a backup location",
      raw({ storage: { s3: { target: "files", prefix: "box/nightly/files" } } }, { jobs: [{ name: "nightly", method: "snapshot", targets: ["files"], retention: { keep: 2 } }] }),
      "hosts[0].openwebui.storage.s3.prefix",
      '"box/nightly/files" overlaps the backup location "box/nightly" of hosts[0].jobs[0] on target "files"; Open WebUI\'s files and the backups must not share a prefix',
    ],
    ["DATABASE_URL in env beside database", raw({ database: { postgres: { image: PG_IMAGE } }, env: { DATABASE_URL: "x" } }), "hosts[0].openwebui.env.DATABASE_URL", "is set by the stack from hosts[0].openwebui.database"],
    [
      "DATABASE_URL in env without database",
      raw({ env: { DATABASE_URL: "postgresql://u:p@db/x" } }),
      "hosts[0].openwebui.env.DATABASE_URL",
      "would keep Open WebUI's database out of the backups (a data-directory backup misses every chat); use hosts[0].openwebui.database.postgres.url (a secret) instead",
    ],
    ["VECTOR_DB=pgvector without database", raw({ env: { VECTOR_DB: "pgvector" } }), "hosts[0].openwebui.env.VECTOR_DB", "would keep the vectors out of the backups; use hosts[0].openwebui.database.postgres.vectors: true instead"],
    [
      "STORAGE_PROVIDER=s3 in env without storage",
      raw({ env: { STORAGE_PROVIDER: "s3" } }),
      "hosts[0].openwebui.env.STORAGE_PROVIDER",
      "would keep Open WebUI's files out of the backups; use hosts[0].openwebui.storage.s3 (the only object storage the backups copy) or leave it unset (files in the data directory)",
    ],
    ["S3_BUCKET_NAME in env beside storage", raw({ storage: { s3: { target: "files" } }, env: { S3_BUCKET_NAME: "x" } }), "hosts[0].openwebui.env.S3_BUCKET_NAME", "is set by the stack from hosts[0].openwebui.storage"],
    [
      "host database disagreeing with the stack's",
      raw({ database: { postgres: { image: PG_IMAGE } } }, { database: { postgres: { container: "pg", user: "openwebui", database: "openwebui" } } }),
      "hosts[0].database",
      "is { postgres: { container: pg, user: openwebui, database: openwebui } } but the Open WebUI stack's database is { postgres: { container: open-webui-db, user: openwebui, database: openwebui } }; remove hosts[0].database (it is derived from hosts[0].openwebui.database) or make them the same",
    ],
    ["host database while the stack runs SQLite", raw({}, { database: { postgres: { url: URL_SECRET } } }), "hosts[0].database", "is set, but the Open WebUI stack keeps its database in SQLite (hosts[0].openwebui.database is absent); set hosts[0].openwebui.database instead"],
    [
      "the database container among the paused ones",
      raw({ database: { postgres: { image: PG_IMAGE } } }, { containers: ["open-webui", "open-webui-db"] }),
      "hosts[0].containers",
      'must not include "open-webui-db", the database container: backups dump it while it runs, and pausing or stopping it would stop the dump',
    ],
    ["host database: container without user", { hosts: [{ name: "h", data: { dir: "/d" }, database: { postgres: { container: "pg", database: "x" } } }] }, "hosts[0].database.postgres.user", "required with container (the role pg_dump connects as)"],
    ["host database: url and container", { hosts: [{ name: "h", data: { dir: "/d" }, database: { postgres: { url: URL_SECRET, container: "pg" } } }] }, "hosts[0].database.postgres.container", "give either url or container (with user and database), not both"],
    ["host database: nothing", { hosts: [{ name: "h", data: { dir: "/d" }, database: { postgres: {} } }] }, "hosts[0].database.postgres", "expected { url: postgresql://… } or { container, user, database }"],
    ["host database: a bad role name", { hosts: [{ name: "h", data: { dir: "/d" }, database: { postgres: { container: "pg", user: "a b", database: "x" } } }] }, "hosts[0].database.postgres.user", /^must be a PostgreSQL role name/],
  ])("%s", (_what, config, wantPath, wantMessage) => {
    const atPath = problemsOf(config).filter((p) => p.path === wantPath);
    expect(atPath).toHaveLength(1);
    if (typeof wantMessage === "string") expect(atPath[0].message).toBe(wantMessage);
    else expect(atPath[0].message).toMatch(wantMessage);
  });

  test("accepted URLs: IPv6, no port, percent-encoded password; an unrendered secret passes", () => {
    for (const u of ["postgresql://u:p@[2001:db8::1]:5432/db", "postgres://u@db/openwebui", URL_SECRET]) expect(postgresUrlProblem(u)).toBeUndefined();
    expect(parseStackConfig(raw({ database: { postgres: { url: "UNRENDERED-PULUMI-SECRET(hosts[0].openwebui.database.postgres.url)" } } })).hosts[0].database).toEqual({
      postgres: { url: "UNRENDERED-PULUMI-SECRET(hosts[0].openwebui.database.postgres.url)" },
    });
  });
});

describe("config: what is derived", () => {
  test("absent database and storage: SQLite and files in the data volume, as before", () => {
    const host = parseStackConfig(raw()).hosts[0];
    expect(host.database).toBeUndefined();
    expect(host.openwebui?.database).toBeUndefined();
    expect(host.openwebui?.storage).toBeUndefined();
  });

  test.each([
    ["image: the stack's container, role and database", { image: PG_IMAGE }, { postgres: { container: "open-webui-db", user: "openwebui", database: "openwebui" } }],
    ["url: the URL", { url: URL_SECRET }, { postgres: { url: URL_SECRET } }],
  ])("hosts[].database from openwebui.database, %s", (_what, postgres, want) => {
    expect(parseStackConfig(raw({ database: { postgres } })).hosts[0].database).toEqual(want);
    // Given both ways and equal: accepted.
    expect(parseStackConfig(raw({ database: { postgres } }, { database: want })).hosts[0].database).toEqual(want);
  });

  test("storage: the prefix loses a trailing '/', and defaults to openwebui-files", () => {
    expect(parseStackConfig(raw({ storage: { s3: { target: "files", prefix: "owui/files/" } } })).hosts[0].openwebui?.storage).toEqual({ s3: { target: "files", prefix: "owui/files" } });
    expect(parseStackConfig(raw({ storage: { s3: { target: "files" } } })).hosts[0].openwebui?.storage?.s3.prefix).toBe("openwebui-files");
  });
});

// ---------------------------------------------------------------- planning

describe("planning", () => {
  test.each([
    ["postgres:16.4", "/var/lib/postgresql/data"],
    ["postgres:17-bookworm", "/var/lib/postgresql/data"],
    [`postgres:16.4@sha256:${"a".repeat(64)}`, "/var/lib/postgresql/data"],
    ["pgvector/pgvector:pg16", "/var/lib/postgresql/data"],
    ["postgres:18.1", "/var/lib/postgresql"],
    ["pgvector/pgvector:pg18-trixie", "/var/lib/postgresql"],
    ["registry.example.org:5000/postgres:16", "/var/lib/postgresql/data"],
  ])("postgresDataPath(%s) = %s", (image, want) => {
    expect(postgresDataPath(image)).toBe(want);
  });

  test("stackDatabaseUrl: the container by name on the stack network, the password escaped", () => {
    expect(stackDatabaseUrl("abc123")).toBe("postgresql://openwebui:abc123@open-webui-db:5432/openwebui");
    expect(stackDatabaseUrl("a/b@c")).toBe("postgresql://openwebui:a%2Fb%40c@open-webui-db:5432/openwebui");
  });

  test("openwebuiEnv: DATABASE_URL, VECTOR_DB only with vectors, the S3 variables; sorted", () => {
    const service = (database: unknown) => parseStackConfig(raw({ database, storage: { s3: { target: "files" } } })).hosts[0].openwebui!;
    const storage = { bucket: "b", prefix: "openwebui-files", region: "eu-central-1", accessKeyId: "AK", secretAccessKey: "SK" };
    expect(openwebuiEnv(service({ postgres: { image: PG_IMAGE } }), "k", { databaseUrl: "postgresql://x", storage })).toEqual([
      "DATABASE_URL=postgresql://x",
      "S3_ACCESS_KEY_ID=AK",
      "S3_BUCKET_NAME=b",
      "S3_KEY_PREFIX=openwebui-files",
      "S3_REGION_NAME=eu-central-1",
      "S3_SECRET_ACCESS_KEY=SK",
      "STORAGE_PROVIDER=s3",
      "WEBUI_SECRET_KEY=k",
    ]);
    expect(openwebuiEnv(service({ postgres: { image: "pgvector/pgvector:pg16", vectors: true } }), "k", { databaseUrl: "postgresql://x" })).toEqual([
      "DATABASE_URL=postgresql://x",
      "VECTOR_DB=pgvector",
      "WEBUI_SECRET_KEY=k",
    ]);
  });

  test("storageEnv: an endpoint for S3-compatible servers; no key means ambient credentials", () => {
    expect(storageEnv({ bucket: "b", prefix: "p", endpoint: "https://s3.example.org" })).toEqual({ STORAGE_PROVIDER: "s3", S3_BUCKET_NAME: "b", S3_KEY_PREFIX: "p", S3_ENDPOINT_URL: "https://s3.example.org" });
  });

  test("s3FileStorePolicy: list, read, write and delete under the prefix, nothing else", () => {
    const policy = s3FileStorePolicy({ bucketArn: "arn:aws:s3:::owui", prefix: "openwebui-files" });
    expect(policy.Statement).toEqual([
      { Sid: "ListFilePrefix", Effect: "Allow", Action: ["s3:ListBucket"], Resource: "arn:aws:s3:::owui", Condition: { StringLike: { "s3:prefix": ["openwebui-files", "openwebui-files/*"] } } },
      { Sid: "FindBucketRegion", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: "arn:aws:s3:::owui" },
      { Sid: "ReadWriteDeleteFiles", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: "arn:aws:s3:::owui/openwebui-files/*" },
    ]);
  });

  test("s3FileStoreLifecycleRules: deleted files recoverable for the undo window, current ones never expire", () => {
    expect(s3FileStoreLifecycleRules(["openwebui-files"], { noncurrentDays: 45, transitionDays: 30, expirationDays: 90 })).toEqual([
      {
        id: "files-openwebui-files",
        status: "Enabled",
        filter: { prefix: "openwebui-files/" },
        expiration: { expiredObjectDeleteMarker: true },
        noncurrentVersionExpiration: { noncurrentDays: 45 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ]);
  });
});

// ---------------------------------------------------------------- under mocks

function mockProgram(passwords: Record<string, string> = {}) {
  registered.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = `${args.name}-id`;
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, id });
        const extra: Record<string, unknown> = {};
        if (args.type === T.image) Object.assign(extra, { imageId: `sha256:id-of-${args.inputs.name}` });
        if (args.type === T.password) Object.assign(extra, { result: passwords[args.name] ?? `state-of-${args.name}` });
        if (args.type === T.accessKey) Object.assign(extra, { secret: `secret-of-${args.name}` });
        if (args.type === "aws:s3/bucket:Bucket") Object.assign(extra, { bucket: `${args.name}-generated`, arn: `arn:aws:s3:::${args.name}-generated` });
        return { id, state: { ...args.inputs, ...extra } };
      },
      call: awsLookupMock,
    },
    "openwebui",
    "test",
    false,
  );
}

/** Waits until every resource of a mocked program is registered. */
const settle = () => new Promise((r) => setTimeout(r, 50));

const containerNamed = (name: string) => {
  const found = resourcesOfType(T.container).filter((r) => r.inputs.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};

/** The env file inside an installer (its payload is base64 per file). */
function envFileOf(installer: string): string {
  const m = /# \/etc\/openwebui-backup\/backup\.env\n\s*base64 -d <<'OPENWEBUI_PAYLOAD'\n([\s\S]*?)\nOPENWEBUI_PAYLOAD/.exec(installer);
  if (!m) throw new Error("no env file in the installer");
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64").toString("utf8");
}

describe("the stack's PostgreSQL under mocks", () => {
  test("image: container open-webui-db with a retained volume, pg_isready health, no port; a secret generated password; Open WebUI waits for it", async () => {
    mockProgram({ "openwebui-box-db-password": "pw-from-state" });
    const cfg = parseStackConfig(raw({ database: { postgres: { image: PG_IMAGE } } }));
    const stack = deployOpenWebUIStacks(cfg).box;
    const envs = await promiseOf(stack.openwebuiContainer.envs as pulumi.Output<string[]>);
    await settle();

    const db = containerNamed("open-webui-db");
    expect(db.inputs.image).toBe(`sha256:id-of-${PG_IMAGE}`);
    expect(db.inputs.ports).toBeUndefined();
    expect(db.inputs.restart).toBe("unless-stopped");
    expect(db.inputs.healthcheck.tests).toEqual(["CMD", "pg_isready", "-U", "openwebui", "-d", "openwebui"]);
    expect(db.inputs.wait).toBe(true);
    expect(db.inputs.networksAdvanced).toEqual([{ name: "openwebui", aliases: ["open-webui-db"] }]);
    expect(db.inputs.volumes).toEqual([{ containerPath: "/var/lib/postgresql/data", volumeName: "open-webui-db" }]);
    expect(db.inputs.labels).toContainEqual({ label: "openwebui.backup", value: "database" });
    const dbEnvs = unwrapInput(db.inputs.envs);
    expect(dbEnvs).toEqual({ secret: true, value: ["POSTGRES_DB=openwebui", "POSTGRES_PASSWORD=pw-from-state", "POSTGRES_USER=openwebui"] });

    const volume = resourcesOfType(T.volume).find((v) => v.inputs.name === "open-webui-db")!;
    expect(volume.name).toBe("openwebui-box-db-data");
    const password = resourcesOfType(T.password).find((p) => p.name === "openwebui-box-db-password")!;
    expect(password.inputs).toMatchObject({ length: 32, special: false });

    expect(envs).toContain("DATABASE_URL=postgresql://openwebui:pw-from-state@open-webui-db:5432/openwebui");
    expect(envs.some((e) => e.startsWith("VECTOR_DB="))).toBe(false);
    expect(unwrapInput(containerNamed("open-webui").inputs.envs).secret).toBe(true);
    expect(await isSecret(stack.databasePassword!)).toBe(true);
    expect(await promiseOf(stack.databasePassword!)).toBe("pw-from-state");
  });

  test("image: the volume is retained on delete and Open WebUI depends on the (healthy) database container", async () => {
    const captured = new Map<string, pulumi.CustomResourceOptions>();
    mockProgram();
    const cfg = parseStackConfig(raw({ database: { postgres: { image: PG_IMAGE, vectors: true } } }));
    class Root extends pulumi.ComponentResource {
      constructor() {
        super("test:index:Root", "root", {}, { transformations: [(a) => (captured.set(a.name, a.opts), undefined)] });
      }
    }
    const stack = deployOpenWebUIStacks(cfg, { parent: new Root() }).box;
    const envs = await promiseOf(stack.openwebuiContainer.envs as pulumi.Output<string[]>);
    await settle();
    expect(captured.get("openwebui-box-db-data")?.retainOnDelete).toBe(true);
    expect(captured.get("openwebui-box-openwebui")?.dependsOn).toContain(stack.databaseContainer);
    expect(captured.get("openwebui-box-db")?.additionalSecretOutputs).toContain("envs");
    expect(captured.get("openwebui-box-db")?.deleteBeforeReplace).toBe(true);
    // pgvector in the same database: only the switch; PGVECTOR_DB_URL defaults to DATABASE_URL.
    expect(envs).toContain("VECTOR_DB=pgvector");
    expect(envs.some((e) => e.startsWith("PGVECTOR_DB_URL="))).toBe(false);
  });

  test("url: no database container or password, DATABASE_URL is the configured URL, kept secret", async () => {
    mockProgram();
    const stack = deployOpenWebUIStacks(parseStackConfig(raw({ database: { postgres: { url: URL_SECRET } } }))).box;
    const envs = await promiseOf(stack.openwebuiContainer.envs as pulumi.Output<string[]>);
    await settle();
    expect(resourcesOfType(T.container).map((c) => c.inputs.name)).toEqual(["open-webui"]);
    expect(resourcesOfType(T.password).map((p) => p.name)).toEqual(["openwebui-box-secret-key"]);
    expect(envs).toContain(`DATABASE_URL=${URL_SECRET}`);
    expect(unwrapInput(containerNamed("open-webui").inputs.envs).secret).toBe(true);
    expect(stack.databasePassword).toBeUndefined();
  });

  test("unmanaged storage target: the S3 variables from the target, its key", async () => {
    mockProgram();
    const stack = deployOpenWebUIStacks(parseStackConfig(raw({ storage: { s3: { target: "files", prefix: "owui/files/" } } }))).box;
    const envs = await promiseOf(stack.openwebuiContainer.envs as pulumi.Output<string[]>);
    expect(envs).toEqual(
      expect.arrayContaining([
        "STORAGE_PROVIDER=s3",
        "S3_BUCKET_NAME=owui-files",
        "S3_KEY_PREFIX=owui/files",
        "S3_REGION_NAME=eu-central-1",
        "S3_ACCESS_KEY_ID=AKIAFILES",
        "S3_SECRET_ACCESS_KEY=files-secret",
      ]),
    );
  });
});

describe("deployStack: a managed storage target, the stack's database, and the backups", () => {
  const managedConfig = () =>
    parseStackConfig({
      targets: { files: { type: "s3", region: "eu-central-1", managed: { lifecycle: { noncurrentDays: 60 } } }, nas: { type: "local", path: "/mnt/nas" } },
      hosts: [
        {
          name: "box",
          openwebui: { image: OWUI, preUpgradeBackup: false, database: { postgres: { image: PG_IMAGE } }, storage: { s3: { target: "files", prefix: "openwebui-files" } } },
          jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 7 } }],
        },
      ],
    });

  test("the bucket gets a files lifecycle rule and a key for Open WebUI that reaches only the prefix; Open WebUI and the backups use it", async () => {
    mockProgram({ "openwebui-box-db-password": "pw-from-state" });
    const d = deployStack(managedConfig(), { stack: "test" });
    const stack = d.hosts.box.openwebui!;
    const envs = await promiseOf(stack.openwebuiContainer.envs as pulumi.Output<string[]>);
    const installer = await promiseOf(d.hosts.box.backupJobs!.install.stdin as pulumi.Output<string>);
    await settle();

    // One IAM user for the files, with a policy scoped to the prefix.
    const fileUser = resourcesOfType(T.user).filter((u) => u.name === "files-box.files");
    expect(fileUser).toHaveLength(1);
    expect(fileUser[0].inputs.tags).toMatchObject({ "openwebui:purpose": "files" });
    const policy = JSON.parse(resourcesOfType(T.userPolicy).find((p) => p.name === "files-box.files")!.inputs.policy);
    expect(policy).toEqual(s3FileStorePolicy({ bucketArn: "arn:aws:s3:::files-bucket-generated", prefix: "openwebui-files" }));
    // A bucket that only holds files: their rule alone, with the configured undo window.
    const rules = resourcesOfType(T.lifecycle)[0].inputs.rules;
    expect(rules).toEqual([expect.objectContaining({ id: "files-openwebui-files", filter: { prefix: "openwebui-files/" }, noncurrentVersionExpiration: { noncurrentDays: 60 } })]);

    expect(envs).toEqual(
      expect.arrayContaining(["S3_BUCKET_NAME=files-bucket-generated", "S3_ACCESS_KEY_ID=files-box.files-id", "S3_SECRET_ACCESS_KEY=secret-of-files-box.files", "S3_KEY_PREFIX=openwebui-files"]),
    );
    expect(unwrapInput(containerNamed("open-webui").inputs.envs).secret).toBe(true);

    // The backup command's env file: the container to dump, its password, and the files' key.
    const env = envFileOf(installer);
    expect(env).toMatch(/^OWB_DATABASE_CONTAINER='open-webui-db'$/m);
    expect(env).toMatch(/^OWB_DATABASE_USER='openwebui'$/m);
    expect(env).toMatch(/^OWB_DATABASE_PASSWORD='pw-from-state'$/m);
    expect(env).toMatch(/^OWB_STORAGE_BUCKET='files-bucket-generated'$/m);
    expect(env).toMatch(/^OWB_STORAGE_ACCESS_KEY_ID='files-box.files-id'$/m);
    expect(env).toMatch(/^OWB_STORAGE_SECRET_ACCESS_KEY='secret-of-files-box.files'$/m);
    expect(await isSecret(d.hosts.box.backupJobs!.install.stdin as pulumi.Output<string>)).toBe(true);

    // The password is a secret stack output, by host.
    const outputs = stackOutputs(d);
    expect(Object.keys(outputs.openwebuiDatabasePasswords)).toEqual(["box"]);
    expect(await isSecret(outputs.openwebuiDatabasePasswords.box)).toBe(true);
    expect(await promiseOf(outputs.openwebuiDatabasePasswords.box)).toBe("pw-from-state");
    expect(JSON.stringify(Object.keys(outputs.openwebui.box))).not.toMatch(/password/i);
  });

  test("a bucket with backups and files: each location keeps its rule, the files get theirs", async () => {
    mockProgram();
    const cfg = parseStackConfig({
      targets: { files: { type: "s3", region: "eu-central-1", managed: {} } },
      hosts: [
        {
          name: "box",
          openwebui: { image: OWUI, preUpgradeBackup: false, database: { postgres: { image: PG_IMAGE } }, storage: { s3: { target: "files", prefix: "openwebui-files" } } },
          jobs: [{ name: "nightly", method: "snapshot", targets: ["files"], retention: { keep: 7 } }],
        },
      ],
    });
    deployStack(cfg, { stack: "test" });
    await settle();
    await settle();
    const rules = resourcesOfType(T.lifecycle)[0].inputs.rules as { id: string }[];
    expect(rules.map((r) => r.id)).toEqual(["backup-box-nightly", "files-openwebui-files"]);
    // Two users: the host's backup key (its job location) and Open WebUI's files key.
    expect(resourcesOfType(T.user).map((u) => u.name).sort()).toEqual(["files-box", "files-box.files"]);
  });

  test("without the program's storage resolution, a managed storage target is refused", () => {
    mockProgram();
    expect(() => deployOpenWebUIStacks(managedConfig())).toThrow(/managed target "files" has no file-store key/);
  });
});

describe("the renderer", () => {
  test("a URL goes to the env file only; the command and its header stay free of it", () => {
    const cfg = parseStackConfig({
      targets: { nas: { type: "local", path: "/mnt/nas" } },
      hosts: [{ name: "box", data: { dir: "/srv/owui" }, database: { postgres: { url: URL_SECRET } }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 2 } }] }],
    });
    const env = renderBackupEnv({ stack: "s", host: cfg.hosts[0], targets: plainTargets(cfg), notify: cfg.notify });
    expect(env.mode).toBe(0o600);
    expect(env.content).toContain(`OWB_DATABASE_URL='${URL_SECRET}'`);
    expect(env.content).not.toMatch(/OWB_DATABASE_CONTAINER/);
    expect(renderBackupCommand({ stack: "s", host: cfg.hosts[0], targets: plainTargets(cfg), notify: cfg.notify }).content).not.toContain("s3cr");
  });

  test("plainObjectStorage: a managed target's bucket and Open WebUI's key are known only after pulumi up", () => {
    const cfg = parseStackConfig({
      targets: { files: { type: "s3", region: "eu-central-1", managed: {} } },
      hosts: [{ name: "box", openwebui: { image: OWUI, preUpgradeBackup: false, storage: { s3: { target: "files" } } } }],
    });
    expect(plainObjectStorage(cfg, cfg.hosts[0])).toEqual({
      bucket: "UNKNOWN-UNTIL-PULUMI-UP(targets.files.bucket)",
      prefix: "openwebui-files",
      region: "eu-central-1",
      endpoint: undefined,
      accessKeyId: "UNKNOWN-UNTIL-PULUMI-UP(targets.files.fileStorage.box.accessKeyId)",
      secretAccessKey: "UNKNOWN-UNTIL-PULUMI-UP(targets.files.fileStorage.box.secretAccessKey)",
    });
  });
});

describe("the installer: PostgreSQL's client tools when the host dumps a server by URL", () => {
  const cfgWith = (postgres: Record<string, unknown>) =>
    parseStackConfig({
      targets: { nas: { type: "local", path: "/mnt/nas" } },
      hosts: [{ name: "box", data: { dir: "/srv/owui" }, database: { postgres }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 2 } }] }],
    });

  test("a URL asks for pg_dump, pg_restore and psql; a container for nothing (its own tools run)", () => {
    const url = cfgWith({ url: URL_SECRET });
    const container = cfgWith({ container: "pg", user: "u", database: "d" });
    expect(extraPackageCommands({ stack: "s", host: url.hosts[0], targets: plainTargets(url), notify: url.notify })).toEqual(["pg_dump", "pg_restore", "psql"]);
    expect(extraPackageCommands({ stack: "s", host: container.hosts[0], targets: plainTargets(container), notify: container.notify })).toEqual([]);
    const installer = renderHostFiles({ stack: "s", host: url.hosts[0], targets: plainTargets(url), notify: url.notify }).installer;
    expect(installer).toContain("EXTRA_COMMANDS=(\n  'pg_dump'\n  'pg_restore'\n  'psql'\n)");
  });

  test.each([
    ["apt-get", "postgresql-client"],
    ["dnf", "postgresql"],
    ["apk", "postgresql-client"],
  ])("ensure_packages with %s installs %s once for the three tools", (manager, pkg) => {
    // install.bash's ensure_packages, run for real with only a package manager stub (and sort) on PATH.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-pkgs-"));
    try {
      fs.writeFileSync(path.join(dir, manager), `#!/bin/bash\nprintf '%s\\n' "$*" >>${JSON.stringify(path.join(dir, "calls"))}\n`, { mode: 0o755 });
      fs.symlinkSync("/usr/bin/sort", path.join(dir, "sort"));
      const body = hostAsset("install.bash");
      const fn = body.slice(body.indexOf("ensure_packages() {"), body.indexOf("\n}\n", body.indexOf("ensure_packages() {")) + 3);
      const script = [
        "set -Eeuo pipefail",
        "on_host() { true; }",
        "changed() { echo \"$1\"; }",
        "die() { echo \"$*\" >&2; exit 1; }",
        "PACKAGE_COMMANDS=(restic rsync)",
        "EXTRA_COMMANDS=(pg_dump pg_restore psql)",
        fn,
        "ensure_packages",
      ].join("\n");
      // stdin not a socket: bash would take it for an rsh session and read ~/.bashrc.
      const r = spawnSync("/bin/bash", ["-c", script], { env: { PATH: dir }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
      const install = calls[calls.length - 1].split(" ");
      expect(install.filter((w) => w === pkg)).toHaveLength(1);
      expect(install).toEqual(expect.arrayContaining(["restic", "rsync", pkg]));
      expect(r.stdout).toContain(`installed packages: `);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
