/**
 * Where the raw config comes from: the Pulumi engine (in `index.ts`) or a stack file
 * read from disk (in the render CLI). Both end in `parseStackConfig`.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { YAMLError, parse as parseYaml } from "yaml";
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

/** A stack file that is not valid YAML, reported as `FILE:LINE:COL: what is wrong`. */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly col: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line === undefined ? "" : `:${line}:${col ?? 1}`}: ${problem}`);
    this.name = "StackFileError";
  }
}

/** Parses a stack file's YAML; a syntax error becomes one line naming the place, not a stack trace. */
export function readStackFileYaml(file: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (e) {
    if (!(e instanceof YAMLError)) throw e;
    // The message ends with " at line L, column C:" and a code frame; the place is in linePos.
    const problem = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new StackFileError(file, e.linePos?.[0].line, e.linePos?.[0].col, problem);
  }
}

/**
 * Reads `Pulumi.<stack>.yaml` without the engine. Encrypted values can't be decrypted here:
 * each comes from the environment variable `secretEnvVarName(path)` or becomes a marked placeholder.
 */
export function configFromStackFile(file: string, env: NodeJS.ProcessEnv): StackFileConfig {
  const doc = (readStackFileYaml(file) ?? {}) as { config?: Record<string, unknown> };
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
