/**
 * A small stand-in for the Backblaze B2 native API (v1) on 127.0.0.1, enough for rclone's B2
 * backend to back up, list, read, hide and delete: authorize, list buckets, list file names
 * and versions, upload (with `hex_digits_at_end`), download by name (ranges too), hide, delete
 * a version, file info, copy a file (rclone sets a modification time that way), download by id.
 * No large files or bucket changes.
 *
 * What it is for: application keys with B2's capabilities and name prefix, enforced the way
 * B2 documents them (b2_hide_file needs writeFiles; b2_delete_file_version needs deleteFiles;
 * names outside the key's prefix are refused), and every file version kept, hide markers
 * included, so a test can see what a client deleted for good and what it only hid.
 *
 * It is an imitation written from B2's API documentation and rclone's requests, not B2: what it
 * shows about rclone's calls is real; what it says about B2 itself is only as good as that.
 * In-process: a test must not block its event loop (execFileSync) while a client talks to it.
 */
import { createHash, randomBytes } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

export interface B2Version {
  readonly id: string;
  readonly name: string;
  readonly action: "upload" | "hide";
  readonly data: Buffer;
  readonly sha1: string;
  readonly contentType: string;
  readonly info: Record<string, string>;
  readonly uploadTimestamp: number;
}

export interface B2Key {
  readonly keyId: string;
  readonly applicationKey: string;
  readonly capabilities: readonly string[];
  readonly bucketName: string;
  readonly namePrefix: string;
}

/** One API call as the server saw it: the operation and the file name it named, if any. */
export interface B2Call {
  readonly op: string;
  readonly keyId: string;
  readonly fileName?: string;
  /** The HTTP status answered. */
  readonly status: number;
}

interface Bucket {
  readonly id: string;
  readonly name: string;
  /** Every version of every file, oldest first. */
  readonly versions: B2Version[];
}

class B2Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ACCOUNT_ID = "owbtestaccount";

export class B2TestServer {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly buckets = new Map<string, Bucket>();
  private readonly keys = new Map<string, B2Key>();
  /** Authorization tokens (API, upload and download alike) → key id. */
  private readonly tokens = new Map<string, string>();
  private nextId = 1;
  readonly calls: B2Call[] = [];

  /** `http://127.0.0.1:<port>`: rclone's `--b2-endpoint`. */
  endpoint = "";

