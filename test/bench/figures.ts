/**
 * Pure helpers of the benchmark: statistics, goal verdicts, the printed table and the
 * attribution of a traced run's time to the tools it called. No process, clock or file here.
 */

export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A goal "ratio ≤ limit" or "value ≤ limit"; the benchmark only reports, it never fails. */
export interface Goal {
  limit: number;
  unit: "x" | "ms";
}

export type Verdict = "PASS" | "MISS" | "-";

export function verdict(value: number, goal: Goal | undefined): Verdict {
  if (!goal) return "-";
  if (!Number.isFinite(value)) return "MISS";
  return value <= goal.limit ? "PASS" : "MISS";
}

export interface Row {
  figure: string;
  ours: string;
  baseline: string;
  value: number;
  unit: "x" | "ms";
  goal?: Goal;
  note?: string;
}

export function formatValue(value: number, unit: "x" | "ms"): string {
  if (!Number.isFinite(value)) return "n/a";
  return unit === "x" ? `${value.toFixed(2)}x` : `${value.toFixed(0)} ms`;
}

export const seconds = (s: number) => `${s.toFixed(2)} s`;

/** Median seconds with the range of the samples when there are several: "4.86 s [4.60-5.20]". */
export function secondsOf(samples: number[]): string {
  const m = seconds(median(samples));
  return samples.length > 1 ? `${m} [${Math.min(...samples).toFixed(2)}-${Math.max(...samples).toFixed(2)}]` : m;
}
export const millis = (ms: number) => `${ms.toFixed(1)} ms`;

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/** A plain-text table with a header row; columns padded to their widest cell. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function renderRows(rows: Row[]): string {
  return renderTable(
    ["figure", "ours", "baseline", "ratio/value", "goal", "verdict", "note"],
    rows.map((r) => [
      r.figure,
      r.ours,
      r.baseline,
      formatValue(r.value, r.unit),
      r.goal ? `<= ${formatValue(r.goal.limit, r.goal.unit)}` : "",
      verdict(r.value, r.goal),
      r.note ?? "",
    ]),
  );
}

/** One call of a traced tool: `start end tool args…` as the shims write it. */
export interface ToolCall {
  start: number;
  end: number;
  tool: string;
  args: string;
}

export function parseToolLog(text: string): ToolCall[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [start, end, tool, ...rest] = l.split("\t");
      return { start: Number(start), end: Number(end), tool, args: rest.join("\t") };
    });
}

/** The step of the host command a tool call belongs to, for the "where the time goes" table. */
export function stepOf(call: ToolCall): string {
  const a = call.args;
  switch (call.tool) {
    case "sqlite3":
      if (/VACUUM INTO/i.test(a)) return "sqlite3 VACUUM INTO (consistent db copies)";
      if (/integrity_check/i.test(a)) return "sqlite3 integrity_check (staged/restored dbs)";
      return "sqlite3 other";
    case "rsync":
      return "rsync --link-dest staging";
    case "du":
    case "find":
      return "du/find (manifest, state, log sizes)";
    case "restic": {
      // The command runs restic as `restic -o rclone.args=serve restic --stdio <subcommand> …`.
      const sub = a.replace(/^-o rclone\.args=serve restic --stdio /, "").split(" ").find((w) => w !== "" && !w.startsWith("-")) ?? "";
      if (sub === "backup") return "restic backup";
      if (sub === "forget") return / --prune\b/.test(a) ? "restic forget --prune" : "restic forget";
      if (sub === "prune") return "restic prune";
      if (sub === "restore") return "restic restore";
      return `restic ${sub} (repo check/unlock/init)`;
    }
    case "rclone": {
      const sub = a.split(" ").find((w) => w !== "" && !w.startsWith("-")) ?? "";
      if (sub === "copy" || sub === "check") return `rclone ${sub}`;
      return "rclone lsf/copyto (listing, manifest)";
    }
    default:
      return call.tool;
  }
}

/** Seconds per step, largest first, plus what no traced tool accounts for (bash, date, tee…). */
export function breakdown(calls: ToolCall[], wallSeconds: number): Array<[string, number]> {
  const byStep = new Map<string, number>();
  // Calls can nest (a tool started by another one is not traced) but never overlap here:
  // the host command runs its tools one after another.
  for (const c of calls) byStep.set(stepOf(c), (byStep.get(stepOf(c)) ?? 0) + (c.end - c.start));
  const traced = [...byStep.values()].reduce((a, b) => a + b, 0);
  const out = [...byStep.entries()].sort((a, b) => b[1] - a[1]);
  out.push(["untraced: bash, date, tee, stat, mkdir, cp (the command itself)", Math.max(0, wallSeconds - traced)]);
  return out;
}
