import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the first byte sent until the server closed the connection (or the answer was whole). */
  ms: number;
}

/** Parses one HTTP/1.1 response; undefined while incomplete. */
function parseResponse(text: string): Omit<RawAnswer, 'ms'> | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = text.slice(end + 4);
  const length = Number(headers['content-length'] ?? NaN);
  if (!Number.isNaN(length) && Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/**
 * Sends raw bytes (anything a client could send, malformed included), then
 * optionally `drip` more bytes one by one every `dripMs`; resolves with the
 * first whole response, or when the server closes the connection.
 */
export function rawRequest(
  port: number, bytes: string | Buffer, options: { drip?: string; dripMs?: number; timeoutMs?: number } = {},
): Promise<RawAnswer & { closed: boolean }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let dripper: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => finish(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    const finish = (error?: Error) => {
      clearTimeout(guard);
      clearInterval(dripper);
      socket.destroy();
      const parsed = parseResponse(received);
      if (error && !parsed) return reject(error);
      resolve({ ...(parsed ?? { status: 0, headers: {}, body: '' }), ms: performance.now() - started, closed: !error });
    };
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (parseResponse(received) && !options.drip) finish();
    });
    socket.on('close', () => finish());
    socket.on('error', () => finish());
    socket.write(bytes);
    if (options.drip) {
      let at = 0;
      dripper = setInterval(() => {
        if (at < options.drip!.length && socket.writable) socket.write(options.drip![at++]!);
      }, options.dripMs ?? 500);
    }
  });
}
