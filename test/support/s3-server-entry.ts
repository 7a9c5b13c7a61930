/**
 * How the test S3 server's child process (s3-server-process.ts) is started. The run's global
 * setup compiles it to JavaScript once (temp-root-setup.ts): started through ts-node instead,
 * each child spends about 0.3 s of CPU loading the TypeScript compiler, and a run of the suite
 * starts a few dozen. Outside jest (the benchmark), the source runs through ts-node.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const VARIABLE = "OPENWEBUI_TEST_S3_SERVER_JS";
const SOURCES = ["s3-server-process.ts", "aws-chunked.ts"];

/** Compiles the child's sources into a new folder under the run's temporary directory, and names it to the test processes jest starts next. */
export function compileS3ServerEntry(): void {
  const ts: typeof import("typescript") = require("typescript");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s3-server-js-"));
  for (const source of SOURCES) {
    const { outputText } = ts.transpileModule(fs.readFileSync(path.join(__dirname, source), "utf8"), {
      fileName: source,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    fs.writeFileSync(path.join(dir, source.replace(/\.ts$/, ".js")), outputText);
  }
  process.env[VARIABLE] = path.join(dir, "s3-server-process.js");
}

/** The child's entry, node options and extra environment. */
export function s3ServerEntry(): { entry: string; execArgv: string[]; env: NodeJS.ProcessEnv } {
  const compiled = process.env[VARIABLE];
  if (compiled !== undefined && fs.existsSync(compiled)) {
    // Compiled outside the repository: s3rver is found through NODE_PATH.
    return { entry: compiled, execArgv: [], env: { NODE_PATH: path.dirname(path.dirname(require.resolve("s3rver/package.json"))) } };
  }
  return { entry: path.join(__dirname, "s3-server-process.ts"), execArgv: ["-r", require.resolve("ts-node/register/transpile-only")], env: { TS_NODE_TRANSPILE_ONLY: "true" } };
}