  static async start(): Promise<B2TestServer> {
    const s = new B2TestServer();
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(0, "127.0.0.1", () => resolve());
    });
    s.endpoint = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  createBucket(name: string): void {
    this.buckets.set(name, { id: `bucket-${name}`, name, versions: [] });
  }

  /** An application key limited to one bucket and a name prefix, with these capabilities. */
  createKey(bucketName: string, namePrefix: string, capabilities: readonly string[]): B2Key {
    const key: B2Key = { keyId: `key${this.nextId++}`, applicationKey: randomBytes(12).toString("hex"), capabilities: [...capabilities], bucketName, namePrefix };
    this.keys.set(key.keyId, key);
    return key;
  }

  /** Every version under a prefix, oldest first (uploads and hide markers). */
  versions(bucketName: string, prefix = ""): B2Version[] {
    return this.bucket(bucketName).versions.filter((v) => v.name.startsWith(prefix));
  }

  /** The names a plain listing shows under a prefix: the newest version of each is an upload. */
  visibleNames(bucketName: string, prefix = ""): string[] {
    return [...this.newestByName(this.bucket(bucketName))].filter(([name, v]) => name.startsWith(prefix) && v.action === "upload").map(([name]) => name);
  }

  // ---------------------------------------------------------------- plumbing

  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw new B2Error(400, "bad_request", `no bucket ${name}`);
    return b;
  }

  private bucketById(id: string): Bucket {
    for (const b of this.buckets.values()) if (b.id === id) return b;
    throw new B2Error(400, "bad_request", `no bucket id ${id}`);
  }

  private newestByName(b: Bucket): Map<string, B2Version> {
    const newest = new Map<string, B2Version>();
    for (const v of b.versions) newest.set(v.name, v);
    return new Map([...newest].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.endpoint);
    const call: { op: string; keyId: string; fileName?: string } = { op: url.pathname.replace(/^\/b2api\/v1\//, ""), keyId: "" };
    try {
      const body = await readBody(req);
      const answer = await this.route(req, url, body, call);
      this.calls.push({ ...call, status: answer.status ?? 200 });
      res.writeHead(answer.status ?? 200, answer.headers ?? { "Content-Type": "application/json" });
      res.end(answer.raw ?? JSON.stringify(answer.json));
    } catch (error) {
      const e = error instanceof B2Error ? error : new B2Error(500, "internal_error", (error as Error).message);
      this.calls.push({ ...call, status: e.status });
      res.writeHead(e.status, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ status: e.status, code: e.code, message: e.message }));
    }
  }

  /** The key behind a request's Authorization token. */
  private keyOf(req: http.IncomingMessage, call: { keyId: string }): B2Key {
    const keyId = this.tokens.get(req.headers.authorization ?? "");
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (!key) throw new B2Error(401, "bad_auth_token", "invalid authorization token");
    call.keyId = key.keyId;
    return key;
  }

  private need(key: B2Key, capability: string, bucket: Bucket, fileName?: string): void {
    if (!key.capabilities.includes(capability)) throw new B2Error(401, "unauthorized", `application key does not have ${capability}`);
    if (bucket.name !== key.bucketName) throw new B2Error(401, "unauthorized", `key is restricted to bucket ${key.bucketName}`);
    if (fileName !== undefined && !fileName.startsWith(key.namePrefix)) throw new B2Error(401, "unauthorized", `key is restricted to names starting with ${key.namePrefix}`);
  }

  private newToken(keyId: string): string {
    const token = `token-${randomBytes(8).toString("hex")}`;
    this.tokens.set(token, keyId);
    return token;
  }

  private async route(req: http.IncomingMessage, url: URL, body: Buffer, call: { op: string; keyId: string; fileName?: string }): Promise<Answer> {
    const path = url.pathname;
    if (path === "/b2api/v1/b2_authorize_account") return this.authorize(req, call);
    if (path.startsWith("/file/")) return this.downloadByName(req, path, call);
    if (path === "/b2api/v1/b2_download_file_by_id") return this.downloadById(req, url, call);
    if (path.startsWith("/upload/")) return this.upload(req, path, body, call);
    const key = this.keyOf(req, call);
    const args = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, any>) : {};
    switch (call.op) {
      case "b2_list_buckets": {
        const buckets = [...this.buckets.values()].filter((b) => (!args.bucketName || b.name === args.bucketName) && (!args.bucketId || b.id === args.bucketId));
        for (const b of buckets) this.need(key, "listBuckets", b);
        return { json: { buckets: buckets.map((b) => ({ accountId: ACCOUNT_ID, bucketId: b.id, bucketName: b.name, bucketType: "allPrivate" })) } };
      }
      case "b2_list_file_names":
      case "b2_list_file_versions":
        return this.list(key, args, call.op === "b2_list_file_versions");
      case "b2_get_upload_url": {
        const b = this.bucketById(args.bucketId);
        this.need(key, "writeFiles", b);
        return { json: { bucketId: b.id, uploadUrl: `${this.endpoint}/upload/${b.id}`, authorizationToken: this.newToken(key.keyId) } };
      }
      case "b2_hide_file": {
        const b = this.bucketById(args.bucketId);
        call.fileName = args.fileName;
        this.need(key, "writeFiles", b, args.fileName);
        const newest = this.newestByName(b).get(args.fileName);
        if (!newest) throw new B2Error(404, "no_such_file", `no file ${args.fileName}`);
        if (newest.action === "hide") throw new B2Error(400, "already_hidden", `${args.fileName} is already hidden`);
        const marker = this.addVersion(b, args.fileName, "hide", Buffer.alloc(0), "application/x-bz-hide-marker", {});
        return { json: fileJson(b, marker) };
      }
      case "b2_delete_file_version": {
        call.fileName = args.fileName;
        for (const b of this.buckets.values()) {
          const i = b.versions.findIndex((v) => v.id === args.fileId && v.name === args.fileName);
          if (i < 0) continue;
          this.need(key, "deleteFiles", b, args.fileName);
          b.versions.splice(i, 1);
          return { json: { fileId: args.fileId, fileName: args.fileName } };
        }
        throw new B2Error(400, "file_not_present", `no version ${args.fileId} of ${args.fileName}`);
      }
      case "b2_copy_file": {
        for (const b of this.buckets.values()) {
          const source = b.versions.find((x) => x.id === args.sourceFileId && x.action === "upload");
          if (!source) continue;
          const dest = args.destinationBucketId ? this.bucketById(args.destinationBucketId) : b;
          call.fileName = args.fileName;
          this.need(key, "readFiles", b, source.name);
          this.need(key, "writeFiles", dest, args.fileName);
          const replace = args.metadataDirective === "REPLACE";
          const copy = this.addVersion(dest, args.fileName, "upload", source.data, replace ? args.contentType : source.contentType, replace ? { ...(args.fileInfo ?? {}) } : { ...source.info });
          return { json: fileJson(dest, copy) };
        }
        throw new B2Error(400, "bad_request", `no file ${args.sourceFileId}`);
      }
      case "b2_get_file_info": {
        for (const b of this.buckets.values()) {
          const v = b.versions.find((x) => x.id === args.fileId);
          if (!v) continue;
          call.fileName = v.name;
          this.need(key, "readFiles", b, v.name);
          return { json: fileJson(b, v) };
        }
        throw new B2Error(404, "not_found", `no file ${args.fileId}`);
      }
      default:
        throw new B2Error(400, "bad_request", `not supported here: ${call.op}`);
    }
  }

  private authorize(req: http.IncomingMessage, call: { keyId: string }): Answer {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
    const [keyId, secret] = m ? Buffer.from(m[1], "base64").toString("utf8").split(":") : [];
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (!key || key.applicationKey !== secret) throw new B2Error(401, "unauthorized", "wrong key id or application key");
    call.keyId = key.keyId;
    const bucket = this.bucket(key.bucketName);
    return {
      json: {
        accountId: ACCOUNT_ID,
        authorizationToken: this.newToken(key.keyId),
        apiUrl: this.endpoint,
        downloadUrl: this.endpoint,
        recommendedPartSize: 100_000_000,
        absoluteMinimumPartSize: 5_000_000,
        minimumPartSize: 100_000_000,
        allowed: { bucketId: bucket.id, bucketName: bucket.name, capabilities: key.capabilities, namePrefix: key.namePrefix || null },
      },
    };
  }

  private list(key: B2Key, args: Record<string, any>, allVersions: boolean): Answer {
    const b = this.bucketById(args.bucketId);
    const prefix: string = args.prefix ?? "";
    this.need(key, "listFiles", b);
    if (!prefix.startsWith(key.namePrefix)) throw new B2Error(401, "unauthorized", `key is restricted to names starting with ${key.namePrefix}`);
    const delimiter: string | undefined = args.delimiter || undefined;
    const max = Math.min(Number(args.maxFileCount) || 100, 10_000);
    const start: string = args.startFileName ?? "";
    const candidates = allVersions
      ? [...b.versions].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : y.uploadTimestamp - x.uploadTimestamp || (x.id < y.id ? 1 : -1)))
      : [...this.newestByName(b).values()].filter((v) => v.action === "upload");
    const files: unknown[] = [];
    let next: string | null = null;
    let lastFolder = "";
    for (const v of candidates) {
      if (!v.name.startsWith(prefix) || v.name < start) continue;
      let entryName = v.name;
      if (delimiter) {
        const cut = v.name.indexOf(delimiter, prefix.length);
        if (cut >= 0) entryName = v.name.slice(0, cut + delimiter.length);
      }
      if (entryName !== v.name && entryName === lastFolder) continue;
      if (files.length === max) {
        next = entryName;
        break;
      }
      if (entryName !== v.name) {
        lastFolder = entryName;
        files.push({ accountId: ACCOUNT_ID, bucketId: b.id, fileId: null, fileName: entryName, action: "folder", contentLength: 0, size: 0, uploadTimestamp: 0, fileInfo: {} });
      } else {
        files.push(fileJson(b, v));
      }
    }
    return { json: { files, nextFileName: next, nextFileId: null } };
  }

  private addVersion(b: Bucket, name: string, action: "upload" | "hide", data: Buffer, contentType: string, info: Record<string, string>): B2Version {
    const v: B2Version = {
      id: `4_z${b.id}_f${String(this.nextId++).padStart(12, "0")}`,
      name,
      action,
      data,
      sha1: action === "upload" ? createHash("sha1").update(data).digest("hex") : "none",
      contentType,
      info,
      uploadTimestamp: Date.now(),
    };
    b.versions.push(v);
    return v;
  }

  private upload(req: http.IncomingMessage, path: string, body: Buffer, call: { op: string; keyId: string; fileName?: string }): Answer {
    call.op = "b2_upload_file";
    const key = this.keyOf(req, call);
    const b = this.bucketById(decodeURIComponent(path.slice("/upload/".length)));
    const name = decodeFileName(String(req.headers["x-bz-file-name"] ?? ""));
    call.fileName = name;
    this.need(key, "writeFiles", b, name);
    let data = body;
    let sha1 = String(req.headers["x-bz-content-sha1"] ?? "");
    if (sha1 === "hex_digits_at_end") {
      sha1 = data.subarray(data.length - 40).toString("ascii");
      data = data.subarray(0, data.length - 40);
    }
    sha1 = sha1.replace(/^unverified:/, "");
    if (sha1 !== "do_not_verify" && sha1 !== createHash("sha1").update(data).digest("hex")) throw new B2Error(400, "bad_request", "sha1 did not match data received");
    const info: Record<string, string> = {};
    for (const [h, value] of Object.entries(req.headers)) if (h.startsWith("x-bz-info-")) info[h.slice("x-bz-info-".length)] = decodeFileName(String(value));
    const v = this.addVersion(b, name, "upload", Buffer.from(data), String(req.headers["content-type"] ?? "application/octet-stream"), info);
    return { json: fileJson(b, v) };
  }

  private downloadByName(req: http.IncomingMessage, path: string, call: { op: string; keyId: string; fileName?: string }): Answer {
    call.op = "b2_download_file_by_name";
    const key = this.keyOf(req, call);
    const rest = path.slice("/file/".length);
    const slash = rest.indexOf("/");
    const b = this.bucket(decodeURIComponent(rest.slice(0, slash)));
    const name = decodeFileName(rest.slice(slash + 1));
    call.fileName = name;
    this.need(key, "readFiles", b, name);
    const v = this.newestByName(b).get(name);
    if (!v || v.action !== "upload") throw new B2Error(404, "not_found", `no file ${name}`);
    return this.fileContent(req, v);
  }

  private downloadById(req: http.IncomingMessage, url: URL, call: { op: string; keyId: string; fileName?: string }): Answer {
    const key = this.keyOf(req, call);
    const id = url.searchParams.get("fileId") ?? "";
    for (const b of this.buckets.values()) {
      const v = b.versions.find((x) => x.id === id && x.action === "upload");
      if (!v) continue;
      call.fileName = v.name;
      this.need(key, "readFiles", b, v.name);
      return this.fileContent(req, v);
    }
    throw new B2Error(404, "not_found", `no file ${id}`);
  }

  /** A version's content and headers; a Range request gets 206 and that part. */
  private fileContent(req: http.IncomingMessage, v: B2Version): Answer {
    const headers: Record<string, string> = {
      "Content-Type": v.contentType,
      "X-Bz-File-Id": v.id,
      "X-Bz-File-Name": encodeURIComponent(v.name),
      "X-Bz-Content-Sha1": v.sha1,
      "X-Bz-Upload-Timestamp": String(v.uploadTimestamp),
      "Accept-Ranges": "bytes",
    };
    for (const [k, value] of Object.entries(v.info)) headers[`X-Bz-Info-${k}`] = encodeURIComponent(value);
    let data = v.data;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ""));
    if (range && v.data.length > 0) {
      let first = range[1] === "" ? v.data.length - Number(range[2]) : Number(range[1]);
      let last = range[1] === "" || range[2] === "" ? v.data.length - 1 : Number(range[2]);
      first = Math.max(0, first);
      last = Math.min(last, v.data.length - 1);
      data = v.data.subarray(first, last + 1);
      headers["Content-Range"] = `bytes ${first}-${last}/${v.data.length}`;
      status = 206;
    }
    headers["Content-Length"] = String(data.length);
    return { status, headers, raw: req.method === "HEAD" ? Buffer.alloc(0) : data };
  }
}

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: Buffer;
}

function fileJson(b: Bucket, v: B2Version) {
  return {
    accountId: ACCOUNT_ID,
    bucketId: b.id,
    fileId: v.id,
    fileName: v.name,
    action: v.action,
    contentLength: v.data.length,
    size: v.data.length,
    contentSha1: v.sha1,
    contentType: v.contentType,
    fileInfo: v.info,
    uploadTimestamp: v.uploadTimestamp,
  };
}

/** B2 file names travel percent-encoded, a '+' standing for a space. */
function decodeFileName(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, " "));
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
