/**
 * Schedule conversion between systemd calendar expressions and cron: what converts to what,
 * what is refused and why, and the config rules on schedules. That systemd itself computes
 * the same run times as a cron implementation is proven in schedule.artifact.test.ts.
 */
import { ConfigError, DEFAULT_PRUNE_SCHEDULE, parseStackConfig, pruneScheduleOf } from "../config";
import { rawConfig } from "./support/schedule-fixtures";
import { CRON_TO_SYSTEMD, SYSTEMD_TO_CRON } from "./support/schedule-tables";
import { cronToSystemd, scheduleFor, scheduleFormat, scheduleProblem, systemdToCron, ScheduleError } from "../calendar/schedule";

describe("systemd calendar → cron", () => {
  it.each(SYSTEMD_TO_CRON)("%s ⇄ %s", (systemd, cron) => {
    expect(systemdToCron(systemd)).toBe(cron);
  });
});

describe("cron → systemd calendar", () => {
  it.each(CRON_TO_SYSTEMD)("%s → %s", (cron, systemd) => {
    expect(cronToSystemd(cron)).toBe(systemd);
  });
});

describe("refused: expressions that cannot be converted exactly", () => {
  it.each([
    ["*-*-* 03:00:30", "cron", /second 30.*cron fires only at second 0/],
    ["*-*-* 03:00 Europe/Berlin", "cron", /time zone \(Europe\/Berlin\)/],
    ["2025-*-* 03:00", "cron", /restricts the year/],
    ["*-*~01 03:00", "cron", /end of the month/],
    ["Mon *-*-01..07 03:00", "cron", /both day-of-month and day-of-week.*BOTH/],
    ["0 3 1 * 1", "systemd", /both day-of-month and day-of-week.*EITHER/],
    ["0 3 15 * MON-FRI", "systemd", /both day-of-month and day-of-week/],
  ] as const)("%s for %s", (expression, scheduler, why) => {
    expect(() => scheduleFor(expression, scheduler)).toThrow(ScheduleError);
    expect(() => scheduleFor(expression, scheduler)).toThrow(why);
    expect(scheduleProblem(expression, scheduler)).toMatch(/cannot run exactly/);
  });

  it.each([
    ["*-*-* *:*/15", /does not accept "\*\/step"; write "0\/15"/],
    ["Sat..Mon 03:00", /runs backwards/],
    ["*-*-* 25:00", /hour 25 is outside 0..23/],
    ["Moonday 03:00", /not a day of week; use Mon/],
    ["*-*-* 03:00:00.5", /fractional seconds/],
    ["0 3 L * *", /not portable cron/],
    ["0 3 * * 1#2", /not portable cron/],
    ["5/10 * * * *", /write a range before the step/],
    ["60 * * * *", /minute 60 is outside 0-59/],
    ["@reboot", /not a schedule/],
  ])("invalid %s", (expression, why) => {
    const scheduler = scheduleFormat(expression);
    expect(() => scheduleFor(expression, scheduler)).toThrow(why);
    expect(scheduleProblem(expression, scheduler)).toMatch(/is not a valid/);
  });
});

describe("scheduleFor keeps an expression in the scheduler's own format as written", () => {
  it.each([
    ["Mon *-*-* 04:30:00 UTC", "systemd", "Mon *-*-* 04:30:00 UTC"],
    ["0 3 1 * 1", "cron", "0 3 1 * 1"],
    ["  daily ", "systemd", "daily"],
    ["@daily", "cron", "@daily"],
    ["daily", "cron", "0 0 * * *"],
    ["0   3 * * *", "systemd", "*-*-* 03:00:00"],
  ] as const)("%s for %s → %s", (expression, scheduler, expected) => {
    expect(scheduleFor(expression, scheduler)).toBe(expected);
    expect(scheduleProblem(expression, scheduler)).toBeUndefined();
  });
});

