/**
 * Child-process entry of the test S3 server (see s3-server.ts, which forks it).
 *
 * Runs s3rver on 127.0.0.1 with one extra Koa middleware in front of it that
 * makes uploads behave like real S3 for restic and rclone:
 *  - aws-chunked (SigV4 streaming) bodies are decoded, so s3rver stores the
 *    payload rather than the chunk framing;
 *  - a body is stored only once it arrived complete and matches its declared
 *    length and digests (Content-MD5, x-amz-content-sha256): a client that dies
 *    or is cut off mid-upload leaves no half-written object behind;
 *  - PUT/POST can be delayed (`slowWritesMs`) so a test can kill the server
 *    while an upload is in flight;
 *  - optionally, every request is logged (method and URL), so a test can tell which
 *    operations a client used (a plain DELETE or one that names a version);
 *  - once armed with `crash-on-write`, the first PUT/POST under a key prefix makes the
 *    process kill itself before answering: the server dies mid-upload, at that upload.
 * and three fixes to s3rver's store:
 *  - delimiter listings name every folder under the prefix, including folders that hold
 *    only sub-folders (s3rver 3.7 drops those);
 *  - an upload is answered only once its object file is written whole and in place.
 *    s3rver 3.7 answers when the body has been read, before its write stream has even
 *    opened the file, so on a busy machine the client's HEAD right after a PUT got
 *    404 (rclone: "object not found") or a short file;
 *  - every file of the store (object, metadata, md5) is replaced by a rename, never
 *    rewritten in place: s3rver 3.7 writes metadata and server-side copies in place, so a
 *    server killed in the middle left a truncated metadata file that failed every later
 *    listing of the folder ("InternalError", 500), or a truncated copy listed as whole.
 *
 * It runs in its own process so that tests may block their event loop (execFileSync
 * of restic) without starving the server, and so that stop() is a real crash (SIGKILL).
 *
 * Protocol: options arrive as JSON in argv[2]; once listening, the process sends
 * `{ type: "listening", port }` over IPC. The parent may then send commands
 * (S3ServerProcessCommand), each answered once done. It exits when the parent goes away.
 */
import { createHash, randomUUID } from "crypto";
import { createReadStream, createWriteStream, promises as fs } from "fs";
import * as http from "http";
import * as path from "path";
import { Readable, Transform, TransformCallback } from "stream";
import { pipeline } from "stream/promises";
import { AwsChunkedDecoder, isAwsChunked, withoutAwsChunkedEncoding } from "./aws-chunked";

/** Options the parent passes in argv[2]. */
export interface S3ServerProcessOptions {
  dataDir: string;
  spoolDir: string;
  port: number;
  slowWritesMs: number;
  /** Append one JSON line per request here (see logRequests); absent: no log. */
  requestLog?: string;
}

/** Messages the child sends to the parent. */
export type S3ServerProcessMessage = { type: "listening"; port: number } | { type: "failed"; message: string } | { type: "armed" };

/** Commands the parent sends to the child. crash-on-write: `keyPrefix` is "<bucket>/<key prefix>". */
export type S3ServerProcessCommand = { type: "crash-on-write"; keyPrefix: string };

/** The key prefix whose next upload crashes this process; set by the parent. */
let crashOnWriteUnder: string | undefined;

