// The one HTTP proxy in front of the emulator (moto_server) for the benchmark and the fault matrix: it forwards
// every AWS request, records it (service, operation, status, times) and, by rules, injects faults.
// Contract:
//   startFaultProxy({ target, rules?, seed? }) -> Promise<FaultProxy> listening on 127.0.0.1 (a free port)
//   FaultProxy.calls           every request so far, in arrival order (Call records, updated as the reply goes out)
//   FaultProxy.take()          { total, byOperation, calls } since the last take(), then starts a new count
//   FaultProxy.setRules(rules) replaces the rules (their counters start at 0); addRule(rule) -> a remover;
//   FaultProxy.reseed(seed)    restarts the seeded RNG
//   FaultProxy.waitFor(match, { on, timeoutMs }) resolves with the first call (past or future) that matches
//   FaultProxy.close()
// A rule matches on service (the SigV4 signing name: ecs, elasticloadbalancing, logs, elasticfilesystem, ...)
// and operation (X-Amz-Target, the query `Action=`, or METHOD /path for REST protocols), optionally only from
// the nth matching call, after another call was seen, with a probability drawn from the proxy's seeded RNG, or
// a limited number of times. Fault kinds (the first matching rule applies):
//   throttle  the service's own throttling error: 400 ThrottlingException (JSON protocols, X-Amzn-ErrorType),
//             400 <ErrorResponse><Error><Code>Throttling</Code> (query protocols, e.g. ELBv2), 429 for REST
//   error     a server error, default 503 ServiceUnavailable in the protocol's shape (status/code/message given)
//   delay     forward (the emulator applies the call), then hold the reply `ms` milliseconds
//   rewrite   forward, then replace the reply body with rewrite(body, call) (e.g. a FAILED deployment)
//   reply     answer without forwarding: { status, body (or body(call)), headers }
//   overlay   handle(call, forward) decides, asynchronously: forward() sends the request on and resolves the
//             emulator's reply (body decoded); handle resolves the reply to send, or undefined to send the
//             emulator's own (forwarding first if it did not). The local data plane answers with it what the
//             emulator cannot (scripts/lib/dataplane)
import http from 'node:http';
import zlib from 'node:zlib';
import { freePort } from './moto.mjs';

/**
 * @typedef {object} Call
 * @property {number} seq              1-based arrival number
 * @property {string} service          signing name from the Authorization scope ('' when unsigned)
 * @property {string} operation        e.g. DescribeServices; `GET /path` for an unknown REST call
 * @property {'json'|'query'|'rest'} protocol
 * @property {string} method
 * @property {string} path
 * @property {string} body             request body (first 64 KiB)
 * @property {number} at               ms since the proxy started, when the request arrived
 * @property {number | null} upstreamStatus  the emulator's status (null: not forwarded, or it failed)
 * @property {number | null} upstreamAt       when the emulator answered (for a mutating call: it is applied)
 * @property {number | null} status           status sent to the client (null: not yet, or the client left)
 * @property {number | null} repliedAt
 * @property {string | null} fault            name of the rule applied (null: plain forward)
 */

/**
 * @typedef {{ kind: 'throttle', message?: string }
 *   | { kind: 'error', status?: number, code?: string, message?: string }
 *   | { kind: 'delay', ms: number }
 *   | { kind: 'rewrite', rewrite: (body: string, call: Call) => string }
 *   | { kind: 'reply', status?: number, body: string | ((call: Call) => string), headers?: Record<string, string> }
 *   | { kind: 'overlay', handle: (call: Call, forward: () => Promise<Reply>) => Promise<Reply | undefined> }} Fault
 */

/** @typedef {{ status: number, headers: http.OutgoingHttpHeaders, body: Buffer | string }} Reply */

/**
 * @typedef {object} Rule
 * @property {string} [name]                         shows in Call.fault (default: the fault kind)
 * @property {string | string[]} [service]          signing name(s); any when absent
 * @property {string | string[]} [operation]        any when absent
 * @property {(call: Call) => boolean} [when]        a further condition (e.g. on the request body)
 * @property {number} [from]                         only from the nth matching call on (1-based)
 * @property {number} [times]                        applied at most this many times
 * @property {{ service?: string, operation: string }} [after]  only once such a call, sent after the rule was set,
 *   has been answered upstream
 * @property {number} [probability]                  0..1, drawn from the proxy's seeded RNG (default 1)
 * @property {Fault} fault
 */

