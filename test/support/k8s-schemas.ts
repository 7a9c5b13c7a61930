/**
 * Schemas of the pinned versions, for validating what the cluster planner writes: the vendored
 * CRDs (test/fixtures/k8s, see each SOURCE.md) compiled with ajv, unknown fields refused as the
 * API server would prune them, and kubernetes-models for core kinds.
 */
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

export const FIXTURES = path.join(__dirname, "..", "fixtures", "k8s");
const CRD_FILES = [
  "cloudnative-pg-1.30.0/postgresql.cnpg.io_clusters.yaml",
  "cloudnative-pg-1.30.0/postgresql.cnpg.io_scheduledbackups.yaml",
  "cloudnative-pg-1.30.0/postgresql.cnpg.io_backups.yaml",
  "plugin-barman-cloud-0.13.0/barmancloud.cnpg.io_objectstores.yaml",
  "k8up-4.9.0/k8up.io_schedules.yaml",
  "k8up-4.9.0/k8up.io_backups.yaml",
];

export type Schema = Record<string, any>;

/**
 * The API server prunes fields a structural schema does not declare: make that an error, so a
 * typo (`isWalArchiver`) fails here instead of silently switching archiving off.
 */
export function refuseUnknownFields(schema: Schema, atMetadata = false): Schema {
  if (Array.isArray(schema)) return schema.map((s) => refuseUnknownFields(s)) as unknown as Schema;
  if (!schema || typeof schema !== "object") return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "properties") out[k] = Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, refuseUnknownFields(s as Schema, p === "metadata")]));
    else if (typeof v === "object" && v !== null) out[k] = refuseUnknownFields(v as Schema);
    else out[k] = v;
  }
  if (out.type === "object" && out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"] && !atMetadata) out.additionalProperties = false;
  return out;
}

export function crdValidators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const file of CRD_FILES) {
    const crd = parseYaml(fs.readFileSync(path.join(FIXTURES, file), "utf8"));
    for (const version of crd.spec.versions) {
      if (!version.served) continue;
      validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(refuseUnknownFields(version.schema.openAPIV3Schema)));
    }
  }
  return validators;
}

/** kubernetes-models' class for a core kind (`v1` → kubernetes-models/v1, `batch/v1` → kubernetes-models/batch/v1). */
export function coreModel(apiVersion: string, kind: string): (new (data: unknown) => { validate(): void }) | undefined {
  const module = apiVersion === "v1" ? "kubernetes-models/v1" : `kubernetes-models/${apiVersion}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(module)[kind];
  } catch {
    return undefined;
  }
}

