// Lambda Function URLs on one loopback server: `/<function-name>/…` reaches
// that function with the payload format 2.0 event a real function URL builds,
// and its result is mapped to HTTP the way Lambda maps it (inferred 200 JSON,
// structured results, 502 on errors, timeouts and invalid results, 413 over
// the 6 MB invocation payload limit).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { LambdaInvoker } from './invoker';
import { closeServer, listenOnLoopback } from '../http/loopback';

/** Lambda's limit on a synchronous invocation's request and response payloads. */
export const INVOKE_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

export interface FunctionUrlRequestRecord {
  /** Sandbox-clock time the request arrived. */
  at: string;
  functionName: string;
  method: string;
  /** The path the function saw (without the `/<function-name>` prefix). */
  rawPath: string;
  status: number;
  requestId?: string;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class FunctionUrlHost {
  readonly requests: FunctionUrlRequestRecord[] = [];
  private server: Server | undefined;
  private base: string | undefined;

  constructor(private readonly invoker: LambdaInvoker) {}

  get url(): string {
    if (!this.base) throw new Error('the function URL host is not started');
    return this.base;
  }

  /** The base URL of one function, as its `FunctionUrl` would be (with a trailing slash). */
  functionUrl(name: string): string {
    if (!this.invoker.has(name)) throw new Error(`no function "${name}" is registered`);
    return `${this.url}/${name}/`;
  }

  /** The `<url-id>` of a function's URL: 32 lower-case letters and digits, stable per account and name. */
  urlId(name: string): string {
    const digest = createHash('sha256').update(`${this.invoker.identity.accountId}:${name}`).digest();
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    return Array.from(digest.subarray(0, 32), (byte) => alphabet[byte % 32]).join('');
  }

  async start(port = 0): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => this.receive(req, res));
    this.base = await listenOnLoopback(server, port);
    this.server = server;
    return this.base;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  state() {
    return {
      url: this.base,
      functions: this.invoker.names().map((name) => ({
        name,
        url: this.base ? `${this.base}/${name}/` : undefined,
        domainName: `${this.urlId(name)}.lambda-url.${this.invoker.identity.region}.on.aws`,
      })),
      requests: this.requests,
    };
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep reading to drain the socket, but do not hold more than the limit allows.
      if (size <= INVOKE_PAYLOAD_LIMIT_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = size > INVOKE_PAYLOAD_LIMIT_BYTES ? undefined : Buffer.concat(chunks);
      this.handle(req, body).then(
        (answer) => write(res, answer),
        (error: unknown) => write(res, plain(500, `sandbox failure: ${(error as Error).message}`)),
      );
    });
  }

  private async handle(req: IncomingMessage, body: Buffer | undefined): Promise<HttpAnswer> {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const fullPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const rawQueryString = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
    const m = /^\/([^/?]+)(\/.*)?$/.exec(fullPath);
    const functionName = m?.[1] ?? '';
    const rawPath = m?.[2] ?? '/';
    const at = this.invoker.clock.now();

    if (!this.invoker.has(functionName)) {
      // What a function URL that does not exist answers.
      return {
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
        cookies: [],
        body: Buffer.from('{"Message":null}'),
      };
    }
    const record: FunctionUrlRequestRecord = {
      at: at.toISOString(),
      functionName,
      method: req.method ?? 'GET',
      rawPath,
      status: 0,
    };
    this.requests.push(record);
    const answer = await this.invokeForRequest(req, functionName, rawPath, rawQueryString, body, at, record);
    record.status = answer.status;
    return answer;
  }

  private async invokeForRequest(
    req: IncomingMessage,
    functionName: string,
    rawPath: string,
    rawQueryString: string,
    body: Buffer | undefined,
    at: Date,
    record: FunctionUrlRequestRecord,
  ): Promise<HttpAnswer> {
    if (body === undefined) return payloadTooLarge();
    // The event's requestContext.requestId is the invocation's awsRequestId, as on Lambda.
    const requestId = randomUUID();
    const event = this.event(req, functionName, rawPath, rawQueryString, body, at, requestId);
    if (Buffer.byteLength(JSON.stringify(event)) > INVOKE_PAYLOAD_LIMIT_BYTES) return payloadTooLarge();

    const invocation = await this.invoker.invoke(functionName, event, 'function-url', requestId);
    record.requestId = invocation.requestId;
    const common = { 'x-amzn-requestid': invocation.requestId, 'x-amzn-trace-id': traceId(at) };
    if (invocation.outcome !== 'success') return internalServerError(common);
    const answer = mapResult(invocation.result);
    if (!answer) return internalServerError(common);
    return { ...answer, headers: { ...answer.headers, ...common } };
  }

  private event(
    req: IncomingMessage,
    functionName: string,
    rawPath: string,
    rawQueryString: string,
    body: Buffer,
    at: Date,
    requestId: string,
  ): LambdaFunctionURLEvent {
    const headers: Record<string, string> = {};
    let cookies: string[] = [];
    for (const [name, values] of Object.entries(req.headersDistinct)) {
      if (!values) continue;
      // Payload format 2.0 moves cookies out of the headers into their own list.
      if (name === 'cookie')
        cookies = values.flatMap((v) => v.split(';').map((c) => c.trim())).filter(Boolean);
      else headers[name] = values.join(',');
    }
    const sourceIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    headers['x-forwarded-for'] ??= sourceIp;
    headers['x-forwarded-proto'] ??= 'http';
    headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
    headers['x-amzn-trace-id'] ??= traceId(at);

    const queryStringParameters: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(rawQueryString)) {
      const previous = queryStringParameters[key];
      queryStringParameters[key] = previous === undefined ? value : `${previous},${value}`;
    }
    const urlId = this.urlId(functionName);
    const base64 = body.length > 0 && isBinary(headers['content-type'], body);
    const event: LambdaFunctionURLEvent = {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString,
      ...(cookies.length > 0 ? { cookies } : {}),
      headers,
      ...(Object.keys(queryStringParameters).length > 0 ? { queryStringParameters } : {}),
      requestContext: {
        // Function URLs with auth type NONE report the caller's account as anonymous.
        accountId: 'anonymous',
        apiId: urlId,
        domainName: `${urlId}.lambda-url.${this.invoker.identity.region}.on.aws`,
        domainPrefix: urlId,
        http: {
          method: req.method ?? 'GET',
          path: safeDecode(rawPath),
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp,
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: '$default',
        stage: '$default',
        time: clfTime(at),
        timeEpoch: at.getTime(),
      },
      ...(body.length > 0 ? { body: base64 ? body.toString('base64') : body.toString('utf8') } : {}),
      isBase64Encoded: base64,
    };
    return event;
  }
}

