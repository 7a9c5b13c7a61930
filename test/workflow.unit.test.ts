/**
 * The GitOps workflow (.github/workflows/pulumi.yml): parses, pins every action to a full
 * version or commit SHA, previews on pull requests and deploys on pushes to main, never runs
 * two deploys of a stack at once, and takes credentials only from the secret store.
 * The workflow linter runs on it in workflow.artifact.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

const ROOT = path.join(__dirname, "..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "pulumi.yml");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  strategy?: { matrix?: { stack?: string[] } };
  concurrency?: { group?: string; "cancel-in-progress"?: boolean };
  steps: Step[];
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, { branches?: string[] } | null>;
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = fs.readFileSync(WORKFLOW, "utf8");
const wf = parseYaml(text) as Workflow;
const steps = Object.values(wf.jobs).flatMap((j) => j.steps);

/** `owner/repo[/path]@v1.2.3` or `@<40 hex>`; nothing floating like `@v4` or `@main`. */
export const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/;

describe("pin check", () => {
  it.each([
    ["actions/checkout@v4.2.2", true],
    ["pulumi/actions@0123456789abcdef0123456789abcdef01234567", true],
    ["actions/checkout@v4", false],
    ["actions/checkout@v4.2", false],
    ["pulumi/actions@main", false],
    ["pulumi/actions@0123456", false],
    ["./local-action", false],
  ])("%s pinned: %s", (ref, pinned) => {
    expect(PINNED.test(ref)).toBe(pinned);
  });
});

describe(".github/workflows/pulumi.yml", () => {
  it("every uses: is pinned to a full version tag or a commit SHA", () => {
    const uses = steps.map((s) => s.uses).filter((u): u is string => u !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter((u) => !PINNED.test(u))).toEqual([]);
  });

  it("uses Pulumi's official action, checkout and setup-node", () => {
    const owners = new Set(steps.map((s) => s.uses?.split("@")[0]));
    expect([...owners]).toEqual(expect.arrayContaining(["pulumi/actions", "actions/checkout", "actions/setup-node"]));
  });

  it("runs on pull requests and on pushes to main", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
    expect(wf.on.push?.branches).toEqual(["main"]);
  });

  const pulumiJobs = Object.entries(wf.jobs).filter(([, j]) => j.steps.some((s) => s.uses?.startsWith("pulumi/actions@")));

  it("previews per stack on pull requests, with the policy pack, commenting on the PR and uploading the rendered host files", () => {
    const [name, job] = pulumiJobs.find(([, j]) => j.steps.some((s) => s.with?.command === "preview"))!;
    expect(job.if).toBe("github.event_name == 'pull_request'");
    expect(job.strategy?.matrix?.stack?.length).toBeGreaterThan(0);
    const preview = job.steps.find((s) => s.with?.command === "preview")!;
    expect(preview.with).toMatchObject({ "stack-name": "${{ matrix.stack }}", "comment-on-pr": true, policyPacks: "policy" });
    const render = job.steps.find((s) => s.run?.startsWith("npm run render"));
    expect(render?.run).toBe("npm run render -- --stack '${{ matrix.stack }}' --out 'rendered/${{ matrix.stack }}'");
    const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with?.path).toBe("rendered/${{ matrix.stack }}");
    // The render step gets no secret: the artifact holds placeholders, never credentials.
    expect(JSON.stringify(render)).not.toContain("secrets.");
    expect(name).toBe("preview");
  });

  it("deploys with pulumi up only on pushes to main", () => {
    const [, job] = pulumiJobs.find(([, j]) => j.steps.some((s) => s.with?.command === "up"))!;
    expect(job.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(job.steps.find((s) => s.with?.command === "up")!.with).toMatchObject({ "stack-name": "${{ matrix.stack }}", policyPacks: "policy" });
  });

  it("never runs two Pulumi operations on one stack at once, and never cancels one mid-run", () => {
    expect(pulumiJobs.length).toBe(2);
    for (const [, job] of pulumiJobs) {
      expect(job.concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
    }
  });

  it("Pulumi jobs run only after the tests pass", () => {
    for (const [, job] of pulumiJobs) expect(job.needs).toBe("test");
  });

  it("credentials come only from the secret store", () => {
    const envs = [wf.env ?? {}, ...Object.values(wf.jobs).flatMap((j) => [j.env ?? {}, ...j.steps.map((s) => s.env ?? {})])];
    const credentialVars = envs.flatMap((e) => Object.entries(e)).filter(([k]) => /KEY|TOKEN|PASSPHRASE|SECRET/.test(k));
    expect(credentialVars.length).toBeGreaterThan(0);
    for (const [k, v] of credentialVars) expect([k, v]).toEqual([k, `\${{ secrets.${k} }}`]);
    expect(wf.permissions).toEqual({ contents: "read" });
  });

  it("every stack in a matrix has a stack file or an example to copy", () => {
    const stacks = new Set(Object.values(wf.jobs).flatMap((j) => j.strategy?.matrix?.stack ?? []));
    for (const s of stacks) {
      expect([s, fs.existsSync(path.join(ROOT, `Pulumi.${s}.yaml`)) || fs.existsSync(path.join(ROOT, `Pulumi.${s}.example.yaml`))]).toEqual([s, true]);
    }
  });
});
