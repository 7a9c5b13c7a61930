/**
 * Values a cluster plan names but does not hold: the secrets (the generated WEBUI_SECRET_KEY, S3
 * keys, the restic password) and values known only once other resources exist (a managed
 * bucket's name and region). The plan writes a token where such a value goes; whoever applies
 * the plan swaps the tokens for the real values (Pulumi Outputs in the component, sample strings
 * in tests). Secrets thus never enter the plan, and a test can see exactly where each one lands.
 */

/** Secret values, each written only into a Secret's `stringData`. */
export const SECRET_VALUES = [
  "webuiSecretKey",
  "writerAccessKeyId",
  "writerSecretAccessKey",
  "readerAccessKeyId",
  "readerSecretAccessKey",
  "filesAccessKeyId",
  "filesSecretAccessKey",
  "resticPassword",
] as const;
export type SecretValue = (typeof SECRET_VALUES)[number];

/** Plain values known late: the backup bucket's name and region. */
export const LATE_VALUES = ["bucket", "region"] as const;
export type LateValue = (typeof LATE_VALUES)[number];

export type RefName = SecretValue | LateValue;

const TOKEN = /\{\{owb:([A-Za-z]+)\}\}/g;

/** The token standing for `name` inside a plan string. */
export const ref = (name: RefName): string => `{{owb:${name}}}`;

export const isSecretValue = (name: string): name is SecretValue => (SECRET_VALUES as readonly string[]).includes(name);

/** The refs a string names, in order of appearance. */
export function refsIn(text: string): RefName[] {
  return [...text.matchAll(TOKEN)].map((m) => {
    const name = m[1];
    if (!isSecretValue(name) && !(LATE_VALUES as readonly string[]).includes(name)) throw new Error(`unknown plan ref "${name}" in ${JSON.stringify(text)}`);
    return name as RefName;
  });
}

/** Replaces every token in a string with its value. */
export function fillRefs(text: string, values: Readonly<Partial<Record<RefName, string>>>): string {
  return text.replace(TOKEN, (_, name: string) => {
    const v = values[name as RefName];
    if (v === undefined) throw new Error(`no value for plan ref "${name}"`);
    return v;
  });
}

/**
 * Copies a plan value, mapping every string that holds tokens through `fill` (which may return
 * anything: a string, a Pulumi Output). Strings without tokens, numbers and booleans stay as they are.
 */
export function mapRefs<T>(value: unknown, fill: (text: string, names: RefName[]) => T): unknown {
  if (typeof value === "string") {
    const names = refsIn(value);
    return names.length > 0 ? fill(value, names) : value;
  }
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, fill));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapRefs(v, fill)]));
  return value;
}

/** Every string of a plan value with the path it sits at (`spec.template.spec.containers[0].env[1].value`). */
export function stringsOf(value: unknown, at = ""): { path: string; text: string }[] {
  if (typeof value === "string") return [{ path: at, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [...stringsOf(k, `${at}{key}`), ...stringsOf(v, at ? `${at}.${k}` : k)]);
  return [];
}