// s3rver ships no type declarations; these are the few parts used here.
interface KoaLikeContext {
  method: string;
  req: http.IncomingMessage;
  request: { req: http.IncomingMessage };
  response: { req: http.IncomingMessage };
}
type Middleware = (ctx: KoaLikeContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  middleware: Middleware[];
  callback(): http.RequestListener;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
type S3ErrorConstructor = new (code: string, message: string, detail?: Record<string, unknown>) => Error;
interface ListObjectsOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface ListObjectsResult {
  objects: unknown[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
interface FilesystemStoreClass {
  prototype: {
    getBucketPath(bucket: string): string;
    getResourcePath(bucket: string, key: string, resource: string): string;
    listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsResult>;
    putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
    copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacementMetadata: Record<string, string> | null): Promise<Record<string, string>>;
  };
}

const S3rver: S3rverConstructor = require("s3rver");
const S3Error: S3ErrorConstructor = require("s3rver/lib/models/error");
const FilesystemStore: FilesystemStoreClass = require("s3rver/lib/stores/filesystem");
const S3Object: { ALLOWED_METADATA: string[] } = require("s3rver/lib/models/object");

/** s3rver keeps object `a/b/c` as the file `a/b/c._S3rver_object`, and its own bookkeeping under `._S3rver_*`. */
const OBJECT_FILE_SUFFIX = "._S3rver_object";
const S3RVER_INTERNAL_PREFIX = "._S3rver_";

/** Counts bytes and computes the digests a client may have declared. */
class DigestingPassThrough extends Transform {
  readonly md5 = createHash("md5");
  readonly sha256 = createHash("sha256");
  length = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.length += chunk.length;
    callback(null, chunk);
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/**
 * The request with its body replaced by `body`: s3rver reads headers, method and url
 * from `ctx.req` and pipes it as the object content.
 */
function requestWithBody(req: http.IncomingMessage, body: Readable): http.IncomingMessage {
  return Object.assign(body, {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as http.IncomingMessage;
}

/** Koa middleware: receive the whole body (decoding aws-chunked) into a spool file, check it, then let s3rver store it. */
function completeBodiesOnly(options: S3ServerProcessOptions): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== "PUT" && ctx.method !== "POST") return next();
    const req = ctx.req;
    if (crashOnWriteUnder !== undefined && objectPath(req).startsWith(crashOnWriteUnder)) {
      // A crash, not a shutdown: the client is left with its upload half sent.
      process.kill(process.pid, "SIGKILL");
      return;
    }
    const chunked = isAwsChunked(req.headers);
    const spoolPath = path.join(options.spoolDir, randomUUID());
    const digests = new DigestingPassThrough();
    try {
      try {
        if (chunked) await pipeline(req, new AwsChunkedDecoder(), digests, createWriteStream(spoolPath));
        else await pipeline(req, digests, createWriteStream(spoolPath));
      } catch (error) {
        throw new S3Error("IncompleteBody", `request body not received completely: ${(error as Error).message}`);
      }

      const declaredLength = chunked ? header(req, "x-amz-decoded-content-length") : header(req, "content-length");
      if (declaredLength !== undefined && Number(declaredLength) !== digests.length) {
        throw new S3Error("IncompleteBody", `received ${digests.length} bytes, declared ${declaredLength}`);
      }
      const contentMd5 = header(req, "content-md5");
      if (contentMd5 !== undefined && contentMd5 !== digests.md5.digest("base64")) {
        throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
      }
      const contentSha256 = header(req, "x-amz-content-sha256");
      if (contentSha256 !== undefined && /^[0-9a-f]{64}$/i.test(contentSha256) && contentSha256.toLowerCase() !== digests.sha256.digest("hex")) {
        throw new S3Error("BadDigest", "The x-amz-content-sha256 you specified did not match what we received.");
      }

      if (chunked) {
        // Store the object as the client meant it: decoded length, no aws-chunked encoding.
        req.headers["content-length"] = String(digests.length);
        delete req.headers["x-amz-decoded-content-length"];
        const encoding = withoutAwsChunkedEncoding(header(req, "content-encoding"));
        if (encoding === undefined) delete req.headers["content-encoding"];
        else req.headers["content-encoding"] = encoding;
      }

      if (options.slowWritesMs > 0) await new Promise((resolve) => setTimeout(resolve, options.slowWritesMs));

      const spool = createReadStream(spoolPath);
      // A read error reaches whatever reads the body. Unread (s3rver answered without it), the
      // stream may still be opening its file: it must not end the server with an unhandled
      // error, and the file goes only once the stream has closed.
      spool.on("error", () => {});
      const body = requestWithBody(req, spool);
      ctx.req = ctx.request.req = ctx.response.req = body;
      try {
        await next();
      } finally {
        body.destroy();
        if (!spool.closed) await new Promise<void>((resolve) => spool.once("close", () => resolve()));
      }
    } finally {
      await fs.rm(spoolPath, { force: true });
    }
  };
}

/** One line of the request log. */
export interface S3LoggedRequest {
  method: string;
  /** Path and query as sent: `/bucket/key?versionId=…`. */
  url: string;
  /** A multi-object delete (POST ?delete) whose body names object versions. */
  namesVersions?: boolean;
}

/**
 * Koa middleware: appends every request to `file` before it is served, so a test can see
 * which S3 operations a client used. A multi-object delete's body (small XML) is read here
 * and handed on unchanged.
 */
function logRequests(file: string): Middleware {
  return async (ctx, next) => {
    const entry: S3LoggedRequest = { method: ctx.method, url: ctx.req.url ?? "" };
    if (ctx.method === "POST" && /[?&]delete(=|&|$)/.test(entry.url)) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      entry.namesVersions = /<VersionId>/i.test(body.toString("utf8"));
      const replay = requestWithBody(ctx.req, Readable.from([body]));
      ctx.req = ctx.request.req = ctx.response.req = replay;
    }
    await fs.appendFile(file, `${JSON.stringify(entry)}\n`);
    return next();
  };
}

/** "<bucket>/<key>" of a path-style request. */
function objectPath(req: http.IncomingMessage): string {
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  return decodeURIComponent(pathname.slice(1));
}

/** True when `dir` holds at least one object file, at any depth. */
async function holdsAnObject(dir: string): Promise<boolean> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(OBJECT_FILE_SUFFIX)) return true;
  }
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith(S3RVER_INTERNAL_PREFIX) && (await holdsAnObject(path.join(dir, entry.name)))) return true;
  }
  return false;
}

