// The awsQuery wire format IAM answers in: `<XResponse><XResult>…</XResult>
// <ResponseMetadata>` envelopes, `<member>` lists, `<ErrorResponse>` errors, and
// the URL encoding IAM applies to policy documents.

import type { StandInResponse } from '../http/stand-in';
import type { IamError } from './errors';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** IAM timestamps are ISO 8601 in UTC without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One element with escaped text; nothing at all when the value is absent, as IAM omits unset fields. */
export function field(name: string, value: string | number | boolean | Date | undefined): string {
  if (value === undefined) return '';
  const text = value instanceof Date ? isoSeconds(value) : String(value);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** An element around already-rendered children. */
export function element(name: string, children: string): string {
  return `<${name}>${children}</${name}>`;
}

/** A list in awsQuery's shape: each item is a `<member>`. */
export function members(name: string, items: readonly string[]): string {
  if (items.length === 0) return `<${name}/>`;
  return element(name, items.map((item) => element('member', item)).join(''));
}

/** Policy documents travel URL-encoded (RFC 3986); callers decode them with decodeURIComponent. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function xmlResponse(status: number, body: string, requestId: string): StandInResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

/** A successful answer; actions without output (Put*, Attach*…) carry no Result element. */
export function actionResponse(
  action: string,
  result: string | undefined,
  requestId: string,
): StandInResponse {
  const resultXml = result === undefined ? '' : element(`${action}Result`, result);
  return xmlResponse(
    200,
    `<${action}Response xmlns="${IAM_XMLNS}">${resultXml}` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    requestId,
  );
}

export function errorResponse(error: IamError, requestId: string): StandInResponse {
  return xmlResponse(
    error.status,
    `<ErrorResponse xmlns="${IAM_XMLNS}"><Error>` +
      `${field('Type', error.type)}${field('Code', error.code)}${field('Message', error.message)}` +
      `</Error>${field('RequestId', requestId)}</ErrorResponse>`,
    requestId,
  );
}
