// The words for a one-off task's outcome, shared by every command that runs one and judges it the same way (the
// migration step, the `run` verb): a stopped task that failed (TaskFailedToStart, no such container, no exit code,
// a non-zero exit code) with its task id, stop code, stopped reason and the last lines of its log (bounded,
// secret-looking values redacted: runner/smoke/log-tail.mjs); and a task that did not get to STOPPED
// (OneOffTaskError of runner/aws/one-off-task.mjs). `noun` names the task in the messages ("migration", "run api").
import { fmtMs } from '../lib/runtime.mjs';
import { taskId } from './one-off-task.mjs';
import { logTail } from '../smoke/log-tail.mjs';

/** The AWS operation behind each kind of one-off task failure (a timeout is none). @type {Record<string, string | undefined>} */
export const ONE_OFF_OPERATION = { refused: 'RunTask', 'no-task': 'RunTask', missing: 'DescribeTasks' };

/**
 * The stopped task and its log, for a failure message: task id, stop code and stopped reason; the last log lines
 * (bounded, redacted) or why there are none.
 * @param {import('./one-off-task.mjs').OneOffResult} r @param {import('../smoke/redact.mjs').Redactor} redact
 */
export function stopLines(r, redact) {
  const head = `task ${taskId(r.taskArn)}: stopCode ${r.stopCode ?? 'none'}; stoppedReason: ${r.stoppedReason ?? 'none'}`;
  const where = r.logStream ? `${r.logStream.stream} in ${r.logStream.group}` : '';
  switch (r.logStatus) {
    case 'no-config': return `${head}\nno log stream (the container has no awslogs configuration)`;
    case 'not-found': return `${head}\nno log stream (${where} does not exist)`;
    case 'unreadable': return `${head}\nlog stream ${where} could not be read`;
    default: {
      const tail = logTail(r.logLines ?? [], redact);
      return tail.length ? `${head}\nlast ${tail.length} log line(s) of ${where}:\n  ${tail.join('\n  ')}` : `${head}\nlog stream ${where} is empty`;
    }
  }
}

/**
 * Why a stopped one-off task failed, or null when its container `container` exited 0.
 * @param {import('./one-off-task.mjs').OneOffResult} r @param {string} container
 * @param {import('../smoke/redact.mjs').Redactor} redact @param {string} noun
 * @returns {string | null}
 */
export function stoppedFailure(r, container, redact, noun) {
  const { taskArn, task, container: c } = r;
  const about = stopLines(r, redact);
  const reason = task.stoppedReason ? ` (${task.stoppedReason})` : '';
  if (task.stopCode === 'TaskFailedToStart') return `${noun} task failed to start: TaskFailedToStart${reason}\n${about}`;
  if (!c) return `${noun} task ${taskArn} has no container named ${container}${reason}\n${about}`;
  if (c.exitCode === undefined || c.exitCode === null) {
    return `${noun} container ${container} stopped without an exit code${c.reason ? ` (${c.reason})` : reason}\n${about}`;
  }
  if (c.exitCode !== 0) return `${noun} container ${container} exited with code ${c.exitCode}${c.reason ? ` (${c.reason})` : ''}\n${about}`;
  return null;
}

/**
 * The words for a one-off task that did not get to STOPPED.
 * @param {import('./one-off-task.mjs').OneOffTaskError} e @param {number} timeoutMs
 * @param {import('../smoke/redact.mjs').Redactor} redact @param {string} noun
 */
export function oneOffFailure(e, timeoutMs, redact, noun) {
  switch (e.kind) {
    case 'refused': return `RunTask failed: ${e.failures.map((f) => `${f.arn ?? 'task'}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`).join('; ')}`;
    case 'no-task': return 'RunTask returned neither a task nor failures';
    case 'missing': return `${noun} task ${e.taskArn} not found by DescribeTasks${e.failures.length ? `: ${e.failures.map((f) => f.reason).join(', ')}` : ''}`;
    default: {
      const tail = logTail(e.logLines ?? [], redact);
      return `${noun} timed out after ${fmtMs(timeoutMs)} (task ${e.taskArn} is ${e.lastStatus}; it was not stopped)${tail.length ? `; last log lines:\n  ${tail.join('\n  ')}` : ''}`;
    }
  }
}