/**
 * s3rver's listObjects stops descending at folders below a common prefix before it has
 * seen an object in them, so `a/` is missing from CommonPrefixes when `a/` holds only
 * `a/b/c`. Add those folders (for the "/" delimiter that clients use).
 */
function listEveryCommonPrefix(): void {
  const original = FilesystemStore.prototype.listObjects;
  FilesystemStore.prototype.listObjects = async function (bucket, options) {
    const result = await original.call(this, bucket, options);
    const { delimiter = "", prefix = "", startAfter = "" } = options;
    if (delimiter !== "/") return result;
    const parent = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const parentDir = path.join(this.getBucketPath(bucket), parent);
    const entries = await fs.readdir(parentDir, { withFileTypes: true }).catch(() => []);
    const prefixes = new Set(result.commonPrefixes);
    // A truncated page ends at its last key; later folders belong to the next page.
    const lastKey = result.isTruncated ? (result.objects[result.objects.length - 1] as { key?: string } | undefined)?.key : undefined;
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith(S3RVER_INTERNAL_PREFIX)) continue;
      const commonPrefix = `${parent}${entry.name}/`;
      if (!commonPrefix.startsWith(prefix) || commonPrefix <= startAfter || prefixes.has(commonPrefix)) continue;
      if (lastKey !== undefined && commonPrefix > lastKey) continue;
      if (await holdsAnObject(path.join(parentDir, entry.name))) prefixes.add(commonPrefix);
    }
    return { ...result, commonPrefixes: [...prefixes].sort() };
  };
}

/** Puts `content` (a file's contents, or the file `from` copied) at `target` by a rename from the spool (same file system). */
async function replaceWhole(spoolDir: string, target: string, content: { data: string } | { from: string }): Promise<void> {
  const partial = path.join(spoolDir, `file-${randomUUID()}`);
  try {
    if ("data" in content) await fs.writeFile(partial, content.data);
    else await fs.copyFile(content.from, partial);
    await fs.rename(partial, target);
  } finally {
    await fs.rm(partial, { force: true });
  }
}

/**
 * s3rver's putObject, answering only once the object is in place: written to a file in the
 * spool (same file system) and renamed, so a reader sees the old object or the new one, whole,
 * and a server killed mid-upload leaves no object without its metadata. Metadata and
 * server-side copies are put in place the same way.
 */
