// The base of every vendor stand-in: a loopback HTTP server with a small
// router, the vendor's authentication check, injected faults answered in the
// vendor's shape, and a log of calls for inspection.

import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Faults } from './faults';
import { closeServer, listenOnLoopback } from './loopback';

export interface StandInRequest {
  method: string;
  /** Path without the query string, e.g. `/rest/api/3/issue/ACCESS-1`. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased names, as Node gives them. */
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Path parameters of the matched route (`:id` → params.id). */
  params: Record<string, string>;
  /** The route key that matched, `METHOD /pattern`. */
  routeKey: string;
  /** This server's base URL, for building links (Okta `Link`, Jira `self`). */
  baseUrl: string;
}

export interface StandInResponse {
  status: number;
  /** A list sends the header once per value (Okta sends `Link` that way). */
  headers?: Record<string, string | string[]>;
  /** An object or array is sent as JSON; a string or Buffer as is. */
  body?: unknown;
}

export type RouteHandler = (request: StandInRequest) => StandInResponse | Promise<StandInResponse>;

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: RouteHandler;
}

export interface CallRecord {
  at: string;
  method: string;
  path: string;
  routeKey: string | undefined;
  status: number;
  /** Time the stand-in spent on the call, from the whole request read to the response ready. */
  durationMs: number;
}

export class JsonBodyError extends Error {}

/** Parses a JSON body, throwing JsonBodyError (which stand-ins answer with their vendor's 400). */
export function jsonBody<T = unknown>(request: StandInRequest): T {
  try {
    return JSON.parse(request.rawBody.toString('utf8')) as T;
  } catch (error) {
    throw new JsonBodyError(`malformed JSON: ${(error as Error).message}`);
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): StandInResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body };
}

export abstract class HttpStandIn {
  readonly faults = new Faults();
  readonly calls: CallRecord[] = [];
  private readonly routes: Route[] = [];
  private server: Server | undefined;
  private base: string | undefined;

  /** `clock` stamps the call log; stand-ins pass the sandbox clock so logs line up with moved time. */
  constructor(
    readonly name: string,
    private readonly logClock: { now(): Date } = { now: () => new Date() },
  ) {}

  /** The vendor's check of credentials; return its 401/403 response to refuse, undefined to accept. */
  protected abstract authenticate(request: StandInRequest): StandInResponse | undefined;
  /** The vendor's answer to an injected fault with this status (its 429 headers, its 5xx body). */
  protected abstract faultResponse(status: number, request: StandInRequest): StandInResponse;
  /** The vendor's 404 for a path it does not serve. */
  protected abstract routeNotFound(request: StandInRequest): StandInResponse;
  /** The vendor's 400 for a malformed body. */
  protected abstract malformedBody(message: string, request: StandInRequest): StandInResponse;
  /** Everything a test or the control API may inspect. */
  abstract state(): unknown;

  /** Routes whose authentication the stand-in skips (health, discovery). */
  protected isPublic(_request: StandInRequest): boolean {
    return false;
  }

  get url(): string {
    if (!this.base) throw new Error(`${this.name} stand-in is not started`);
    return this.base;
  }

  protected route(method: string, pattern: string, handler: RouteHandler): void {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}/?$`), names, handler });
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.dispatch(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks)).then(
          (response) => send(res, response),
          (error: unknown) =>
            send(res, json(500, { error: `stand-in failure: ${(error as Error).message}` })),
        );
      });
    });
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

  private async dispatch(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    rawBody: Buffer,
  ): Promise<StandInResponse> {
    const url = new URL(rawUrl, this.url);
    const found = this.match(method, url.pathname);
    const request: StandInRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers,
      rawBody,
      params: found?.params ?? {},
      routeKey: found ? `${found.route.method} ${found.route.pattern}` : '',
      baseUrl: this.url,
    };
    const started = performance.now();
    const response = await this.handle(request, found?.route);
    this.calls.push({
      durationMs: performance.now() - started,
      at: this.logClock.now().toISOString(),
      method,
      path: url.pathname,
      routeKey: found ? request.routeKey : undefined,
      status: response.status,
    });
    return response;
  }

  private async handle(request: StandInRequest, route: Route | undefined): Promise<StandInResponse> {
    const faultStatus = await this.faults.apply(
      route ? request.routeKey : `${request.method} ${request.path}`,
    );
    if (faultStatus !== undefined) return this.faultResponse(faultStatus, request);
    if (!this.isPublic(request)) {
      const refusal = this.authenticate(request);
      if (refusal) return refusal;
    }
    if (!route) return this.routeNotFound(request);
    try {
      return await route.handler(request);
    } catch (error) {
      if (error instanceof JsonBodyError) return this.malformedBody(error.message, request);
      throw error;
    }
  }

  private match(method: string, path: string) {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
      return { route, params };
    }
    return undefined;
  }
}

function send(res: ServerResponse, response: StandInResponse): void {
  const headers = { ...response.headers };
  let body: string | Buffer | undefined;
  if (response.body === undefined) body = undefined;
  else if (typeof response.body === 'string' || Buffer.isBuffer(response.body)) body = response.body;
  else {
    body = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(response.status, headers);
  res.end(body);
}