describe("config: schedules must convert for the host's scheduler", () => {
  const problems = (host: Record<string, unknown>) => {
    try {
      parseStackConfig(rawConfig(host));
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.problems;
    }
  };
  const jobs = (schedule: string) => [{ name: "nightly", method: "snapshot", targets: ["disk"], retention: { keep: 3 }, schedule }];

  it("defaults: systemd, 600 s random delay, weekly drill", () => {
    const host = parseStackConfig(rawConfig()).hosts[0];
    expect([host.scheduler, host.randomizedDelaySec, host.restoreDrill]).toEqual(["systemd", 600, { enabled: true, schedule: "weekly" }]);
  });

  it.each([
    [{ jobs: jobs("0 3 1 * 1") }, "hosts[0].jobs[0].schedule", /cannot run exactly.*EITHER.*Accepted for scheduler systemd/],
    [{ scheduler: "cron", jobs: jobs("*-*-* 03:00:30") }, "hosts[0].jobs[0].schedule", /second 30.*Accepted for scheduler cron: a 5-field cron expression/],
    [{ jobs: jobs("*-*-* 25:00") }, "hosts[0].jobs[0].schedule", /not a valid systemd schedule: hour 25/],
    [{ restoreDrill: { job: "nope" } }, "hosts[0].restoreDrill.job", /unknown job "nope"; jobs of host "gpu-box": nightly, weekly-copy/],
    [{ restoreDrill: { job: "weekly-copy", target: "offsite" } }, "hosts[0].restoreDrill.target", /does not back up to "offsite"; its targets: disk/],
    [{ scheduler: "cron", restoreDrill: { schedule: "*-*~01 04:00" } }, "hosts[0].restoreDrill.schedule", /end of the month/],
    [{ scheduler: "anacron" }, "hosts[0].scheduler", /expected "systemd" or "cron"/],
    [{ randomizedDelaySec: -1 }, "hosts[0].randomizedDelaySec", /0 to 86400/],
    [{ scheduler: "cron", jobs: [{ ...jobs("0 3 * * *")[0], pruneSchedule: "Sun *-*-* 05:30:30" }] }, "hosts[0].jobs[0].pruneSchedule", /second 30.*Accepted for scheduler cron/],
    [{ jobs: [{ ...jobs("*-*-* 03:00")[0], pruneSchedule: "Sun *-*-* 25:00" }] }, "hosts[0].jobs[0].pruneSchedule", /not a valid systemd schedule: hour 25/],
    [{ jobs: [{ ...jobs("*-*-* 03:00")[0], pruneSchedule: "weekly; rm -rf /" }] }, "hosts[0].jobs[0].pruneSchedule", /no quotes, '\$', '%', ';'/],
    [{ jobs: [{ name: "mirror", method: "sync", targets: ["offsite"], pruneSchedule: "weekly" }] }, "hosts[0].jobs[0].pruneSchedule", /method sync keeps one mirror and has nothing to prune.*remove pruneSchedule/],
  ])("%j → %s", (host, at, why) => {
    const found = problems(host as Record<string, unknown>).filter((p) => p.path === at);
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(why);
  });

  it("prune: weekly on Sunday at 05:30 unless pruneSchedule says otherwise, for both schedulers; nothing for sync", () => {
    const cfg = parseStackConfig(rawConfig({ jobs: [...jobs("*-*-* 03:00"), { name: "mirror", method: "sync", targets: ["offsite"] }, { name: "hourly", method: "restic", targets: ["offsite"], retention: { keep: 24 }, pruneSchedule: "45 2 * * *" }] }));
    const [nightly, mirror, hourly] = cfg.hosts[0].jobs;
    expect(pruneScheduleOf(nightly)).toBe(DEFAULT_PRUNE_SCHEDULE);
    expect(scheduleFor(DEFAULT_PRUNE_SCHEDULE, "cron")).toBe("30 5 * * 0");
    expect(pruneScheduleOf(mirror)).toBeUndefined();
    expect(pruneScheduleOf(hourly)).toBe("45 2 * * *");
    expect(problems({ scheduler: "cron", jobs: jobs("0 3 * * *") })).toEqual([]);
  });

  it("accepts a cron expression with OR semantics when cron runs it", () => {
    expect(problems({ scheduler: "cron", jobs: jobs("0 3 1 * 1") })).toEqual([]);
  });
});
