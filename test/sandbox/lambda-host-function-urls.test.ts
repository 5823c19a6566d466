// The Function URL host over real HTTP: the payload format 2.0 event a handler
// receives, and how its result, error or timeout becomes the HTTP response.

import { request as httpRequest } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { FunctionUrlHost, INVOKE_PAYLOAD_LIMIT_BYTES, LambdaInvoker } from '../../sandbox/lambda-host';

const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00.000Z'), frozen: true });
const seen: LambdaFunctionURLEvent[] = [];
let result: unknown;

const invoker = new LambdaInvoker(
  [
    {
      name: 'echo',
      handler: async (event: LambdaFunctionURLEvent, context) => {
        seen.push(event);
        return {
          statusCode: 200,
          body: JSON.stringify({ requestId: context.awsRequestId, fn: context.functionName }),
        };
      },
    },
    { name: 'answer', handler: async () => result },
    {
      name: 'broken',
      handler: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    },
    { name: 'slow', timeoutSeconds: 0.05, handler: () => new Promise(() => undefined) },
  ],
  clock,
);
const host = new FunctionUrlHost(invoker);
let base: string;

beforeAll(async () => {
  base = await host.start();
});
afterAll(() => host.stop());

function lastEvent(): LambdaFunctionURLEvent {
  const event = seen.at(-1);
  if (!event) throw new Error('the handler was not called');
  return event;
}

/** A raw HTTP request, so that a header can be sent on several lines. */
function rawRequest(
  path: string,
  headers: Record<string, string | string[]>,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the event a function URL handler receives', () => {
  it('is payload format 2.0 with the raw body, lower-cased headers and the path the function URL would see', async () => {
    const body = '{"webhookEvent":"jira:issue_created",  "key":"ACCESS-1"}\n';
    const response = await fetch(`${base}/echo/webhooks/jira?b=2&a=1&a=3`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Hub-Signature': 'sha256=abc',
        Cookie: 'c1=v1; c2=v2',
      },
      body,
    });

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { requestId: string; fn: string };
    const event = lastEvent();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/webhooks/jira',
      rawQueryString: 'b=2&a=1&a=3',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { a: '1,3', b: '2' },
      body,
      isBase64Encoded: false,
      requestContext: {
        accountId: 'anonymous',
        routeKey: '$default',
        stage: '$default',
        requestId: answer.requestId,
        time: '21/Nov/2026:09:00:00 +0000',
        timeEpoch: Date.parse('2026-11-21T09:00:00.000Z'),
        http: { method: 'POST', path: '/webhooks/jira', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers['x-hub-signature']).toBe('sha256=abc');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.requestContext.domainName).toBe(`${event.requestContext.apiId}.lambda-url.us-east-1.on.aws`);
    expect(event.requestContext.apiId).toMatch(/^[a-z2-7]{32}$/);
    expect(answer.fn).toBe('echo');
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('joins a header sent on several lines with commas and omits what the request does not have', async () => {
    await rawRequest('/echo', { 'x-multi': ['one', 'two'], 'content-type': 'text/plain' }, Buffer.alloc(0));
    const event = lastEvent();
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.rawPath).toBe('/');
    expect(event.rawQueryString).toBe('');
    expect(event.body).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.cookies).toBeUndefined();
  });

  it('base64-encodes a binary body byte for byte', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]);
    await rawRequest('/echo/upload', { 'content-type': 'application/octet-stream' }, bytes);
    const event = lastEvent();
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('base64-encodes a form body and a textual body that is not plain ASCII', async () => {
    await rawRequest(
      '/echo',
      { 'content-type': 'application/x-www-form-urlencoded' },
      Buffer.from('a=1&b=2'),
    );
    expect(lastEvent()).toMatchObject({
      isBase64Encoded: true,
      body: Buffer.from('a=1&b=2').toString('base64'),
    });

    const utf8 = Buffer.from('{"name":"Zoë"}');
    await rawRequest('/echo', { 'content-type': 'application/json' }, utf8);
    expect(Buffer.from(lastEvent().body ?? '', 'base64').equals(utf8)).toBe(true);
  });
});

describe('the response a function URL sends', () => {
  it('maps a structured result: status, headers, cookies and a base64 body', async () => {
    result = {
      statusCode: 201,
      headers: { 'Content-Type': 'text/plain', 'X-Custom': 'yes' },
      cookies: ['a=1; Max-Age=60', 'b=2'],
      body: Buffer.from('created').toString('base64'),
      isBase64Encoded: true,
    };
    const response = await fetch(`${base}/answer`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('x-custom')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Max-Age=60', 'b=2']);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.text()).toBe('created');
  });

  it('infers a 200 JSON response from a result without statusCode', async () => {
    result = { message: 'Hello, world!' };
    const response = await fetch(`${base}/answer`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ message: 'Hello, world!' });

    result = 'plain words';
    const text = await fetch(`${base}/answer`);
    expect(text.status).toBe(200);
    expect(await text.text()).toBe('plain words');
  });

  it('answers 502 Internal Server Error to a thrown error, a timeout and an invalid result', async () => {
    for (const path of ['/broken', '/slow']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(502);
      expect(await response.text()).toBe('Internal Server Error');
    }
    result = { statusCode: 'two hundred', body: 'x' };
    const invalid = await fetch(`${base}/answer`);
    expect(invalid.status).toBe(502);

    const outcomes = invoker.invocations.map((i) => [i.functionName, i.outcome]);
    expect(outcomes).toContainEqual(['broken', 'error']);
    expect(outcomes).toContainEqual(['slow', 'timeout']);
    expect(invoker.invocations.find((i) => i.functionName === 'broken')?.error).toBe(
      'TypeError: cannot read properties of undefined',
    );
  });

  it('refuses a request over the 6 MB invocation payload limit with 413, without invoking', async () => {
    const before = seen.length;
    const response = await rawRequest(
      '/echo',
      { 'content-type': 'text/plain' },
      Buffer.alloc(INVOKE_PAYLOAD_LIMIT_BYTES, 'a'),
    );
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({
      Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    });
    expect(seen.length).toBe(before);
  });

  it('answers 403 for a function that has no URL', async () => {
    const response = await fetch(`${base}/nobody/here`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ Message: null });
  });

  it('logs every request with the function, the path it saw and the status', () => {
    expect(host.requests).toContainEqual(
      expect.objectContaining({
        functionName: 'echo',
        rawPath: '/webhooks/jira',
        method: 'POST',
        status: 200,
      }),
    );
    expect(host.requests).toContainEqual(expect.objectContaining({ functionName: 'slow', status: 502 }));
  });
});
