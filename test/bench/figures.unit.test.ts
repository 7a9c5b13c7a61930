import { breakdown, formatValue, median, parseToolLog, renderTable, secondsOf, stepOf, verdict } from "./figures";

describe("median", () => {
  it.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
    [[2, 2, 9], 2],
  ])("of %j is %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it("refuses no values", () => {
    expect(() => median([])).toThrow("median of no values");
  });
});

describe("secondsOf", () => {
  it.each([
    [[4.861], "4.86 s"],
    [[5.2, 4.6, 4.86], "4.86 s [4.60-5.20]"],
  ])("%j → %s", (samples, expected) => {
    expect(secondsOf(samples)).toBe(expected);
  });
});

describe("verdict", () => {
  it.each([
    [1.15, { limit: 1.15, unit: "x" as const }, "PASS"],
    [1.16, { limit: 1.15, unit: "x" as const }, "MISS"],
    [249, { limit: 250, unit: "ms" as const }, "PASS"],
    [NaN, { limit: 250, unit: "ms" as const }, "MISS"],
    [Infinity, { limit: 1.5, unit: "x" as const }, "MISS"],
    [3, undefined, "-"],
  ])("%d against %j is %s", (value, goal, expected) => {
    expect(verdict(value, goal)).toBe(expected);
  });
});

describe("formatValue", () => {
  it.each([
    [1.2345, "x", "1.23x"],
    [64.6, "ms", "65 ms"],
    [NaN, "x", "n/a"],
  ] as const)("%d %s → %s", (value, unit, expected) => {
    expect(formatValue(value, unit)).toBe(expected);
  });
});

describe("stepOf: which step of the host command a tool call is", () => {
  it.each([
    ["sqlite3", "-bail -cmd .timeout 60000 /d/webui.db VACUUM INTO '/s/data/webui.db'", "sqlite3 VACUUM INTO (consistent db copies)"],
    ["sqlite3", "-readonly -bail -cmd .timeout 60000 /s/webui.db PRAGMA integrity_check;", "sqlite3 integrity_check (staged/restored dbs)"],
    ["restic", "backup --json --ignore-ctime --host web1 --tag openwebui-job:nightly .", "restic backup"],
    ["restic", "forget --host web1 --keep-last 3 --prune", "restic forget --prune"],
    ["restic", "-o rclone.args=serve restic --stdio forget --host web1 --keep-last 3", "restic forget"],
    ["restic", "-o rclone.args=serve restic --stdio prune", "restic prune"],
    ["restic", "-o rclone.args=serve restic --stdio backup --json .", "restic backup"],
    ["restic", "cat config", "restic cat (repo check/unlock/init)"],
    ["restic", "restore latest --target /x", "restic restore"],
    ["rclone", "copy --no-traverse /s/data /t/f/data", "rclone copy"],
    ["rclone", "check --one-way /s/data /t/f/data", "rclone check"],
    ["rclone", "lsf --dirs-only /t", "rclone lsf/copyto (listing, manifest)"],
    ["rsync", "-a --numeric-ids --link-dest /d -- /d/ /s/data/", "rsync --link-dest staging"],
    ["du", "-sb -- /s/data", "du/find (manifest, state, log sizes)"],
  ])("%s %s → %s", (tool, args, expected) => {
    expect(stepOf({ start: 0, end: 1, tool, args })).toBe(expected);
  });
});

describe("breakdown", () => {
  it("sums calls per step, largest first, and leaves the rest to the command itself", () => {
    const log = ["10.0\t10.5\trestic\tcat config", "10.5\t11.0\trestic\tunlock", "11.0\t14.0\trestic\tbackup --json .", "14.0\t14.25\tsqlite3\tx VACUUM INTO 'y'", "14.25\t14.5\trestic\tunlock"].join("\n") + "\n";
    const calls = parseToolLog(log);
    expect(calls).toHaveLength(5);
    expect(calls[2]).toEqual({ start: 11, end: 14, tool: "restic", args: "backup --json ." });
    expect(breakdown(calls, 5)).toEqual([
      ["restic backup", 3],
      ["restic unlock (repo check/unlock/init)", 0.75],
      ["restic cat (repo check/unlock/init)", 0.5],
      ["sqlite3 VACUUM INTO (consistent db copies)", 0.25],
      ["untraced: bash, date, tee, stat, mkdir, cp (the command itself)", 0.5],
    ]);
  });

  it("never reports negative untraced time", () => {
    expect(breakdown(parseToolLog("0\t2\trsync\t-a"), 1.5).pop()).toEqual(["untraced: bash, date, tee, stat, mkdir, cp (the command itself)", 0]);
  });
});

describe("renderTable", () => {
  it("pads every column to its widest cell", () => {
    expect(renderTable(["a", "bb"], [["xxx", "y"], ["z", ""]])).toBe(["a    bb", "---  --", "xxx  y", "z"].join("\n"));
  });
});