function storeObjectsWhole(spoolDir: string): void {
  FilesystemStore.prototype.putObject = async function (object) {
    const objectPath = this.getResourcePath(object.bucket, object.key, "object");
    const partial = path.join(spoolDir, `object-${randomUUID()}`);
    await fs.mkdir(path.dirname(objectPath), { recursive: true });
    const digests = new DigestingPassThrough();
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      await pipeline(content, digests, createWriteStream(partial));
      // Metadata first: s3rver lists and serves an object by its object file, so the object
      // appears with its metadata, as on S3, even when the server dies in between.
      const md5 = digests.md5.digest("hex");
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      await fs.rename(partial, objectPath);
      return { size: digests.length, md5 };
    } finally {
      await fs.rm(partial, { force: true });
    }
  };

  // The metadata s3rver keeps: the headers S3 stores with an object, and the user's x-amz-meta-*.
  FilesystemStore.prototype.putMetadata = async function (bucket, key, metadata, md5) {
    const kept = Object.entries(metadata).filter(([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith("x-amz-meta-"));
    await fs.mkdir(path.dirname(this.getResourcePath(bucket, key, "object")), { recursive: true });
    if (md5 !== undefined) await replaceWhole(spoolDir, this.getResourcePath(bucket, key, "object.md5"), { data: md5 });
    await replaceWhole(spoolDir, this.getResourcePath(bucket, key, "metadata.json"), { data: JSON.stringify(Object.fromEntries(kept), null, 2) });
  };

  FilesystemStore.prototype.copyObject = async function (srcBucket, srcKey, destBucket, destKey, replacementMetadata) {
    const source = (resource: string) => this.getResourcePath(srcBucket, srcKey, resource);
    const dest = (resource: string) => this.getResourcePath(destBucket, destKey, resource);
    if (source("object") !== dest("object")) {
      await this.getMetadata(srcBucket, srcKey); // fails on a missing source; writes its md5 file if it has none
      const partial = path.join(spoolDir, `object-${randomUUID()}`);
      try {
        await fs.copyFile(source("object"), partial);
        // As in putObject: the metadata (and the md5 of this content) first, then the object.
        await fs.mkdir(path.dirname(dest("object")), { recursive: true });
        await replaceWhole(spoolDir, dest("object.md5"), { from: source("object.md5") });
        if (replacementMetadata) await this.putMetadata(destBucket, destKey, replacementMetadata);
        else await replaceWhole(spoolDir, dest("metadata.json"), { from: source("metadata.json") });
        await fs.rename(partial, dest("object"));
      } finally {
        await fs.rm(partial, { force: true });
      }
    } else if (replacementMetadata) {
      await this.putMetadata(destBucket, destKey, replacementMetadata);
    }
    return this.getMetadata(destBucket, destKey);
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "") as S3ServerProcessOptions;
  await fs.mkdir(options.dataDir, { recursive: true });
  await fs.mkdir(options.spoolDir, { recursive: true });
  listEveryCommonPrefix();
  storeObjectsWhole(options.spoolDir);

  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: options.port,
    directory: options.dataDir,
    silent: true,
    // Path-style only: every request names the bucket in its path.
    vhostBuckets: false,
  });
  // First in the chain, before s3rver's authentication and routing.
  s3rver.middleware.unshift(completeBodiesOnly(options));
  if (options.requestLog) s3rver.middleware.unshift(logRequests(options.requestLog));

  const server = http.createServer(s3rver.callback());
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no TCP address");
  send({ type: "listening", port: address.port });
}

function send(message: S3ServerProcessMessage): void {
  process.send?.(message);
}

if (require.main === module) {
  // The parent owns this process: when it goes away, so do we.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (command: S3ServerProcessCommand) => {
    if (command.type === "crash-on-write") {
      crashOnWriteUnder = command.keyPrefix;
      send({ type: "armed" });
    }
  });
  main().catch((error: Error) => {
    send({ type: "failed", message: error.stack ?? error.message });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
}
