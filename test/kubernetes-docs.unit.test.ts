/**
 * docs/kubernetes.md shows a stack file and a recovery manifest: the stack file parses with the
 * config model as written, and the manifest validates against the pinned Cluster CRD and names the
 * objects the stack creates.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { configFromStackFile } from "../config/sources";
import { NAMES } from "../scripts/render/kubernetes/objects";
import { POSTGRES_IMAGE } from "../scripts/render/kubernetes/versions";
import { crdValidators } from "./support/k8s-schemas";

const PAGE = path.join(__dirname, "..", "docs", "kubernetes.md");

/** The page's YAML blocks marked as checked by this test, de-indented. */
function checkedBlocks(): string[] {
  const text = fs.readFileSync(PAGE, "utf8");
  return [...text.matchAll(/<!-- checked by test\/kubernetes-docs\.test\.ts -->\n( *)```yaml\n([\s\S]*?)\1```/g)].map((m) =>
    m[2]
      .split("\n")
      .map((l) => l.slice(m[1].length))
      .join("\n"),
  );
}

describe("docs/kubernetes.md", () => {
  const [stackFile, recovery] = checkedBlocks();

  it("has the blocks this test checks", () => {
    expect(checkedBlocks()).toHaveLength(2);
  });

  it("the example stack file is a valid config, as the page describes it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-k8s-docs-"));
    try {
      const file = path.join(dir, "Pulumi.prod.yaml");
      fs.writeFileSync(file, stackFile);
      const { config, placeholders } = configFromStackFile(file, {});
      expect(placeholders.map((p) => p.path).sort()).toEqual(["clusters[0].kubeconfig", "resticPassword"]);
      expect(config.hosts).toEqual([]);
      expect(config.clusters[0]).toMatchObject({ name: "prod", openwebui: { replicas: 2, chartVersion: "16.0.0", imageTag: "0.11.0" }, backup: { target: "offsite", schedule: "0 0 3 * * *", retention: "30d" } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the recovery manifest validates against the pinned Cluster CRD and reads the stack's read-only store", () => {
    const manifest = parseYaml(recovery);
    const validate = crdValidators().get("postgresql.cnpg.io/v1/Cluster")!;
    expect(validate(manifest) ? [] : validate.errors).toEqual([]);
    expect(manifest.spec.imageName).toBe(POSTGRES_IMAGE);
    expect(manifest.spec.plugins).toBeUndefined();
    expect(manifest.spec.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: NAMES.readOnlyObjectStore, serverName: NAMES.database });
  });
});
