/**
 * `npm run up`'s first step, before any state is touched: validates the stack file and says
 * which hosts this machine deploys to itself (no `connection`, no `provision`: the local
 * Docker socket and a local install). Prints those host names, one a line; exit 1 with the
 * config problem on stderr when the stack file is not valid.
 */
import { ConfigError } from "../../config";
import { StackFileError, configFromStackFile } from "../../config/sources";

export function localHosts(file: string): string[] {
  const { config } = configFromStackFile(file, {});
  return config.hosts.filter((h) => !h.connection && !h.provision).map((h) => h.name);
}

export function main(argv: string[]): number {
  const [file] = argv;
  if (!file) {
    process.stderr.write("usage: up-preflight <stack file>\n");
    return 2;
  }
  try {
    for (const host of localHosts(file)) process.stdout.write(`${host}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) process.stderr.write(`${file}: ${e.message}\n`);
    else if (e instanceof StackFileError) process.stderr.write(`${e.message}\n`);
    else throw e;
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
