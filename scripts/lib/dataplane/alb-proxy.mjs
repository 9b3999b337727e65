// The local ALB's listener: an HTTP server on 127.0.0.1 answering as the load balancer's HTTP listener does.
// Rules by priority (lowest first), then the default action; fixed-response and redirect (#{protocol} #{host}
// #{port} #{path} #{query}) answered here; forward to a target (pickTarget), with X-Forwarded-For (appended),
// X-Forwarded-Proto, X-Forwarded-Port and X-Amzn-Trace-Id; 503 when a group has no registered target, 502 when
// the target refuses or breaks the connection, 504 when it does not answer within the idle timeout, with ALB's
// own error pages.
import http from 'node:http';
import crypto from 'node:crypto';
import { groupChooser } from './alb-rules.mjs';

/**
 * @typedef {import('./alb-elbv2.mjs').LoadBalancerSpec} LoadBalancerSpec
 * @typedef {{ id: string, port: number, inflight: number }} PickedTarget
 */

/** ALB's own error pages. @param {number} status */
const errorPage = (status) => {
  const title = { 502: '502 Bad Gateway', 503: '503 Service Temporarily Unavailable', 504: '504 Gateway Time-out' }[status] ?? String(status);
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
};

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/**
 * Serve the listener.
 * @param {object} o
 * @param {LoadBalancerSpec['rules']} o.rules @param {LoadBalancerSpec['defaultAction']} o.defaultAction
 * @param {(tgArn: string) => PickedTarget | null | undefined} o.pickTarget
 * @param {number} o.idleMs  the idle timeout (scaled)
 * @param {string} o.host @param {number} o.port
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function serveListener({ rules, defaultAction, pickTarget, idleMs, host, port }) {
  const groupFor = groupChooser();
  const agent = new http.Agent({ keepAlive: true });

  /** @param {http.ServerResponse} res @param {number} status */
  const fail = (res, status) => {
    if (res.headersSent) return void res.destroy();
    const body = errorPage(status);
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), server: 'awselb/2.0' });
    res.end(body);
  };

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  const serve = (req, res) => {
    const url = String(req.url ?? '/');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const hostHeader = String(req.headers.host ?? '');
    const hostName = hostHeader.replace(/:\d+$/, '');
    const method = String(req.method ?? 'GET');
    const match = rules.find((r) => r.matches({ path, host: hostName, method, headers: req.headers }));
    const action = match ? match.action : defaultAction;

    if (action.Type === 'fixed-response') {
      const f = /** @type {import('@aws-sdk/client-elastic-load-balancing-v2').FixedResponseActionConfig} */ (action.FixedResponseConfig ?? {});
      const body = f.MessageBody ?? '';
      req.resume();
      res.writeHead(Number(f.StatusCode ?? 200), { 'content-type': f.ContentType ?? 'text/plain', 'content-length': Buffer.byteLength(body), server: 'awselb/2.0' });
      return void res.end(body);
    }
    if (action.Type === 'redirect') {
      const r = /** @type {import('@aws-sdk/client-elastic-load-balancing-v2').RedirectActionConfig} */ (action.RedirectConfig ?? {});
      // #{path} is the path without its leading '/' (Path's default is "/#{path}")
      const vars = { protocol: 'http', host: hostName || host, port: String(port), path: path.replace(/^\//, ''), query };
      const fill = (/** @type {string | undefined} */ v, /** @type {string} */ dflt) =>
        String(v ?? dflt).replace(/#\{(protocol|host|port|path|query)\}/g, (_, k) => /** @type {any} */ (vars)[k]);
      const proto = fill(r.Protocol, '#{protocol}').toLowerCase();
      const toPort = fill(r.Port, '#{port}');
      const toQuery = fill(r.Query, '#{query}');
      const defaultPort = (proto === 'https' && toPort === '443') || (proto === 'http' && toPort === '80');
      const location = `${proto}://${fill(r.Host, '#{host}')}${defaultPort ? '' : `:${toPort}`}${fill(r.Path, '/#{path}')}${toQuery ? `?${toQuery}` : ''}`;
      req.resume();
      res.writeHead(r.StatusCode === 'HTTP_302' ? 302 : 301, { location, 'content-length': 0, server: 'awselb/2.0' });
      return void res.end();
    }
    const tgArn = groupFor(action);
    const t = tgArn ? pickTarget(tgArn) : null;
    if (!t) { req.resume(); return fail(res, 503); }

    const client = String(req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff ? `${xff}, ${client}` : client;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-port'] = String(port);
    headers['x-amzn-trace-id'] = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${crypto.randomBytes(12).toString('hex')}`;
    t.inflight += 1;
    let settled = false;
    const settle = () => { if (!settled) { settled = true; t.inflight -= 1; } };
    const up = http.request({ host: t.id, port: t.port, method, path: url, headers, agent }, (u) => {
      const out = { ...u.headers };
      for (const h of HOP_BY_HOP) delete out[h];
      res.writeHead(u.statusCode ?? 502, out);
      u.pipe(res);
      u.on('end', settle);
      u.on('error', () => { settle(); res.destroy(); });
    });
    up.setTimeout(idleMs, () => { settle(); fail(res, 504); up.destroy(); });
    up.on('error', () => { settle(); fail(res, 502); });
    res.on('close', () => { settle(); if (!res.writableFinished) up.destroy(); });
    req.pipe(up);
  };

  const server = http.createServer(serve);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve(undefined));
      server.closeAllConnections();
      agent.destroy();
    }),
  };
}
