/**
 * `npm run render -- --stack <name> [--out DIR] [--config FILE]`: validates a stack file and
 * writes every file the hosts would get to DIR/<host>/<absolute path>, or lists them.
 * Encrypted (`secure:`) values come from environment variables, or become marked placeholders.
 */
import { Command } from "commander";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../../config";
import { configFromStackFile } from "../../config/sources";
import { renderHostFiles } from "../render/host-files";
import { plainObjectStorage, plainTargets } from "../render/plain-targets";
import { HostFile } from "../render/types";

export interface RenderedHost {
  host: string;
  files: readonly HostFile[];
  /** The self-contained installer (embeds every file, the env file too). */
  installer: string;
}

/** Renders every host of a stack file; pure apart from reading that file. */
export function renderStackFile(file: string, stack: string, env: NodeJS.ProcessEnv) {
  const { config, placeholders } = configFromStackFile(file, env);
  const targets = plainTargets(config);
  const hosts: RenderedHost[] = config.hosts.map((host) => {
    const used = [...new Set(host.jobs.flatMap((j) => j.targets))];
    const rendered = renderHostFiles({
      stack,
      host,
      targets: Object.fromEntries(used.map((t) => [t, targets[t]])),
      notify: config.notify,
      resticPassword: config.resticPassword,
      objectStorage: plainObjectStorage(config, host),
    });
    return { host: host.name, files: rendered.files, installer: rendered.installer };
  });
  return { hosts, placeholders };
}

export function writeRendered(outDir: string, hosts: RenderedHost[]): string[] {
  const written: string[] = [];
  const write = (dest: string, content: string, mode: number) => {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, content, { mode });
    fs.chmodSync(dest, mode);
    written.push(dest);
  };
  for (const { host, files, installer } of hosts) {
    for (const f of files) write(path.join(outDir, host, f.path), f.content, f.mode);
    // Beside the host's tree, not in it: what `pulumi up` runs on the host to install the tree.
    write(path.join(outDir, `${host}.install.sh`), installer, 0o700);
  }
  return written;
}

export function main(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const program = new Command()
    .name("render")
    .description("Validate a stack's config and render the files its hosts get")
    .requiredOption("--stack <name>", "stack name: reads Pulumi.<name>.yaml")
    .option("--config <file>", "read the stack file from this path instead")
    .option("--out <dir>", "write files to DIR/<host>/<absolute path>; without it, list them")
    .exitOverride();
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  const opts = program.opts<{ stack: string; config?: string; out?: string }>();
  const file = opts.config ?? `Pulumi.${opts.stack}.yaml`;
  if (!fs.existsSync(file)) {
    process.stderr.write(`render: no stack file ${file}\n`);
    return 2;
  }
  let result: ReturnType<typeof renderStackFile>;
  try {
    result = renderStackFile(file, opts.stack, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${file}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  for (const p of result.placeholders) {
    process.stderr.write(`note: ${p.path} is encrypted in ${file}; rendered a placeholder (set ${p.envVar} to render the real value)\n`);
  }
  if (opts.out) {
    const written = writeRendered(opts.out, result.hosts);
    process.stdout.write(`wrote ${written.length} files under ${opts.out}\n`);
  } else {
    for (const { host, files } of result.hosts) {
      for (const f of files) process.stdout.write(`${host}\t${f.mode.toString(8).padStart(4, "0")}\t${f.path}\n`);
    }
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