/**
 * Lambda passes a body as text only when its content type is textual and the
 * bytes are plain ASCII; anything else arrives base64-encoded, so a handler
 * must always honour `isBase64Encoded`.
 */
function isBinary(contentType: string | undefined, body: Buffer): boolean {
  const type = (contentType ?? '').toLowerCase();
  const textual = ['text', 'json', 'xml', 'javascript'].some((t) => type.includes(t));
  if (!textual) return true;
  return !body.every((byte) => byte < 0x80);
}

/**
 * Maps a handler's result to the HTTP answer, or undefined when Lambda would
 * reject it (502). A result with `statusCode` is a structured response; any
 * other JSON value is a 200 whose body is that value (a string as is).
 */
function mapResult(
  result: unknown,
): (Omit<HttpAnswer, 'headers'> & { headers: Record<string, string> }) | undefined {
  const serialized = JSON.stringify(result);
  if (serialized === undefined || Buffer.byteLength(serialized) > INVOKE_PAYLOAD_LIMIT_BYTES)
    return undefined;
  const json = { 'content-type': 'application/json' };
  if (typeof result === 'string')
    return { status: 200, headers: json, cookies: [], body: Buffer.from(result) };
  if (result === null || typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return { status: 200, headers: json, cookies: [], body: Buffer.from(serialized) };
  }
  const r = result as Record<string, unknown>;
  const status = r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return undefined;
  const headers: Record<string, string> = { ...json };
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return undefined;
    for (const [name, value] of Object.entries(r.headers)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) return undefined;
      headers[name.toLowerCase()] = String(value);
    }
  }
  let cookies: string[] = [];
  if (r.cookies !== undefined && r.cookies !== null) {
    if (!Array.isArray(r.cookies) || !r.cookies.every((c) => typeof c === 'string')) return undefined;
    cookies = r.cookies as string[];
  }
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean') return undefined;
  let body: Buffer;
  if (r.body === undefined || r.body === null) body = Buffer.alloc(0);
  else if (typeof r.body === 'string')
    body = r.isBase64Encoded ? Buffer.from(r.body, 'base64') : Buffer.from(r.body);
  else if (typeof r.body === 'object') body = Buffer.from(JSON.stringify(r.body));
  else return undefined;
  return { status, headers, cookies, body };
}

function internalServerError(headers: Record<string, string>): HttpAnswer {
  return {
    status: 502,
    headers: { 'content-type': 'application/json', ...headers },
    cookies: [],
    body: Buffer.from('Internal Server Error'),
  };
}

function payloadTooLarge(): HttpAnswer {
  return {
    status: 413,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'RequestTooLargeException' },
    cookies: [],
    body: Buffer.from(
      JSON.stringify({
        Message: `Request must be smaller than ${INVOKE_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`,
      }),
    ),
  };
}

function plain(status: number, message: string): HttpAnswer {
  return { status, headers: { 'content-type': 'text/plain' }, cookies: [], body: Buffer.from(message) };
}

function write(res: ServerResponse, answer: HttpAnswer): void {
  const headers: Record<string, string | string[]> = { ...answer.headers };
  if (answer.cookies.length > 0) headers['set-cookie'] = answer.cookies;
  headers['content-length'] = String(answer.body.length);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** `12/Mar/2020:19:03:58 +0000`, the request time format of the 2.0 payload. */
function clfTime(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())} +0000`
  );
}

function traceId(at: Date): string {
  return `Root=1-${Math.floor(at.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
