/**
 * A local HTTP listener standing in for the alert webhook and the health-check service:
 * records every request's method, path and body.
 */
import * as http from "http";

export interface ReceivedRequest {
  method: string;
  path: string;
  body: string;
}

export interface WebhookListener {
  /** Base URL, with a token-like path segment. */
  url: string;
  requests: ReceivedRequest[];
  /** Parsed JSON bodies of requests to paths under `url`'s path that hold JSON. */
  jsonBodies(pathSuffix?: string): any[];
  close(): Promise<void>;
}

export async function webhookListener(): Promise<WebhookListener> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", body });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const base = `/hook/secret-token`;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    requests,
    jsonBodies: (pathSuffix = "") => requests.filter((r) => r.path === `${base}${pathSuffix}`).map((r) => JSON.parse(r.body)),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
