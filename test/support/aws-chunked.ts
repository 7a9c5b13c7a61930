/**
 * Decoder for S3 `aws-chunked` request bodies (SigV4 streaming uploads,
 * `x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
 *
 * restic's S3 client (minio-go) sends object bodies this way over plain http.
 * s3rver 3.7 does not understand the framing and would store it verbatim, so
 * the test S3 server decodes it before s3rver sees the body.
 *
 * Wire format (one or more chunks, ended by a zero-length chunk, optionally
 * followed by trailer lines, which are ignored):
 *
 *     <size in hex>;chunk-signature=<64 hex>\r\n
 *     <size bytes of data>\r\n
 *     ...
 *     0;chunk-signature=<64 hex>\r\n
 *     \r\n
 *
 * Chunk signatures are not verified: s3rver does not verify SigV4 either.
 */
import { Transform, TransformCallback } from "stream";

/** Values of `x-amz-content-sha256` that announce an aws-chunked body. */
const STREAMING_PAYLOADS = /^STREAMING-/i;

/** Longest chunk header line accepted (real ones are ~85 bytes). */
const MAX_HEADER_LINE = 4096;

/** True when the request headers announce an aws-chunked body. */
export function isAwsChunked(headers: Record<string, string | string[] | undefined>): boolean {
  const sha = headerValue(headers, "x-amz-content-sha256");
  if (sha !== undefined && STREAMING_PAYLOADS.test(sha)) return true;
  const encoding = headerValue(headers, "content-encoding") ?? "";
  return encoding.split(",").some((token) => token.trim().toLowerCase() === "aws-chunked");
}

/** `Content-Encoding` with the `aws-chunked` token removed (undefined when nothing is left). */
export function withoutAwsChunkedEncoding(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  const rest = contentEncoding
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "" && token.toLowerCase() !== "aws-chunked");
  return rest.length > 0 ? rest.join(", ") : undefined;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

type DecoderState =
  | { kind: "header"; line: Buffer }
  | { kind: "data"; remaining: number }
  | { kind: "data-end"; seen: number }
  | { kind: "done" };

/** Streaming decoder: aws-chunked bytes in, payload bytes out. Errors on malformed or truncated input. */
export class AwsChunkedDecoder extends Transform {
  private state: DecoderState = { kind: "header", line: Buffer.alloc(0) };

  /** Payload bytes emitted so far. */
  decodedLength = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state.kind === "done") callback();
    else callback(new Error(`aws-chunked body ended early (while reading ${this.state.kind}, after ${this.decodedLength} payload bytes)`));
  }

  private consume(input: Buffer): void {
    let offset = 0;
    while (offset < input.length) {
      const state = this.state;
      switch (state.kind) {
        case "header": {
          const newline = input.indexOf(0x0a, offset);
          const end = newline === -1 ? input.length : newline + 1;
          const line = Buffer.concat([state.line, input.subarray(offset, end)]);
          offset = end;
          if (line.length > MAX_HEADER_LINE) throw new Error("aws-chunked chunk header line too long");
          if (newline === -1) {
            this.state = { kind: "header", line };
            break;
          }
          const text = line.toString("latin1");
          if (!text.endsWith("\r\n")) throw new Error(`aws-chunked chunk header not ended by CRLF: ${JSON.stringify(text)}`);
          const sizeText = text.slice(0, -2).split(";")[0].trim();
          if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`aws-chunked chunk size is not hex: ${JSON.stringify(sizeText)}`);
          const size = parseInt(sizeText, 16);
          this.state = size === 0 ? { kind: "done" } : { kind: "data", remaining: size };
          break;
        }
        case "data": {
          const take = Math.min(state.remaining, input.length - offset);
          this.push(input.subarray(offset, offset + take));
          this.decodedLength += take;
          offset += take;
          const remaining = state.remaining - take;
          this.state = remaining === 0 ? { kind: "data-end", seen: 0 } : { kind: "data", remaining };
          break;
        }
        case "data-end": {
          // The CRLF that ends a chunk's data; it may be split across reads.
          const expected = state.seen === 0 ? 0x0d : 0x0a;
          if (input[offset] !== expected) throw new Error("aws-chunked chunk data not followed by CRLF (wrong chunk size?)");
          offset += 1;
          this.state = state.seen === 0 ? { kind: "data-end", seen: 1 } : { kind: "header", line: Buffer.alloc(0) };
          break;
        }
        case "done":
          // Trailer lines after the final chunk carry nothing s3rver needs.
          return;
        default: {
          const unreachable: never = state;
          throw new Error(`unknown decoder state ${JSON.stringify(unreachable)}`);
        }
      }
    }
  }
}
