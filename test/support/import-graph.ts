/**
 * The import graph of the project's own TypeScript: one edge per import of one of our files by
 * another, type-only imports, `export … from`, `require()` and `import()` included. Read with
 * the compiler's `preProcessFile`, so what counts as an import is what TypeScript says it is.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** One import, both ends relative to the project root with '/' separators. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  /** The module specifier as written. */
  readonly specifier: string;
}

export interface ImportGraph {
  /** Every .ts file of ours, sorted. */
  readonly files: readonly string[];
  readonly edges: readonly ImportEdge[];
  /** Relative specifiers that name no file. */
  readonly unresolved: readonly ImportEdge[];
}

const SKIPPED_DIRS = new Set(["node_modules", "test", "bin", ".git", ".pulumi-state", "rendered"]);

/** Every .ts file under `root`, outside node_modules, test/ and build output. */
export function projectFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path.join(dir, entry.name));
      } else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        out.push(path.relative(root, path.join(dir, entry.name)).split(path.sep).join("/"));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** The file a relative specifier names, as Node's resolution would find it; undefined when none. */
function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    const full = path.join(root, candidate);
    if (fs.existsSync(full) && fs.statSync(full).isFile()) return candidate;
  }
  return undefined;
}

export function importGraph(root: string): ImportGraph {
  const files = projectFiles(root);
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  for (const from of files) {
    const info = ts.preProcessFile(fs.readFileSync(path.join(root, from), "utf8"), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith(".")) continue; // a package, not ours
      const to = resolveRelative(root, from, specifier);
      if (to === undefined) unresolved.push({ from, to: specifier, specifier });
      // JSON and other assets are data, not modules with imports of their own.
      else if (to.endsWith(".ts")) edges.push({ from, to, specifier });
    }
  }
  return { files, edges, unresolved };
}

/**
 * Import cycles, each as the files along it with the first repeated at the end: the strongly
 * connected components (Tarjan), and in each the shortest cycle through every one of its files.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);

  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (next.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const f of graph.files) if (!index.has(f)) connect(f);

  // Per component, the shortest way round through each of its files, without repeats: enough
  // to show every tangle, where listing every simple cycle could run to thousands.
  const shortestCycleThrough = (start: string, members: ReadonlySet<string>): string[] => {
    const cameFrom = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of next.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const cycle = [start];
          for (let at: string | undefined = v; at !== undefined && at !== start; at = cameFrom.get(at)) cycle.splice(1, 0, at);
          return [...cycle, start];
        }
        if (!cameFrom.has(w)) {
          cameFrom.set(w, v);
          queue.push(w);
        }
      }
    }
    throw new Error(`${start} is on no cycle of its component`);
  };
  const cycles: string[][] = [];
  const seen = new Set<string>();
  for (const component of components.sort((a, b) => a[0].localeCompare(b[0]))) {
    const members = new Set(component);
    for (const start of component) {
      const cycle = shortestCycleThrough(start, members);
      // The same cycle from another start is a rotation: key it by its smallest rotation.
      const ring = cycle.slice(0, -1);
      const key = ring.map((_, i) => [...ring.slice(i), ...ring.slice(0, i)].join(" ")).sort()[0];
      if (seen.has(key)) continue;
      seen.add(key);
      cycles.push(cycle);
    }
  }
  return cycles;
}
