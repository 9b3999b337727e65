// Minimal HTTP client for the smoke checks (Node's fetch), bounded by the caller's AbortSignal.

/** Join the ALB base URL and a config path. */
export function joinUrl(/** @type {string} */ base, /** @type {string} */ path) {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * @param {string} url
 * @param {{ method?: string, headers?: Record<string, string>, body?: string, signal?: AbortSignal, maxBody?: number }} [opts]
 * @returns {Promise<{ status: number, ok: boolean, body: string, ms: number }>}
 */
export async function httpRequest(url, opts = {}) {
  const t0 = Date.now();
  let res;
  try {
    res = await fetch(url, { method: opts.method ?? 'GET', headers: opts.headers, body: opts.body, signal: opts.signal, redirect: 'manual' });
  } catch (err) {
    const e = /** @type {Error & { cause?: { code?: string, message?: string } }} */ (err);
    if (opts.signal?.aborted) throw opts.signal.reason ?? e;
    const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(e);
    throw new Error(`${opts.method ?? 'GET'} ${url}: request failed (${cause})`);
  }
  const max = opts.maxBody ?? 64 * 1024;
  let body = '';
  if (res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    while (body.length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
    }
    await reader.cancel().catch(() => {});
  }
  return { status: res.status, ok: res.status >= 200 && res.status < 300, body: body.slice(0, max), ms: Date.now() - t0 };
}

/** A short single-line excerpt of a response body for evidence. */
export function excerpt(/** @type {string} */ body, max = 120) {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}...` : one;
}