/**
 * @typedef {object} FaultProxy
 * @property {string} endpoint
 * @property {number} port
 * @property {Call[]} calls
 * @property {() => { total: number, byOperation: Record<string, number>, calls: Call[] }} take
 * @property {(rules: Rule[]) => void} setRules
 * @property {(rule: Rule) => () => void} addRule
 * @property {(seed: number) => void} reseed       restart the RNG of `probability` from this seed
 * @property {(match: (c: Call) => boolean, opts?: { on?: 'request' | 'upstream' | 'reply', since?: number, timeoutMs?: number }) => Promise<Call>} waitFor
 *   the first call with seq > since (default 0) that has reached `on` (default request) and matches
 * @property {() => Promise<void>} close
 */

const BODY_KEPT = 65536;

/** Operations that change AWS state (a later step must not send one after a failure). */
export const MUTATING_OPERATIONS = Object.freeze(new Set([
  'RegisterTaskDefinition', 'DeregisterTaskDefinition', 'RunTask', 'StartTask', 'StopTask', 'UpdateService', 'CreateService',
  'DeleteService', 'TagResource', 'UntagResource', 'PutImage', 'BatchDeleteImage', 'InitiateLayerUpload', 'CompleteLayerUpload',
  'PutSecretValue', 'UpdateSecret', 'RegisterTargets', 'DeregisterTargets', 'CreateLogStream', 'PutLogEvents',
]));

/** @param {string} operation */
export const isMutating = (operation) => MUTATING_OPERATIONS.has(operation);

/** REST-protocol operations the runner sends, by signing name, method and path. */
const REST_OPERATIONS = [
  { service: 'elasticfilesystem', method: 'GET', path: /\/mount-targets$/, operation: 'DescribeMountTargets' },
  { service: 'elasticfilesystem', method: 'GET', path: /\/file-systems$/, operation: 'DescribeFileSystems' },
];

/** A small seeded PRNG (mulberry32): the same seed gives the same fault sequence. @param {number} seed */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Service, operation and protocol of a request.
 * @param {http.IncomingHttpHeaders} headers @param {string} method @param {string} url @param {string} body
 * @returns {{ service: string, operation: string, protocol: 'json'|'query'|'rest', path: string }}
 */
export function classify(headers, method, url, body) {
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1] ?? '';
  const path = url.split('?')[0];
  const target = String(headers['x-amz-target'] ?? '');
  if (target) return { service, operation: target.split('.').pop() ?? target, protocol: 'json', path };
  const action = /(?:^|&)Action=([A-Za-z0-9]+)/.exec(body)?.[1] ?? /[?&]Action=([A-Za-z0-9]+)/.exec(url)?.[1];
  if (action) return { service, operation: action, protocol: 'query', path };
  const known = REST_OPERATIONS.find((r) => r.service === service && r.method === method && r.path.test(path));
  return { service, operation: known ? known.operation : `${method} ${path}`, protocol: 'rest', path };
}

/**
 * The status, headers and body of an AWS error in the request's protocol.
 * @param {'json'|'query'|'rest'} protocol @param {number} status @param {string} code @param {string} message
 */
