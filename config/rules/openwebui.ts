/**
 * Rules of the Open WebUI stack against the rest of its host: the backups read the stack's
 * data, pause/stop act on its container, ports and env stay what the stack needs, and no two
 * stacks share a Docker daemon.
 */
import { bindsAllInterfaces } from "../addresses";
import { DataLocation, OPENWEBUI_CONTAINER, RESERVED_ENV, stackDataLocation } from "../openwebui-service";
import { type ConfigProblem, problemList } from "../problems";
import type { StackConfig } from "../schema";

function sameLocation(a: DataLocation, b: DataLocation): boolean {
  if ("dir" in a && "dir" in b) return a.dir.replace(/\/+$/, "") === b.dir.replace(/\/+$/, "");
  if ("volume" in a && "volume" in b) return a.volume === b.volume;
  return false;
}

function describe(loc: DataLocation): string {
  return "dir" in loc ? `{ dir: ${loc.dir} }` : `{ volume: ${loc.volume} }`;
}

/** Cross-field rules of the stack, with full field paths. */
export function openwebuiProblems(cfg: StackConfig): ConfigProblem[] {
  const { problems, add } = problemList();
  const daemons = new Map<string, string>();

  cfg.hosts.forEach((host, hi) => {
    const svc = host.openwebui;
    // A host with a stack always has data (derived from the stack's); only a puller has none.
    if (!svc || !host.data) return;
    const hp = `hosts[${hi}]`;
    const sp = `${hp}.openwebui`;

    const stackData = stackDataLocation(svc);
    if (!sameLocation(host.data, stackData)) {
      add(`${hp}.data`, `is ${describe(host.data)} but the Open WebUI stack keeps its data in ${describe(stackData)}; remove ${hp}.data (it is derived from ${sp}.data) or make them the same`);
    }
    if (!host.containers.includes(OPENWEBUI_CONTAINER)) {
      add(`${hp}.containers`, `must include "${OPENWEBUI_CONTAINER}", the container the Open WebUI stack runs (backups pause/stop it)`);
    }
    if (bindsAllInterfaces(svc.bindAddress) && !svc.allowAllInterfaces) {
      add(`${sp}.bindAddress`, `"${svc.bindAddress}" publishes Open WebUI on every interface; set ${sp}.allowAllInterfaces: true to mean it, or use 127.0.0.1 behind a reverse proxy`);
    }
    for (const reserved of RESERVED_ENV) {
      if (!(reserved in svc.env)) continue;
      if (reserved === "WEBUI_SECRET_KEY") add(`${sp}.env.${reserved}`, `is set by the stack; use ${sp}.secretKey to give the key`);
      else if (svc.ollama.enabled) add(`${sp}.env.${reserved}`, `is set by the stack to its Ollama container; disable ${sp}.ollama to point at another Ollama`);
    }
    if (svc.ollama.enabled) {
      if (!svc.ollama.image) add(`${sp}.ollama.image`, "required when ollama is enabled (a tagged image such as ollama/ollama:0.35.1, digest preferred)");
      const od = stackDataLocation({ ...svc, data: svc.ollama.data });
      if (sameLocation(od, stackData)) add(`${sp}.ollama.data`, `must differ from ${sp}.data (${describe(stackData)})`);
    } else {
      if (svc.ollama.models.length > 0) add(`${sp}.ollama.models`, "needs ollama.enabled: true to pull models");
      if (svc.ollama.gpus) add(`${sp}.ollama.gpus`, "needs ollama.enabled: true");
    }

    // Container and volume names are fixed per Docker daemon: two stacks on one daemon collide.
    const daemon = host.connection ? `${host.connection.host}:${host.connection.port}` : "the local Docker socket";
    const other = daemons.get(daemon);
    if (other) add(`${hp}.connection`, `runs its Open WebUI stack on the same Docker daemon (${daemon}) as ${other}; container names would collide`);
    else daemons.set(daemon, hp);
  });
  return problems;
}
