/**
 * Host-level protection on AWS: `hosts[].snapshots.aws` (an EBS snapshot policy run by
 * Data Lifecycle Manager) and `hosts[].provision.aws` (an EC2 instance the stack creates).
 *
 * Per-field rules live in the schemas, with the pure helpers they and the rules use; rules
 * that span fields (snapshot hours against the host's file-backup jobs, a KMS key in the
 * copy's region, SSH from anywhere) live in rules/host-aws.ts.
 */
import { isIPv4, isIPv6 } from "net";
import { z } from "zod";
import { parseSchedule } from "../calendar/schedule";
import { awsRegion, kmsKeyArn, name, positiveInt, strictObject } from "./fields";

/** The intervals, in hours, DLM accepts for `createRule.interval`. */
export const DLM_INTERVAL_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;
const EVERY_RULE = `one of ${DLM_INTERVAL_HOURS.map((h) => `"${h}h"`).join(", ")}`;

/** DLM limits: schedules per policy, cross-region copies per schedule, retained snapshots. */
export const MAX_SCHEDULES = 4;
export const MAX_COPY_REGIONS = 3;
export const MAX_RETAIN_COUNT = 1000;

export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;

/** `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, as EventBridge and DLM take it. */
const CRON_FIELD_PATTERNS = [
  /^[0-9,*/-]+$/, // minutes
  /^[0-9,*/-]+$/, // hours
  /^[0-9,*/?LW-]+$/, // day of month
  /^[0-9A-Za-z,*/-]+$/, // month
  /^[0-9A-Za-z,*/?L#-]+$/, // day of week
  /^[0-9,*/-]+$/, // year
];
const CRON_RULE = 'must be an AWS cron expression "cron(Minutes Hours Day-of-month Month Day-of-week Year)" such as "cron(0 3 ? * SUN *)"';

/** Why an AWS cron expression is not acceptable to DLM, or undefined when it is. */
export function awsCronProblem(expression: string): string | undefined {
  const m = /^cron\((.*)\)$/.exec(expression.trim());
  if (!m) return CRON_RULE;
  const fields = m[1].trim().split(/\s+/);
  if (fields.length !== 6) return `${CRON_RULE}; got ${fields.length} fields, AWS needs 6`;
  const bad = fields.findIndex((f, i) => !CRON_FIELD_PATTERNS[i].test(f));
  if (bad >= 0) return `${CRON_RULE}; field ${bad + 1} ("${fields[bad]}") has characters AWS does not accept there`;
  if ((fields[2] === "?") === (fields[4] === "?")) return `${CRON_RULE}; exactly one of day-of-month and day-of-week must be "?"`;
  if (!/^\d+$/.test(fields[0]) || Number(fields[0]) > 59) {
    return `${CRON_RULE}; the minutes field must be one number 0-59 (DLM takes at most one snapshot an hour)`;
  }
  return undefined;
}

/** Whether a string is an IPv4 or IPv6 CIDR block such as "203.0.113.0/24". */
export function isCidr(value: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (!m) return false;
  const bits = Number(m[2]);
  if (isIPv4(m[1])) return bits <= 32;
  if (isIPv6(m[1])) return bits <= 128;
  return false;
}

/** The network address of an IPv4 CIDR when the given one has host bits set ("10.1.2.3/16" → "10.1.0.0/16"). */
export function ipv4NetworkOf(cidr: string): string | undefined {
  const [addr, bitsText] = cidr.split("/");
  if (!isIPv4(addr)) return undefined;
  const bits = Number(bitsText);
  const n = addr.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  const net = Number((BigInt(n) & BigInt(mask)).toString());
  if (net === n) return undefined;
  return `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join(".")}/${bits}`;
}

export const OPEN_CIDRS = ["0.0.0.0/0", "::/0"] as const;

const every = z
  .union([z.string(), z.number()], { error: `expected ${EVERY_RULE}` })
  .refine((v) => DLM_INTERVAL_HOURS.includes(everyHours(v) as (typeof DLM_INTERVAL_HOURS)[number]), { message: `must be ${EVERY_RULE} (the intervals DLM accepts)` })
  .transform((v) => everyHours(v));

function everyHours(v: string | number): number {
  if (typeof v === "number") return v;
  const m = /^(\d{1,2})h$/.exec(v.trim());
  return m ? Number(m[1]) : NaN;
}

const TAG_KEY_RULE = 'tag keys: 1-128 characters, not starting with "aws:"';
const tags = z
  .record(
    z.string().min(1).max(128).refine((k) => !k.toLowerCase().startsWith("aws:"), { message: TAG_KEY_RULE }),
    z.string({ error: "expected a string tag value" }).max(256, { message: "tag values are at most 256 characters" }),
    { error: (issue) => (issue.code === "invalid_key" ? `is not a valid tag key; ${TAG_KEY_RULE}` : undefined) },
  )
  .refine((t) => Object.keys(t).length > 0, { message: "needs at least one tag" });

export const snapshotScheduleSchema = strictObject({
  name: name("schedule name"),
  /** Interval between snapshots, e.g. "24h"; starts at `at` (UTC). */
  every: every.optional(),
  /** Start time in UTC, "HH:MM". Required with `every`. */
  at: z
    .string({ error: 'expected a UTC time "HH:MM" such as "03:00"' })
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a UTC time "HH:MM" such as "03:00"' })
    .optional(),
  /** `cron(...)` in AWS's 6-field form, UTC; instead of `every`/`at`. */
  cron: z.string({ error: CRON_RULE }).superRefine((v, ctx) => {
    const problem = awsCronProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }).optional(),
  /** Keep the newest N snapshots of this schedule. */
  keep: positiveInt("a snapshot count").max(MAX_RETAIN_COUNT, { message: `must be at most ${MAX_RETAIN_COUNT} (DLM's limit)` }).optional(),
  /** Keep this schedule's snapshots for N days. */
  keepDays: positiveInt("a number of days").optional(),
});

export const snapshotCopySchema = strictObject({
  region: awsRegion,
  keepDays: positiveInt("a number of days"),
  /** Encrypt the copies; default true (volumes the stack creates are encrypted, and their copies must be). */
  encrypted: z.boolean().default(true),
  /** Customer-managed KMS key in the destination region; absent: the region's default EBS key. */
  kmsKeyArn: kmsKeyArn.optional(),
});

export const awsSnapshotsSchema = strictObject({
  /** An existing instance to snapshot; the stack tags it so the policy finds it. */
  instanceId: z.string({ error: 'expected an instance id such as "i-0123456789abcdef0"' }).regex(INSTANCE_ID_PATTERN, { message: 'must be an instance id such as "i-0123456789abcdef0"' }).optional(),
  /** Tags already on the instance (or its volumes) that select what to snapshot. */
  tags: tags.optional(),
  /** Snapshot the whole instance (all its volumes, crash-consistent together) or tagged volumes one by one. */
  target: z.enum(["instance", "volume"], { error: 'expected "instance" or "volume"' }).default("instance"),
  schedules: z
    .array(snapshotScheduleSchema)
    .min(1, { message: "needs at least one schedule" })
    .max(MAX_SCHEDULES, { message: `DLM allows at most ${MAX_SCHEDULES} schedules per policy` }),
  /** Copies of every schedule's snapshots into other regions. */
  copyTo: z.array(snapshotCopySchema).max(MAX_COPY_REGIONS, { message: `DLM copies to at most ${MAX_COPY_REGIONS} regions` }).default([]),
  /** Fast snapshot restore for the newest `count` snapshots of the first schedule. */
  fastRestore: strictObject({
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, { message: 'must be an availability zone such as "eu-central-1a"' }))
      .min(1, { message: "needs at least one availability zone" }),
    count: positiveInt("a snapshot count").max(MAX_RETAIN_COUNT, { message: `must be at most ${MAX_RETAIN_COUNT}` }),
  }).optional(),
  /** Accept snapshot schedules in the same hour as the host's file-backup jobs. */
  allowOverlapWithBackups: z.boolean().default(false),
});