export function errorReply(protocol, status, code, message) {
  const requestId = `fault-${Math.random().toString(16).slice(2, 10)}`;
  if (protocol === 'query') {
    const esc = (/** @type {string} */ s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `<Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  return {
    status,
    headers: {
      'content-type': protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json',
      'x-amzn-errortype': code, 'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: code, message }),
  };
}

/** @param {string | string[] | undefined} want @param {string} got */
const oneOf = (want, got) => want === undefined || (Array.isArray(want) ? want.includes(got) : want === got);

/**
 * @param {{ target: string | number, rules?: Rule[], seed?: number }} opts target: the emulator's endpoint or port
 * @returns {Promise<FaultProxy>}
 */
export async function startFaultProxy(opts) {
  const up = typeof opts.target === 'number' ? new URL(`http://127.0.0.1:${opts.target}`) : new URL(opts.target);
  let random = seededRandom(opts.seed ?? 1);
  const t0 = Date.now();
  /** @type {Call[]} */
  const calls = [];
  let taken = 0;
  /** @type {{ rule: Rule, seen: number, applied: number, since: number }[]} */
  let rules = [];
  /** @type {Set<{ match: (c: Call) => boolean, on: string, resolve: (c: Call) => void }>} */
  const waiters = new Set();
  /** @type {Set<http.ServerResponse>} */
  const open = new Set();
  const agent = new http.Agent({ keepAlive: true }); // its sockets to the emulator end with close()

  /** @param {string} on @param {Call} call */
  const notify = (on, call) => {
    for (const w of [...waiters]) {
      if (w.on === on && w.match(call)) {
        waiters.delete(w);
        w.resolve(call);
      }
    }
  };
  const reached = (/** @type {Call} */ c, /** @type {string} */ on) =>
    on === 'request' || (on === 'upstream' ? c.upstreamAt !== null : c.repliedAt !== null);

  /** The fault for this call, if any (every rule whose match holds counts the call). @param {Call} call */
  const pick = (call) => {
    /** @type {{ rule: Rule } | null} */
    let chosen = null;
    for (const r of rules) {
      const { rule } = r;
      if (!oneOf(rule.service, call.service) || !oneOf(rule.operation, call.operation)) continue;
      if (rule.when && !rule.when(call)) continue;
      const after = rule.after;
      if (after && !calls.some((c) => c.seq > r.since && c !== call && c.operation === after.operation && oneOf(after.service, c.service) && c.upstreamAt !== null)) continue;
      r.seen += 1;
      if (chosen) continue;
      if (rule.from !== undefined && r.seen < rule.from) continue;
      if (rule.times !== undefined && r.applied >= rule.times) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      r.applied += 1;
      chosen = r;
    }
    return chosen?.rule ?? null;
  };

  /**
   * @param {http.ServerResponse} res @param {Call} call
   * @param {{ status: number, headers: http.OutgoingHttpHeaders, body: Buffer | string }} out
   */
  const send = (res, call, out) => {
    const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
    const headers = { ...out.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    delete headers['content-encoding'];
    if (!res.destroyed) {
      res.writeHead(out.status, headers);
      res.end(body);
    }
    call.status = res.destroyed ? null : out.status;
    call.repliedAt = Date.now() - t0;
    notify('reply', call);
  };

  /** Forward to the emulator; resolves with its reply (body decoded). @param {http.IncomingMessage} req @param {Buffer} body @param {Call} call */
  const forward = (req, body, call) => new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: up.host };
    const r = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers, agent }, (u) => {
      /** @type {Buffer[]} */
      const chunks = [];
      u.on('data', (c) => chunks.push(c));
      u.on('error', reject);
      u.on('end', () => {
        /** @type {Buffer} */
        let data = Buffer.concat(chunks);
        const enc = String(u.headers['content-encoding'] ?? '');
        if (enc === 'gzip') data = zlib.gunzipSync(data);
        else if (enc === 'deflate') data = zlib.inflateSync(data);
        call.upstreamStatus = u.statusCode ?? 502;
        call.upstreamAt = Date.now() - t0;
        notify('upstream', call);
        resolve({ status: u.statusCode ?? 502, headers: /** @type {http.OutgoingHttpHeaders} */ ({ ...u.headers }), body: data });
      });
    });
    r.on('error', reject);
    r.end(body);
  });

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Buffer} body */
  const handle = async (req, res, body) => {
    const text = body.toString('utf8');
    const kind = classify(req.headers, String(req.method), String(req.url), text);
    /** @type {Call} */
    const call = {
      seq: calls.length + 1, ...kind, method: String(req.method), body: text.slice(0, BODY_KEPT), at: Date.now() - t0,
      upstreamStatus: null, upstreamAt: null, status: null, repliedAt: null, fault: null,
    };
    calls.push(call);
    notify('request', call);
    const rule = pick(call);
    const fault = rule?.fault;
    if (rule && fault) call.fault = rule.name ?? fault.kind;
    try {
      if (fault?.kind === 'throttle') {
        const status = call.protocol === 'rest' ? 429 : 400;
        return send(res, call, errorReply(call.protocol, status, call.protocol === 'query' ? 'Throttling' : 'ThrottlingException', fault.message ?? 'Rate exceeded'));
      }
      if (fault?.kind === 'error') {
        return send(res, call, errorReply(call.protocol, fault.status ?? 503, fault.code ?? 'ServiceUnavailable', fault.message ?? 'injected server error'));
      }
      if (fault?.kind === 'reply') {
        const headers = fault.headers ?? { 'content-type': call.protocol === 'query' ? 'text/xml' : 'application/x-amz-json-1.1' };
        return send(res, call, { status: fault.status ?? 200, headers, body: typeof fault.body === 'function' ? fault.body(call) : fault.body });
      }
      if (fault?.kind === 'overlay') {
        /** @type {Promise<Reply> | null} */
        let sent = null;
        const once = () => (sent ??= /** @type {Promise<Reply>} */ (forward(req, body, call)));
        const answer = await fault.handle(call, once);
        return send(res, call, answer ?? await once());
      }
      const r = /** @type {{ status: number, headers: http.OutgoingHttpHeaders, body: Buffer }} */ (await forward(req, body, call));
      if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (fault?.kind === 'rewrite') return send(res, call, { ...r, body: fault.rewrite(r.body.toString('utf8'), call) });
      return send(res, call, r);
    } catch (e) {
      return send(res, call, { status: 502, headers: { 'content-type': 'text/plain' }, body: `fault proxy: ${/** @type {Error} */ (e).message}` });
    }
  };

  const server = http.createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { void handle(req, res, Buffer.concat(chunks)); });
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(null)));

  const compile = (/** @type {Rule} */ rule) => ({ rule, seen: 0, applied: 0, since: calls.length });
  rules = (opts.rules ?? []).map(compile); // the documented option (it was ignored)
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    calls,
    take() {
      const mine = calls.slice(taken);
      taken = calls.length;
      /** @type {Record<string, number>} */
      const byOperation = {};
      for (const c of mine) byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
      return { total: mine.length, byOperation, calls: mine };
    },
    setRules(list) {
      rules = list.map(compile);
    },
    reseed(seed) {
      random = seededRandom(seed);
    },
    addRule(rule) {
      const r = compile(rule);
      rules.push(r);
      return () => { rules = rules.filter((x) => x !== r); };
    },
    waitFor(match, o = {}) {
      const on = o.on ?? 'request';
      const since = o.since ?? 0;
      const matches = (/** @type {Call} */ c) => c.seq > since && match(c);
      const past = calls.find((c) => reached(c, on) && matches(c));
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        /** @type {NodeJS.Timeout | undefined} */
        let timer;
        const w = { match: matches, on, resolve: (/** @type {Call} */ c) => { clearTimeout(timer); resolve(c); } };
        waiters.add(w);
        if (o.timeoutMs !== undefined) {
          timer = setTimeout(() => { waiters.delete(w); reject(new Error(`fault proxy: no matching call (${on}) within ${o.timeoutMs} ms`)); }, o.timeoutMs);
          timer.unref();
        }
      });
    },
    close: () => new Promise((resolve) => {
      for (const res of open) res.destroy();
      server.close(() => resolve(undefined));
      server.closeAllConnections();
      agent.destroy();
    }),
  };
}

/**
 * A `rewrite` for JSON replies: parse, change, serialise (a reply that is not JSON passes unchanged).
 * @param {(data: any, call: Call) => unknown} change returns the new data, or undefined to keep the (mutated) one
 * @returns {(body: string, call: Call) => string}
 */
export function rewriteJson(change) {
  return (body, call) => {
    let data;
    try {
      data = JSON.parse(body);
    } catch {
      return body;
    }
    const out = change(data, call);
    return JSON.stringify(out === undefined ? data : out);
  };
}
