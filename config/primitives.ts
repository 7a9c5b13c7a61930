/**
 * Building blocks of the config model, with no imports from the rest of config/, so every
 * schema file can use them without an import cycle.
 */
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

/** `z.strictObject` whose unknown-key error lists what is accepted. */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const accepted = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; accepted: ${accepted}`
        : undefined,
  });
}

export const name = (what: string) =>
  z.string({ error: `${what}: expected a string of ${NAME_RULE}` }).regex(NAME_PATTERN, {
    message: `${what} must be ${NAME_RULE}`,
  });

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

export const url = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).refine((u) => !/[\s'"`$\\]/.test(u), {
  message: "must not contain whitespace, quotes, backticks, '$' or '\\'",
});

export const positiveInt = z.number().int().positive();

