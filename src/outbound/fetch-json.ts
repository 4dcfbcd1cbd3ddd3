/**
 * Kupe's own fetches of documents it trusts by URL (an identity provider's discovery document and keys,
 * GitHub's secret-scanning keys): bounded in time and size, every failure an Error that names the URL.
 */

/** GETs `url` as JSON: given up after `timeoutMs`, refused past `maxBytes` (`what` names it in errors). */
export async function fetchJson(url: string, what: string, timeoutMs: number, maxBytes: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    const cause = error instanceof Error && error.name === 'TimeoutError'
      ? `no answer within ${timeoutMs} ms`
      : String((error as { cause?: { code?: string } }).cause?.code ?? error);
    throw new Error(`fetching the ${what} ${url} failed: ${cause}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`fetching the ${what} ${url} failed: HTTP ${response.status}`);
  }
  const text = await readLimited(response, maxBytes, `the ${what} ${url}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`the ${what} ${url} is not JSON`);
  }
}

/**
 * The body as text, read as it arrives and given up (the connection cancelled) past `limit` bytes: a provider
 * that answers 100 MB costs Kupe `limit` bytes, not 100 MB.
 */
async function readLimited(response: Response, limit: number, what: string): Promise<string> {
  const tooLarge = () => new Error(`${what} is larger than ${limit} bytes`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
