/**
 * Schedule conversion, proven rather than asserted: for every expression in the tables the
 * next run times computed by systemd itself (`systemd-analyze calendar`) equal those a cron
 * implementation (`cron-parser`) computes for the other side of the conversion.
 */
import { execFileSync } from "child_process";
import { CronExpressionParser } from "cron-parser";
import { CRON_TO_SYSTEMD, SYSTEMD_TO_CRON } from "./support/schedule-tables";

const BASE = "2024-01-01T00:00:00Z";
const ITERATIONS = 12;

/** Next run times as ISO strings, straight from systemd's own calendar logic. */
function systemdRuns(expression: string, iterations = ITERATIONS): string[] {
  const out = execFileSync("systemd-analyze", ["calendar", `--iterations=${iterations}`, "--base-time=2024-01-01 00:00:00 UTC", expression], {
    env: { ...process.env, TZ: "UTC", SYSTEMD_COLORS: "0" },
    encoding: "utf8",
    // Its complaint about a bad expression is part of the error thrown, not noise on the console.
    stdio: ["ignore", "pipe", "pipe"],
  });
  const runs = [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC/g)].map((m) => `${m[1]}T${m[2]}.000Z`);
  if (runs.length !== iterations) throw new Error(`could not read ${iterations} runs from systemd-analyze:\n${out}`);
  return runs;
}

function cronRuns(expression: string, iterations = ITERATIONS): string[] {
  const it = CronExpressionParser.parse(expression, { currentDate: BASE, tz: "UTC" });
  return Array.from({ length: iterations }, () => it.next().toISOString() as string);
}

describe("systemd calendar → cron: same run times", () => {
  it.each(SYSTEMD_TO_CRON)("%s ⇄ %s", (systemd, cron) => {
    expect(cronRuns(cron)).toEqual(systemdRuns(systemd));
  });
});

describe("cron → systemd calendar: same run times", () => {
  it.each(CRON_TO_SYSTEMD)("%s → %s", (cron, systemd) => {
    expect(systemdRuns(systemd)).toEqual(cronRuns(cron));
  });
});

describe("refused: expressions that cannot be converted exactly", () => {
  it("systemd itself rejects what we reject as invalid systemd syntax", () => {
    for (const e of ["*-*-* *:*/15", "Sat..Mon 03:00"]) expect(() => systemdRuns(e, 1)).toThrow(/Failed to parse calendar specification/);
  });
});
