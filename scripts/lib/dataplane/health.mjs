// Container health checks, as the ECS agent runs a container definition's `healthCheck`: its command inside the
// running container (here `docker exec`; ["CMD", argv...] as it is, ["CMD-SHELL", "line"] through /bin/sh -c)
// every `interval` seconds, each given `timeout` seconds (a check still running then failed); a container is
// UNKNOWN until a check has said otherwise, HEALTHY after a passing check, UNHEALTHY after `retries` failures in a
// row; failures within `startPeriod` seconds of the start do not count (a passing check there still makes it
// HEALTHY). The task's health is that of its essential containers with a health check: UNHEALTHY if one of them
// is, HEALTHY if all are, else UNKNOWN. What follows from it (ECS: the service scheduler replaces a service task
// that is UNHEALTHY and counts it failed; a standalone task runs on) is services.mjs's.
import { run } from '../proc.mjs';

/**
 * @typedef {import('./common.mjs').TaskRec} TaskRec
 * @typedef {import('./common.mjs').ContainerRec} ContainerRec
 * @typedef {{ command: string[], interval?: number, timeout?: number, retries?: number, startPeriod?: number }} HealthCheck
 *   a container definition's healthCheck (ECS defaults: interval 30, timeout 5, retries 3, startPeriod 0)
 */

/**
 * The argv a health check's command runs in the container.
 * @param {string[]} command @returns {string[]}
 */
export function healthArgv(command) {
  const [form, ...rest] = command;
  if (form === 'CMD' && rest.length) return rest;
  if (form === 'CMD-SHELL' && rest.length) return ['/bin/sh', '-c', rest.join(' ')];
  throw new Error(`health check command must start with "CMD" (then the argv) or "CMD-SHELL" (then a shell line), got ${JSON.stringify(command)}`);
}

/**
 * Run a container's health check until the container stopped or `alive()` says no more; sets c.healthStatus.
 * @param {ContainerRec} c @param {string} dockerId @param {HealthCheck} hc @param {() => boolean} alive
 * @param {(line: string) => void} log
 * @returns {Promise<void>} resolves when it stopped checking
 */
export async function watchHealth(c, dockerId, hc, alive, log) {
  const argv = healthArgv(hc.command);
  const intervalMs = 1000 * (hc.interval ?? 30);
  const timeoutMs = 1000 * (hc.timeout ?? 5);
  const retries = hc.retries ?? 3;
  const startedAt = Date.now();
  const graceUntil = startedAt + 1000 * (hc.startPeriod ?? 0);
  c.healthStatus = 'UNKNOWN';
  let failures = 0;
  const running = () => alive() && c.lastStatus === 'RUNNING';
  while (running()) {
    await sleepWhile(intervalMs, running);
    if (!running()) return;
    const r = await run('docker', ['exec', dockerId, ...argv], { timeoutMs });
    if (!running()) return;
    if (r.code === 0 && !r.timedOut) {
      failures = 0;
      c.healthStatus = 'HEALTHY';
    } else if (Date.now() >= graceUntil) {
      failures += 1;
      if (failures >= retries && c.healthStatus !== 'UNHEALTHY') {
        c.healthStatus = 'UNHEALTHY';
        log(`data plane: container ${c.name} UNHEALTHY after ${failures} failed health check(s) (last: ${r.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit ${r.code}`})`);
      }
    }
  }
}

/** @param {number} ms @param {() => boolean} cond wait ms, or less once cond() is false */
async function sleepWhile(ms, cond) {
  const end = Date.now() + ms;
  while (Date.now() < end && cond()) await new Promise((r) => setTimeout(r, Math.min(200, end - Date.now())));
}

/**
 * A task's health status as DescribeTasks shows it.
 * @param {TaskRec} t @returns {'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'}
 */
export function taskHealth(t) {
  const checked = t.containers.filter((c) => c.essential && c.healthStatus !== null);
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY';
  if (checked.length && checked.every((c) => c.healthStatus === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}

/** Whether a task has a health check that counts for its health (an essential container's). @param {TaskRec} t */
export const healthChecked = (t) => t.containers.some((c) => c.essential && c.healthStatus !== null);
