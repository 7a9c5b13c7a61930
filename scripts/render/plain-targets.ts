/**
 * Targets as the config states them, for rendering without the Pulumi engine (the render
 * CLI). Values only `pulumi up` can know, such as a managed bucket's generated name or
 * keys, become marked placeholders.
 */
import { HostConfig, StackConfig, TargetConfig } from "../../config/schema";
import { ResolvedObjectStorage, ResolvedTarget } from "./types";

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

/**
 * Where a host's Open WebUI keeps its files in S3, as the config states it: a managed target's
 * bucket and Open WebUI's own key on it are known only after `pulumi up`.
 */
export function plainObjectStorage(cfg: StackConfig, host: HostConfig): ResolvedObjectStorage | undefined {
  const s3 = host.openwebui?.storage?.s3;
  if (!s3) return undefined;
  const t = cfg.targets[s3.target];
  if (!t || t.type !== "s3") throw new Error(`host ${host.name}: storage target "${s3.target}" is not an s3 target`);
  const later = (field: string) => unknownUntilDeploy(s3.target, field);
  return {
    bucket: t.bucket ?? later("bucket"),
    prefix: s3.prefix,
    region: t.region,
    endpoint: t.endpoint,
    accessKeyId: t.managed ? later(`fileStorage.${host.name}.accessKeyId`) : t.accessKeyId,
    secretAccessKey: t.managed ? later(`fileStorage.${host.name}.secretAccessKey`) : t.secretAccessKey,
  };
}
