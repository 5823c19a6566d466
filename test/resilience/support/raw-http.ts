// A minimal HTTP/1.1 client over a socket, for hostile requests that fetch
// refuses to send: repeated headers, header names in any case, raw UTF-8 bytes
// in header values, any body bytes.

import { connect } from 'node:net';

export type RawHeader = [name: string, value: string | Buffer];

export interface RawAnswer {
  status: number;
  body: string;
}

/** Sends one request exactly as given (plus Host, Content-Length, Connection: close). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: RawHeader[]; body?: string | Buffer },
): Promise<RawAnswer> {
  const target = new URL(url);
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body ?? '', 'utf8');
  const lines: Buffer[] = [
    Buffer.from(`${options.method ?? 'POST'} ${target.pathname}${target.search} HTTP/1.1\r\n`),
    Buffer.from(`Host: ${target.host}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n`),
  ];
  for (const [name, value] of options.headers ?? []) {
    lines.push(
      Buffer.from(`${name}: `),
      Buffer.isBuffer(value) ? value : Buffer.from(value),
      Buffer.from('\r\n'),
    );
  }
  lines.push(Buffer.from('\r\n'), body);

  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      if (!status) {
        reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const at = text.indexOf('\r\n\r\n');
      resolve({ status: Number(status), body: at === -1 ? '' : text.slice(at + 4) });
    });
    // Not end(): a half-closed socket makes the server drop the request before it answers.
    socket.write(Buffer.concat(lines));
  });
}