/** `aws` is the only provider with a snapshot policy; elsewhere use the provider's own snapshots. */
export const hostSnapshotsSchema = strictObject({
  aws: awsSnapshotsSchema.optional(),
}).refine((s) => s.aws !== undefined, { path: ["aws"], message: "required: snapshots.aws is the only kind of host snapshots (elsewhere use your provider's snapshot feature)" });

export const awsProvisionSchema = strictObject({
  instanceType: z.string({ error: 'expected an EC2 instance type such as "t3.large"' }).regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, { message: 'must be an EC2 instance type such as "t3.large"' }),
  /** Absent: the region's default VPC, in its first available zone. */
  subnetId: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: 'must be a subnet id such as "subnet-0123456789abcdef0"' }).optional(),
  /** An EC2 key pair for SSH. */
  keyName: z.string({ error: "expected an EC2 key pair name" }).regex(/^[\x20-\x7e]{1,255}$/, { message: "must be an EC2 key pair name: 1-255 printable ASCII characters" }).optional(),
  /** Size of the separate gp3 volume that holds /var/lib/docker. */
  dataVolumeGb: positiveInt("a size in GiB").max(16384, { message: "must be at most 16384 GiB (gp3's limit)" }),
  /** Where SSH (port 22) is reachable from. */
  allowedCidrs: z
    .array(z.string().refine(isCidr, { message: 'must be a CIDR block such as "203.0.113.0/24" or "2001:db8::/32"' }))
    .min(1, { message: 'needs at least one CIDR block SSH is reachable from, such as "203.0.113.7/32"' }),
  /** Required to list 0.0.0.0/0 or ::/0 in allowedCidrs: SSH open to the whole internet. */
  sshFromAnywhere: z.boolean().default(false),
  /** Open the Open WebUI port to the internet. Default: closed (reach it through an SSH tunnel). */
  publishWeb: z.boolean().default(false),
  /** Absent: the AWS provider's region. */
  region: awsRegion.optional(),
});

