/**
 * Targets as the config states them, for rendering without the Pulumi engine (the render
 * CLI). Values only `pulumi up` can know, such as a managed bucket's generated name or
 * keys, become marked placeholders.
 */
import { StackConfig, TargetConfig } from "../../config/schema";
import { ResolvedTarget } from "./types";

export function unknownUntilDeploy(target: string, field: string): string {
  return `UNKNOWN-UNTIL-PULUMI-UP(targets.${target}.${field})`;
}

export function plainTarget(name: string, t: TargetConfig): ResolvedTarget {
  const later = (field: string) => unknownUntilDeploy(name, field);
  switch (t.type) {
    case "local":
      return { type: "local", path: t.path };
    case "s3":
      return {
        type: "s3",
        bucket: t.bucket ?? later("bucket"),
        prefix: t.prefix,
        region: t.region,
        endpoint: t.endpoint,
        accessKeyId: t.accessKeyId ?? (t.managed ? later("accessKeyId") : undefined),
        secretAccessKey: t.secretAccessKey ?? (t.managed ? later("secretAccessKey") : undefined),
      };
    case "b2":
      return { type: "b2", bucket: t.bucket ?? later("bucket"), prefix: t.prefix, keyId: t.keyId ?? later("keyId"), applicationKey: t.applicationKey ?? later("applicationKey") };
  }
}

export function plainTargets(cfg: StackConfig): Record<string, ResolvedTarget> {
  return Object.fromEntries(Object.entries(cfg.targets).map(([name, t]) => [name, plainTarget(name, t)]));
}
