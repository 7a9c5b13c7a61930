/**
 * Habits of the installed bash that shellcheck does not catch. Redirections apply left to
 * right, so in `read x <"$f" 2>/dev/null` the `<` fails (the file is gone) before the 2> exists,
 * and bash's "No such file or directory" lands in the run's log and its alerts.
 */
import { execFileSync } from "child_process";
import { BACKUP_COMMAND_PARTS, hostAsset } from "../scripts/render/assets";

/** One function of a part, as its text (from its name to the closing brace at the line start). */
function functionText(part: string, name: string): string {
  const m = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?^\\}$`, "m").exec(hostAsset(part));
  if (!m) throw new Error(`${part} defines no ${name}()`);
  return m[0];
}

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

  it("json_string quotes any text as JSON, printed or into a variable, dropping control characters JSON would escape as \\u", () => {
    const text = 'say "hi"\\there\n\tcol\r\u0001end ü';
    const script = `${functionText("backup/core.bash", "json_string")}
      json_string "$1"; printf '\\n'
      json_string -v into "$1"; printf '%s\\n' "$into"`;
    const [printed, assigned] = execFileSync("bash", ["-c", script, "bash", text], { encoding: "utf8" }).split("\n");
    const expected = JSON.stringify(text.replace("\u0001", ""));
    expect(printed).toBe(expected);
    expect(assigned).toBe(expected);
  });
});
