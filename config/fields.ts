/**
 * Field schemas that more than one part of the config uses, each defined once so a value is
 * accepted (and refused, with the same message) the same way wherever it appears. Imports
 * nothing of config/ beyond zod, so every schema file can build on it.
 */
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";

/** Names end up in file names, unit names, shell variable names and remote paths. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const NAME_RULE = "lowercase letters, digits and '-', starting with a letter, at most 40 characters";

/** A remote key prefix: path segments of safe characters, no leading or trailing '/'. */
export const PREFIX_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** A path on the host. Any character but NUL and newline stays data once quoted. */
export const ABSOLUTE_PATH_RULE = "an absolute path without newlines";
export function isAbsoluteHostPath(p: string): boolean {
  return p.startsWith("/") && !/[\n\r\0]/.test(p) && !p.split("/").includes("..");
}

export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
const REGION_RULE = 'must be an AWS region such as "eu-central-1"';

/** The accepted key a typo most likely meant: a few edits away, or none. */
export function nearestKey(key: string, accepted: readonly string[]): string | undefined {
  if (accepted.length === 0) return undefined;
  const best = closest(key, [...accepted]);
  return distance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** `z.strictObject` whose unknown-key error lists what is accepted and names the likely meant key. */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const keys = Object.keys(shape);
  const accepted = keys.join(", ");
  const guesses = (unknown: readonly string[]) =>
    unknown.flatMap((k) => {
      const meant = nearestKey(k, keys);
      return meant ? [`"${k}" → "${meant}"`] : [];
    });
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const meant = guesses(issue.keys);
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; accepted: ${accepted}${meant.length ? `; did you mean ${meant.join(", ")}?` : ""}`;
    },
  });
}

export const name = (what: string) =>
  z.string({ error: `${what}: expected a string of ${NAME_RULE}` }).regex(NAME_PATTERN, {
    message: `${what} must be ${NAME_RULE}`,
  });

/** A whole number ≥ 1; `what` says what it counts ("a number of days"), in every message. */
export const positiveInt = (what: string) =>
  z.number({ error: `expected ${what}, a whole number ≥ 1` }).int({ message: `must be ${what}, a whole number ≥ 1` }).positive({ message: `must be ${what}, a whole number ≥ 1` });

export const hostPath = z
  .string({ error: `expected ${ABSOLUTE_PATH_RULE}` })
  .refine(isAbsoluteHostPath, { message: `must be ${ABSOLUTE_PATH_RULE} and without ".." segments` });

export const prefix = z
  .string()
  .regex(PREFIX_PATTERN, { message: "must be path segments of A-Z a-z 0-9 . _ - separated by '/', without leading or trailing '/'" });

export const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "must be a bucket name: 3-63 of a-z 0-9 . -" });

export const secretString = z.string().min(1, { message: "must not be empty" });

/**
 * What a render without the Pulumi engine puts where an encrypted (`secure:`) value was not
 * supplied (config/sources.ts). Fields that check a secret's format let it pass.
 */
export const SECRET_PLACEHOLDER_PREFIX = "UNRENDERED-PULUMI-SECRET(";
export const isSecretPlaceholder = (value: string) => value.startsWith(SECRET_PLACEHOLDER_PREFIX) && value.endsWith(")");

export const url = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).refine((u) => !/[\s'"`$\\]/.test(u), {
  message: "must not contain whitespace, quotes, backticks, '$' or '\\'",
});

export const awsRegion = z.string({ error: REGION_RULE }).regex(AWS_REGION_PATTERN, { message: REGION_RULE });

export const kmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/, { message: "must be a KMS key ARN such as arn:aws:kms:eu-central-1:123456789012:key/…" });

export const tcpPort = z
  .number({ error: "expected a port number 1-65535" })
  .int({ message: "must be a whole port number 1-65535" })
  .min(1, { message: "must be a port number 1-65535" })
  .max(65535, { message: "must be a port number 1-65535" });

/**
 * Where an SSH client connects: `hosts[].connection` and a pull job's `from` share these keys.
 * Absent user and port mean what `ssh` assumes for a server: root, port 22.
 */
export const sshEndpointShape = {
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, { message: "must be a host name or IP address" }),
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: "must be a Unix user name" }).default("root"),
  port: tcpPort.default(22),
};

/** Docker names volumes and containers by the same rule. */
export const dockerName = (kind: "volume" | "container") =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: `must be a Docker ${kind} name (letters, digits, '_', '.', '-', starting with a letter or digit)` });

/**
 * A job's or the restore drill's `schedule`: systemd calendar or cron, converted for the host's
 * scheduler by calendar/. Characters that could break out of a unit file or cron line are refused here.
 */
export const scheduleExpression = z
  .string({ error: "expected a systemd calendar or 5-field cron expression" })
  .min(1)
  .refine((s) => !/[\n\r'"`$\\;%]/.test(s), { message: "must be a systemd calendar or cron expression (no quotes, '$', '%', ';' or '\\')" });
