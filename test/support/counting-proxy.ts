/**
 * A counting HTTP proxy on 127.0.0.1 in front of the test S3 server: clients are pointed at
 * the proxy's endpoint, every request goes on unchanged (Host header included, so SigV4
 * signatures still match) and the proxy counts what crossed it. The count is the server's
 * view of a run, independent of what the client reports about itself:
 *  - `sentBytes`: request body bytes of PUT and POST (uploads, multipart parts, delete lists);
 *    a server-side copy (`x-amz-copy-source`) sends no body, so it counts as 0 and is counted
 *    in `copies` instead;
 *  - `receivedBytes`: response body bytes of GET (downloads);
 *  - `requests`: requests per method.
 *
 *     const proxy = await startCountingProxy(s3.endpoint);
 *     // rclone/restic use proxy.endpoint
 *     proxy.reset(); …run…; proxy.counts().sentBytes
 *     await proxy.stop();
 *
 * It lives in the test process: callers must run the clients asynchronously (execFile, not
 * execFileSync), or the proxy cannot answer.
 */
import * as http from "http";
import type { AddressInfo, Socket } from "net";

export interface ProxyCounts {
  /** Request body bytes of PUT and POST requests. */
  sentBytes: number;
  /** Response body bytes of GET requests. */
  receivedBytes: number;
  /** PUT requests that carried an x-amz-copy-source header (server-side copies). */
  copies: number;
  /** PUT/POST requests that carried a body (uploads, parts, multipart commits, deletes). */
  uploads: number;
  /** Requests by HTTP method. */
  requests: Record<string, number>;
}

export interface CountingProxy {
  /** e.g. "http://127.0.0.1:40123" */
  readonly endpoint: string;
  /** A copy of the counts since the start or the last reset(). */
  counts(): ProxyCounts;
  reset(): void;
  stop(): Promise<void>;
}

const zero = (): ProxyCounts => ({ sentBytes: 0, receivedBytes: 0, copies: 0, uploads: 0, requests: {} });

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  if (target.protocol !== "http:") throw new Error(`counting proxy: upstream must be http://, got ${upstream}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let counts = zero();
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const method = req.method ?? "GET";
    counts.requests[method] = (counts.requests[method] ?? 0) + 1;
    const isWrite = method === "PUT" || method === "POST";
    const isCopy = method === "PUT" && req.headers["x-amz-copy-source"] !== undefined;
    if (isCopy) counts.copies += 1;
    let body = 0;
    const upstreamReq = http.request(
      { host: target.hostname, port: target.port, method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, upstreamRes.headers);
        if (method === "GET") upstreamRes.on("data", (chunk: Buffer) => (counts.receivedBytes += chunk.length));
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`counting proxy: upstream failed: ${err.message}`);
    });
    // Counted as they pass: a body cut off half way counts what arrived.
    if (isWrite) {
      req.on("data", (chunk: Buffer) => {
        body += chunk.length;
        counts.sentBytes += chunk.length;
      });
      req.on("end", () => {
        if (body > 0 && !isCopy) counts.uploads += 1;
      });
    }
    req.pipe(upstreamReq);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts, requests: { ...counts.requests } }),
    reset: () => {
      counts = zero();
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