export const hostProvisionSchema = strictObject({
  aws: awsProvisionSchema.optional(),
}).refine((p) => p.aws !== undefined, { path: ["aws"], message: "required: provision.aws is the only kind of host the stack creates" });

export type SnapshotScheduleConfig = z.infer<typeof snapshotScheduleSchema>;
export type SnapshotCopyConfig = z.infer<typeof snapshotCopySchema>;
export type AwsSnapshotsConfig = z.infer<typeof awsSnapshotsSchema>;
export type AwsProvisionConfig = z.infer<typeof awsProvisionSchema>;

// ---------------------------------------------------------------- hours of day

/** UTC hours of day a snapshot schedule starts in, or undefined when its expression is invalid. */
export function snapshotHours(s: Pick<SnapshotScheduleConfig, "every" | "at" | "cron">): number[] | undefined {
  if (s.cron !== undefined) {
    if (awsCronProblem(s.cron)) return undefined;
    const hoursField = /^cron\((.*)\)$/.exec(s.cron.trim())![1].trim().split(/\s+/)[1];
    return cronFieldValues(hoursField, 0, 23);
  }
  if (s.every !== undefined && s.at !== undefined) {
    const start = Number(s.at.slice(0, 2));
    const hours = new Set<number>();
    for (let h = start; h < start + 24; h += s.every) hours.add(h % 24);
    return [...hours].sort((a, b) => a - b);
  }
  return undefined;
}

/** Values of one numeric AWS cron field: `*`, `N`, `N-M`, `N/S`, `*\/S`, `N-M/S` and lists of those. */
function cronFieldValues(field: string, min: number, max: number): number[] | undefined {
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = m[1] === "*" ? min : Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : m[1] === "*" || m[3] !== undefined ? max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Hours of day a file-backup job's `schedule` runs in; undefined when it does not parse (its own rule reports that). */
export function jobHours(schedule: string): number[] | undefined {
  try {
    const spec = parseSchedule(schedule);
    return [...spec.hours];
  } catch {
    return undefined;
  }
}
