/**
 * Every image the repository tells users to run is pinned to a release: a version tag
 * (`v0.11.4`, `0.35.1`), optionally with its digest. `latest`, `main` or no tag at all would
 * change under the same reference: nobody could say which release holds the data, and no
 * pre-upgrade backup would run when it changed (its trigger is the reference).
 *
 * Checked: every `image` value in the stack files (`Pulumi.*.yaml`, `examples/*.yaml`) and
 * every `image:` line in the docs (README.md, docs/*.md).
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

const ROOT = path.join(__dirname, "..");

/** `<repository>:<version tag>[@sha256:<64 hex>]`, the tag a release number with an optional suffix (`-cuda`). */
export function isVersionPinned(ref: string): boolean {
  const m = /^(?<repo>[a-z0-9][a-z0-9._/:-]*?):(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:@sha256:[a-f0-9]{64})?$/.exec(ref);
  if (!m?.groups || m.groups.repo.endsWith("/")) return false;
  return /^v?\d+(\.\d+)+(-[A-Za-z0-9.]+)?$/.test(m.groups.tag);
}

/** Every value under a key named `image`, anywhere in a parsed YAML document. */
function imagesIn(node: unknown, at: string, out: { at: string; ref: unknown }[] = []): { at: string; ref: unknown }[] {
  if (Array.isArray(node)) node.forEach((x, i) => imagesIn(x, `${at}[${i}]`, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "image") out.push({ at: `${at}.${k}`, ref: v });
      else imagesIn(v, `${at}.${k}`, out);
    }
  }
  return out;
}

const stackFiles = [
  ...fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml"),
  ...fs.readdirSync(path.join(ROOT, "examples")).filter((f) => f.endsWith(".yaml")).map((f) => path.join("examples", f)),
].sort();
const docFiles = ["README.md", ...(fs.existsSync(path.join(ROOT, "docs")) ? fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join("docs", f)) : [])];

describe("the pin check itself", () => {
  test.each([
    "ghcr.io/open-webui/open-webui:v0.11.4",
    `ghcr.io/open-webui/open-webui:v0.11.4@sha256:${"9".repeat(64)}`,
    "ghcr.io/open-webui/open-webui:v0.6.5-cuda",
    "ollama/ollama:0.35.1",
    "localhost:5000/open-webui:v1.2",
  ])("pinned: %s", (ref) => expect(isVersionPinned(ref)).toBe(true));

  test.each([
    "ghcr.io/open-webui/open-webui:latest",
    "ghcr.io/open-webui/open-webui:main",
    "ghcr.io/open-webui/open-webui:cuda",
    "ghcr.io/open-webui/open-webui",
    "ollama/ollama",
    `ghcr.io/open-webui/open-webui@sha256:${"9".repeat(64)}`,
    "localhost:5000/open-webui",
    "ollama/ollama:0.35.1@sha256:short",
  ])("not pinned: %s", (ref) => expect(isVersionPinned(ref)).toBe(false));
});

describe.each(stackFiles)("%s", (file) => {
  test("pins every image to a version tag", () => {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, file), "utf8"));
    const unpinned = imagesIn(doc, file).filter((i) => typeof i.ref !== "string" || !isVersionPinned(i.ref));
    expect(unpinned).toEqual([]);
  });
});

test("the stack files and docs name images at all (the checks above are not empty)", () => {
  const images = stackFiles.flatMap((f) => imagesIn(parseYaml(fs.readFileSync(path.join(ROOT, f), "utf8")), f));
  expect(images.length).toBeGreaterThanOrEqual(4);
  expect(docFiles.flatMap(imageLines).length).toBeGreaterThan(0);
});

/** `image: <ref>` lines of a Markdown file (YAML snippets), with their line numbers. */
function imageLines(file: string): { at: string; ref: string }[] {
  return fs
    .readFileSync(path.join(ROOT, file), "utf8")
    .split("\n")
    .flatMap((line, i) => {
      const m = /^\s*(?:-\s+)?image:\s*["']?([^\s"'#]+)/.exec(line);
      return m ? [{ at: `${file}:${i + 1}`, ref: m[1] }] : [];
    });
}

describe.each(docFiles)("%s", (file) => {
  test("every `image:` line it shows is pinned to a version tag", () => {
    expect(imageLines(file).filter((i) => !isVersionPinned(i.ref))).toEqual([]);
  });
});
