/**
 * The test S3 server's pure parts: the aws-chunked decoder it puts in front of s3rver, and the
 * environment it gives restic and rclone. The server itself, against the real binaries, is
 * in s3-server.e2e.test.ts.
 */
import { randomBytes } from "crypto";
import { Readable } from "stream";
import { AwsChunkedDecoder, isAwsChunked, withoutAwsChunkedEncoding } from "./support/aws-chunked";
import { s3ClientEnv } from "./support/s3-server";

/** Frames `payload` the way minio-go does for STREAMING-AWS4-HMAC-SHA256-PAYLOAD. */
function awsChunked(payload: Buffer, chunkSize: number): Buffer {
  const signature = "0".repeat(64);
  const parts: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += chunkSize) {
    const data = payload.subarray(offset, offset + chunkSize);
    parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${signature}\r\n`), data, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`0;chunk-signature=${signature}\r\n\r\n`));
  return Buffer.concat(parts);
}

async function decode(framed: Buffer, pieceSize: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < framed.length; offset += pieceSize) pieces.push(framed.subarray(offset, offset + pieceSize));
  const decoder = new AwsChunkedDecoder();
  const out: Buffer[] = [];
  decoder.on("data", (chunk: Buffer) => out.push(chunk));
  await new Promise<void>((resolve, reject) => {
    decoder.on("end", resolve).on("error", reject);
    Readable.from(pieces).on("error", reject).pipe(decoder);
  });
  return Buffer.concat(out);
}

describe("aws-chunked decoding", () => {
  const payload = randomBytes(70_000);

  it.each([
    ["whole body at once", 8192, 1_000_000],
    ["one byte at a time", 8192, 1],
    ["pieces that split headers and CRLFs", 8192, 7],
    ["64 KiB chunks like minio-go", 65536, 4096],
  ])("decodes %s", async (_name, chunkSize, pieceSize) => {
    expect((await decode(awsChunked(payload, chunkSize), pieceSize)).equals(payload)).toBe(true);
  });

  it("decodes an empty body", async () => {
    expect((await decode(awsChunked(Buffer.alloc(0), 8192), 5)).length).toBe(0);
  });

  it.each([
    ["truncated before the final chunk", (framed: Buffer) => framed.subarray(0, framed.length - 90), /ended early/],
    ["a chunk size that is not hex", (framed: Buffer) => Buffer.concat([Buffer.from("zz;chunk-signature=0\r\n"), framed]), /not hex/],
    ["data longer than its chunk size", (framed: Buffer) => Buffer.from(framed.toString("latin1").replace(/^[0-9a-f]+;/, "10;"), "latin1"), /CRLF/],
  ])("rejects %s", async (_name, corrupt, message) => {
    await expect(decode(corrupt(awsChunked(payload, 8192)), 1000)).rejects.toThrow(message);
  });

  it.each([
    [{ "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" }, true],
    [{ "content-encoding": "gzip, aws-chunked" }, true],
    [{ "x-amz-content-sha256": "UNSIGNED-PAYLOAD" }, false],
    [{ "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, false],
    [{}, false],
  ])("isAwsChunked(%j) is %s", (headers, expected) => {
    expect(isAwsChunked(headers)).toBe(expected);
  });

  it.each([
    ["aws-chunked", undefined],
    ["gzip,aws-chunked", "gzip"],
    ["gzip", "gzip"],
    [undefined, undefined],
  ])("content-encoding %j without aws-chunked is %j", (input, expected) => {
    expect(withoutAwsChunkedEncoding(input)).toBe(expected);
  });
});

describe("s3ClientEnv", () => {
  it("drops AWS_CA_BUNDLE, turns on rclone fast-list and leaves the base environment alone", () => {
    const base = { AWS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt", PATH: "/usr/bin" };
    const env = s3ClientEnv(base);
    expect(env).toEqual({ PATH: "/usr/bin", RCLONE_FAST_LIST: "true" });
    expect(base.AWS_CA_BUNDLE).toBe("/etc/ssl/certs/ca-certificates.crt");
  });
});

