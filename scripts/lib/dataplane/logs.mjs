// Container output into CloudWatch Logs, as the awslogs driver ships it: `docker logs --follow` of a container,
// batched to PutLogEvents of moto's CloudWatch Logs under the task definition's group and the stream ECS names
// (`<stream prefix>/<container>/<task id>`); a shipper resolves once the container ended and every line is sent.
import { spawn } from 'node:child_process';
import { CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

const LOG_FLUSH_MS = 300;

/**
 * Follow a container's output into CloudWatch Logs; resolves once the container ended and every line is sent.
 * @param {{ logs: import('@aws-sdk/client-cloudwatch-logs').CloudWatchLogsClient, log: (line: string) => void }} to moto's CloudWatch Logs
 * @param {string} dockerId @param {string} group @param {string} stream
 * @returns {Promise<void>}
 */
export function shipLogs({ logs, log }, dockerId, group, stream) {
  /** @type {{ timestamp: number, message: string }[]} */
  let queue = [];
  let created = false;
  let sending = Promise.resolve();
  const flush = () => {
    sending = sending.then(async () => {
      if (!queue.length) return;
      const batch = queue.sort((a, b) => a.timestamp - b.timestamp).slice(0, 5000);
      queue = queue.slice(batch.length);
      try {
        if (!created) {
          await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })).catch((e) => {
            if (e.name !== 'ResourceAlreadyExistsException') throw e;
          });
          created = true;
        }
        await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: batch }));
      } catch (e) {
        log(`data plane: logs of ${stream} to ${group}: ${/** @type {Error} */ (e).message}`);
      }
      if (queue.length) flush();
    });
    return sending;
  };
  return new Promise((/** @type {(v: void) => void} */ resolve) => {
    const child = spawn('docker', ['logs', '--follow', '--timestamps', dockerId], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setInterval(flush, LOG_FLUSH_MS);
    /** @param {NodeJS.ReadableStream} s */
    const read = (s) => {
      let rest = '';
      s.setEncoding('utf8');
      s.on('data', (/** @type {string} */ d) => {
        rest += d;
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) push(l);
      });
      s.on('end', () => { if (rest) push(rest); });
    };
    /** @param {string} l */
    const push = (l) => {
      const m = /^(\S+)\s(.*)$/.exec(l);
      const t = m ? Date.parse(m[1]) : NaN;
      const message = (m && Number.isFinite(t) ? m[2] : l).replace(/\r$/, '');
      if (message.length) queue.push({ timestamp: Number.isFinite(t) ? t : Date.now(), message });
    };
    read(/** @type {NodeJS.ReadableStream} */ (child.stdout));
    read(/** @type {NodeJS.ReadableStream} */ (child.stderr));
    child.on('close', () => {
      clearInterval(timer);
      flush().then(() => flush()).then(() => resolve());
    });
  });
}
