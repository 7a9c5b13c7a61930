/**
 * Where the raw config comes from: the Pulumi engine (in `index.ts`) or a stack file
 * read from disk (in the render CLI). Both end in `parseStackConfig`.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { SECRET_PLACEHOLDER_PREFIX } from "./fields";
import { parseStackConfig } from "./index";
import { StackConfig } from "./schema";

export const NAMESPACE = "openwebui";

/**
 * Structured config arrives as JSON text; plain strings (a password "123") must stay strings,
 * so only objects and arrays are taken from JSON.
 */
function decodeConfigValue(value: string): unknown {
  try {
    const decoded: unknown = JSON.parse(value);
    return typeof decoded === "object" && decoded !== null ? decoded : value;
  } catch {
    return value;
  }
}

/** Every `openwebui:*` key the engine holds, including misspelt ones, so they are refused. */
export function configFromPulumi(): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(`${NAMESPACE}:`)) raw[key.slice(NAMESPACE.length + 1)] = decodeConfigValue(value);
  }
  return parseStackConfig(raw);
}

export interface StackFileConfig {
  config: StackConfig;
  /** Secrets stored encrypted (`secure:`) that no environment variable supplied. */
  placeholders: { path: string; envVar: string }[];
}

/** `targets.offsite-s3.secretAccessKey` → `OPENWEBUI_TARGETS_OFFSITE_S3_SECRETACCESSKEY`. */
export function secretEnvVarName(path: string): string {
  return `${NAMESPACE}_${path}`.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}

export function secretPlaceholder(path: string): string {
  return `${SECRET_PLACEHOLDER_PREFIX}${path})`;
}

/**
 * Reads `Pulumi.<stack>.yaml` without the engine. Encrypted values can't be decrypted here:
 * each comes from the environment variable `secretEnvVarName(path)` or becomes a marked placeholder.
 */
export function configFromStackFile(file: string, env: NodeJS.ProcessEnv): StackFileConfig {
  const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const placeholders: StackFileConfig["placeholders"] = [];
  const resolveSecrets = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, `${path}[${i}]`));
    if (value && typeof value === "object") {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 1 && entries[0][0] === "secure") {
        const envVar = secretEnvVarName(path);
        const fromEnv = env[envVar];
        if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
        placeholders.push({ path, envVar });
        return secretPlaceholder(path);
      }
      return Object.fromEntries(entries.map(([k, v]) => [k, resolveSecrets(v, path ? `${path}.${k}` : k)]));
    }
    return value;
  };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (!key.startsWith(`${NAMESPACE}:`)) continue;
    const short = key.slice(NAMESPACE.length + 1);
    raw[short] = resolveSecrets(value, short);
  }
  return { config: parseStackConfig(raw), placeholders };
}
