/**
 * Imports flow one way, lowest layer first, and never in a circle:
 *
 *   calendar → config → scripts/render → components → program → index.ts, scripts/cli
 *
 * A file may import its own layer and the layers below it. Beside the stack: `sdks/b2` is a
 * generated library that only components use, and the policy pack reads only the config model.
 * Every import counts, type-only ones too. A failure names each offending import.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ImportEdge, ImportGraph, importCycles, importGraph } from "./support/import-graph";

const ROOT = path.join(__dirname, "..");

interface Layer {
  readonly name: string;
  /** Position in the stack; undefined for the libraries beside it. */
  readonly rank?: number;
  readonly holds: (file: string) => boolean;
}

const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);

const LAYERS: readonly Layer[] = [
  { name: "calendar", rank: 0, holds: under("calendar") },
  { name: "config", rank: 1, holds: under("config") },
  { name: "renderer", rank: 2, holds: under("scripts/render") },
  { name: "components", rank: 3, holds: under("components") },
  { name: "program", rank: 4, holds: under("program") },
  { name: "entry points", rank: 5, holds: (f) => f === "index.ts" || under("scripts/cli")(f) },
  { name: "sdks/b2", holds: under("sdks/b2") },
  { name: "policy", holds: under("policy") },
];

/** What the libraries beside the stack may import, and who may import them. */
const SIDE_RULES: Record<string, { readonly imports: readonly string[]; readonly importedBy: readonly string[] }> = {
  "sdks/b2": { imports: ["sdks/b2"], importedBy: ["sdks/b2", "components"] },
  policy: { imports: ["policy", "config", "calendar"], importedBy: ["policy"] },
};

/** Modules only some files may import, with the reason. */
const NARROW_MODULES: Record<string, { readonly importedBy: (file: string) => boolean; readonly why: string }> = {
  "config/index.ts": {
    importedBy: (f) => f === "config/sources.ts" || layerOf(f)?.name === "entry points",
    why: "config/index.ts is the parser entry; import the model (config/schema.ts and friends) instead",
  },
  "config/sources.ts": {
    importedBy: (f) => layerOf(f)?.name === "entry points",
    why: "config/sources.ts reads the engine and the file system; only entry points read config",
  },
};

/** Renderers of one kind of host file: they share scripts/render's common modules, never each other. */
const FILE_RENDERERS = ["backup", "systemd", "cron", "installer", "user-data", "plain-targets"].map((n) => `scripts/render/${n}.ts`);
/** The one renderer module that composes the others. */
const RENDER_COMPOSER = "scripts/render/host-files.ts";

function layerOf(file: string): Layer | undefined {
  return LAYERS.find((l) => l.holds(file));
}

const show = (e: ImportEdge) => `${e.from} → ${e.to}`;

/** Why an import breaks the layering, or undefined when it is allowed. */
export function layerViolation(e: ImportEdge): string | undefined {
  const from = layerOf(e.from);
  const to = layerOf(e.to);
  if (!from || !to) return undefined; // files in no layer are reported on their own
  const side = SIDE_RULES[to.name];
  if (side && !side.importedBy.includes(from.name)) return `${show(e)}: ${to.name} is imported only by ${side.importedBy.join(", ")}`;
  const own = SIDE_RULES[from.name];
  if (own && !own.imports.includes(to.name)) return `${show(e)}: ${from.name} imports only ${own.imports.join(", ")}`;
  if (from.rank !== undefined && to.rank !== undefined && to.rank > from.rank) return `${show(e)}: ${from.name} (layer ${from.rank}) imports ${to.name} (layer ${to.rank}) above it`;
  const narrow = NARROW_MODULES[e.to];
  if (narrow && !narrow.importedBy(e.from)) return `${show(e)}: ${narrow.why}`;
  if (FILE_RENDERERS.includes(e.from) && FILE_RENDERERS.includes(e.to)) {
    return `${show(e)}: file renderers do not borrow from each other; move the shared piece into a common module of scripts/render (only ${RENDER_COMPOSER} composes them)`;
  }
  if (e.from === "index.ts" && !(to.name === "program" || e.to === "config/sources.ts")) return `${show(e)}: index.ts calls only the program (program/) and config/sources.ts`;
  return undefined;
}

