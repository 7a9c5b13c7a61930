/**
 * A stack file with a slip in it gets one line that says where and what, not a stack trace
 * from inside the YAML parser; a misspelt key names the key that was probably meant.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { nearestKey } from "../config/fields";
import { main as renderMain } from "../scripts/cli/render-cli";
import { configProblemsUnder } from "./support/config-problems";

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-stackfile-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the render CLI on a stack file with this text; returns its exit code and stderr. */
function render(text: string): { code: number; stderr: string } {
  const file = path.join(dir, "Pulumi.slip.yaml");
  fs.writeFileSync(file, text);
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: renderMain(["--stack", "slip", "--config", file], {}), stderr: chunks.join("") };
  } finally {
    process.stderr.write = write;
  }
}

const GOOD = `config:
  openwebui:targets:
    nas: { type: local, path: /mnt/nas }
  openwebui:hosts:
    - name: web1
      data: { dir: /srv/owui }
      jobs:
        - { name: nightly, method: snapshot, targets: [nas], retention: { keep: 3 } }
`;

describe("YAML syntax errors", () => {
  it("an indentation slip is one line: FILE:LINE:COL: what is wrong", () => {
    const slipped = GOOD.replace("      data: { dir: /srv/owui }", "     data: { dir: /srv/owui }");
    const { code, stderr } = render(slipped);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/Pulumi\.slip\.yaml:6:\d+: \S.*$/)]);
    expect(stderr).not.toMatch(/node_modules|\bat \w+ \(/);
  });

  it("a tab where YAML wants spaces says so at its place", () => {
    const { code, stderr } = render(GOOD.replace("    - name: web1", "\t- name: web1"));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^.*Pulumi\.slip\.yaml:5:1: .+\n$/);
  });

  it("the good file still renders", () => {
    expect(render(GOOD).code).toBe(0);
  });
});

describe("unknown keys name the nearest accepted one", () => {
  it.each([
    ["shedule", ["name", "method", "targets", "schedule", "retention"], "schedule"],
    ["retension", ["name", "method", "targets", "schedule", "retention"], "retention"],
    ["host", ["targets", "hosts", "notify"], "hosts"],
    ["Targets", ["targets", "hosts"], "targets"],
    ["bananas", ["targets", "hosts", "notify"], undefined],
  ])("%s → %s", (key, accepted, meant) => expect(nearestKey(key, accepted)).toBe(meant));

  it("in a config error, after the accepted list", () => {
    const problems = configProblemsUnder(
      { targets: { nas: { type: "local", path: "/mnt/nas" } }, hosts: [{ name: "web1", data: { dir: "/srv/owui" }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], shedule: "daily", retention: { keep: 3 } }] }] },
      ["hosts[0].jobs[0]"],
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([expect.stringMatching(/^hosts\[0\]\.jobs\[0\]: unknown key "shedule"; accepted: .*; did you mean "shedule" → "schedule"\?$/)]);
  });

  it("and in the stack file, for a misspelt openwebui: key", () => {
    const { code, stderr } = render(GOOD.replace("openwebui:hosts", "openwebui:host"));
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown key "host"; accepted: .*did you mean "host" → "hosts"\?/);
  });
});
