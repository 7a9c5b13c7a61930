/**
 * Habits of the installed bash that shellcheck does not catch. Redirections apply left to
 * right, so in `read x <"$f" 2>/dev/null` the `<` fails (the file is gone) before the 2> exists,
 * and bash's "No such file or directory" lands in the run's log and its alerts.
 */
import { BACKUP_COMMAND_PARTS, hostAsset } from "../scripts/render/assets";

describe("the host command's bash", () => {
  it("silences a failed input redirection with a 2>/dev/null placed before it", () => {
    const late = BACKUP_COMMAND_PARTS.flatMap((part) =>
      hostAsset(part)
        .split("\n")
        .map((line, i) => ({ where: `${part}:${i + 1}`, line }))
        .filter(({ line }) => !/^\s*#/.test(line) && /<\s*"[^"]*"\s+2>\s*\/dev\/null/.test(line))
        .map(({ where, line }) => `${where}: ${line.trim()}`),
    );
    expect(late).toEqual([]);
  });
});