describe("architecture: one-way layers", () => {
  let graph: ImportGraph;
  beforeAll(() => {
    graph = importGraph(ROOT);
  });

  it("finds the project's files and their imports", () => {
    expect(graph.files).toContain("index.ts");
    expect(graph.edges.length).toBeGreaterThan(20);
    expect(graph.unresolved.map(show)).toEqual([]);
  });

  it("every TypeScript file belongs to a layer", () => {
    expect(graph.files.filter((f) => !layerOf(f)).map((f) => `${f}: in no layer (see LAYERS in test/architecture.test.ts)`)).toEqual([]);
  });

  it("no import goes up a layer or across to a library it may not use", () => {
    expect(graph.edges.map(layerViolation).filter((v) => v !== undefined)).toEqual([]);
  });

  it("no import cycle, type-only imports included", () => {
    expect(importCycles(graph).map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  it("index.ts reads the config and calls the program, nothing else", () => {
    const mine = graph.edges.filter((e) => e.from === "index.ts").map((e) => e.to);
    expect(mine.some((f) => f.startsWith("program/"))).toBe(true);
  });
});

describe("the rules catch what they are meant to", () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: to });

  it.each([
    ["config/schedule.ts", "scripts/render/schedule.ts", /config \(layer 1\) imports renderer \(layer 2\) above it/],
    ["calendar/schedule.ts", "config/schema.ts", /calendar \(layer 0\) imports config/],
    ["scripts/render/backup.ts", "config/index.ts", /parser entry/],
    ["scripts/render/cron.ts", "scripts/render/systemd.ts", /do not borrow from each other/],
    ["program/deploy.ts", "config/sources.ts", /only entry points read config/],
    ["config/schema.ts", "sdks/b2/index.ts", /sdks\/b2 is imported only by sdks\/b2, components/],
    ["policy/rules.ts", "components/ec2-host.ts", /policy imports only policy, config, calendar/],
    ["index.ts", "components/backup-jobs.ts", /index.ts calls only the program/],
  ])("%s → %s is refused", (from, to, why) => {
    expect(layerViolation(edge(from, to))).toMatch(why);
  });

  it.each([
    ["config/schema.ts", "calendar/schedule.ts"],
    ["scripts/render/host-files.ts", "scripts/render/systemd.ts"],
    ["components/b2-backup-bucket.ts", "sdks/b2/index.ts"],
    ["program/deploy.ts", "components/ec2-host.ts"],
    ["index.ts", "config/sources.ts"],
  ])("%s → %s is allowed", (from, to) => {
    expect(layerViolation(edge(from, to))).toBeUndefined();
  });

  it("counts type-only imports and re-exports as edges, so a cycle through them is found", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-imports-"));
    try {
      fs.mkdirSync(path.join(dir, "config"));
      fs.writeFileSync(path.join(dir, "config", "a.ts"), 'import type { B } from "./b";\nexport type A = { b?: B };\n');
      fs.writeFileSync(path.join(dir, "config", "b.ts"), 'export type { A } from "./a";\nexport type B = number;\n');
      fs.writeFileSync(path.join(dir, "config", "index.ts"), 'export * from "./a";\nconst late = () => import("./b");\nexport { late };\n');
      const graph = importGraph(dir);
      expect(graph.edges.map(show)).toEqual(["config/a.ts → config/b.ts", "config/b.ts → config/a.ts", "config/index.ts → config/a.ts", "config/index.ts → config/b.ts"]);
      expect(importCycles(graph)).toEqual([["config/a.ts", "config/b.ts", "config/a.ts"]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a cycle's files in order", () => {
    const graph: ImportGraph = {
      files: ["a.ts", "b.ts", "c.ts", "d.ts"],
      edges: [edge("a.ts", "b.ts"), edge("b.ts", "c.ts"), edge("c.ts", "a.ts"), edge("c.ts", "d.ts")],
      unresolved: [],
    };
    expect(importCycles(graph)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
  });
});
