/**
 * docs/config-reference.md's key table is generated from the schema (scripts/cli/config-reference.ts):
 * regenerate and compare, and make sure every key of the schema is described and no
 * description names a key that is gone.
 */
import * as fs from "fs";
import * as path from "path";
import { DESCRIPTIONS, END_MARKER, START_MARKER, configReferenceMarkdown, referenceRows, rowKey, withConfigReference } from "../scripts/cli/config-reference";

const REFERENCE = path.join(__dirname, "..", "docs", "config-reference.md");

describe("config reference", () => {
  const rows = referenceRows();

  it("walks the whole schema: nested objects, lists, maps and the target variants", () => {
    const keys = rows.map(rowKey);
    expect(keys).toEqual(
      expect.arrayContaining([
        "targets.<name>.bucket (type: s3)",
        "targets.<name>.applicationKey (type: b2)",
        "targets.<name>.path (type: local)",
        "hosts[].jobs[].retention.daily",
        "hosts[].openwebui.ollama.gpus",
        "hosts[].openwebui.env.<name>",
        "hosts[].snapshots.aws.schedules[].cron",
        "hosts[].provision.aws.allowedCidrs",
        "hosts[].data.volume",
        "notify.webhookUrl",
        "resticPassword",
      ]),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("shows types, defaults and what is required as the schema says", () => {
    const row = (key: string) => rows.find((r) => rowKey(r) === key)!;
    expect(row("hosts")).toMatchObject({ type: "list of objects", required: false });
    expect(row("clusters[].files.accessMode (provider: pvc)")).toMatchObject({ type: '"ReadWriteOnce" | "ReadWriteMany"', default: '"ReadWriteOnce"' });
    expect(row("clusters[].backup.target")).toMatchObject({ type: "string", required: true });
    expect(row("hosts[].name")).toMatchObject({ type: "string", required: true, default: "" });
    expect(row("hosts[].openwebui.port")).toMatchObject({ type: "integer", required: false, default: "3000" });
    expect(row("hosts[].openwebui.bindAddress").default).toBe('"127.0.0.1"');
    expect(row("hosts[].jobs[].consistency")).toMatchObject({ type: '"online" | "pause" | "stop"', default: '"online"' });
    expect(row("hosts[].scheduler").default).toBe('"systemd"');
    expect(row("hosts[].paths.envFile").default).toBe('"/etc/openwebui-backup/backup.env"');
    expect(row("targets.<name>.type (type: s3)").type).toBe('"s3"');
    expect(row("notify.webhookUrl").type).toBe("URL");
  });

  it("every key has a description", () => {
    expect(rows.filter((r) => !r.description).map(rowKey)).toEqual([]);
  });

  it("no description names a key the schema no longer has", () => {
    const keys = new Set(rows.map(rowKey));
    expect(Object.keys(DESCRIPTIONS).filter((k) => !keys.has(k))).toEqual([]);
  });

  it("docs/config-reference.md holds exactly what `npm run docs` generates", () => {
    const readme = fs.readFileSync(REFERENCE, "utf8");
    expect(readme).toContain(START_MARKER);
    expect(readme).toContain(END_MARKER);
    const section = readme.slice(readme.indexOf(START_MARKER) + START_MARKER.length, readme.indexOf(END_MARKER)).trim();
    expect(section).toBe(configReferenceMarkdown().trim());
    expect(withConfigReference(readme)).toBe(readme);
  });

  it("refuses a file without the markers", () => {
    expect(() => withConfigReference("# no markers\n")).toThrow(/config-reference:start/);
  });
});
