// Shared JSDoc types of the runner (docs/contract.md section 4). No runtime code.

/**
 * @typedef {{ stdout: string, stderr: string, exitCode: number }} ExecResult
 * @typedef {{ cwd?: string, env?: Record<string, string|undefined>, input?: string, signal?: AbortSignal }} ExecOptions
 *   input: written to the command's stdin (secrets travel here, never in argv)
 * @typedef {((cmd: string, args: string[], opts?: ExecOptions) => Promise<ExecResult>) & { stdin?: boolean }} Exec
 *   stdin: true when the exec honours opts.input
 */

/**
 * @typedef {object} Logger
 * @property {(msg: string) => void} info
 * @property {(msg: string) => void} warn
 * @property {(msg: string) => void} progress live progress line (may be rate-limited by the printer)
 */

/**
 * @typedef {object} Clock
 * @property {() => number} now milliseconds since the epoch
 * @property {(ms: number, signal?: AbortSignal) => Promise<void>} sleep rejects with InterruptedError on abort
 */

/**
 * @typedef {object} ImageState
 * @property {string} uri
 * @property {string} tag
 * @property {string} [digest]
 * @property {string} [status]
 * @property {string} [repository] where the image was pushed (registry override respected), without tag
 */

/**
 * @typedef {object} TaskDefinitionState
 * @property {string} arn
 * @property {string} family
 * @property {number} revision
 * @property {string} image
 * @property {boolean} registered false when an identical revision was reused
 * @property {string} [container] the container the release image goes into
 * @property {string} [logGroup] awslogs group of that container
 * @property {string} [logStreamPrefix] awslogs stream prefix of that container
 */

/**
 * @typedef {object} RunState
 * @property {Record<string, ImageState>} [images]
 * @property {Record<string, TaskDefinitionState>} [taskDefinitions]
 * @property {TaskDefinitionState} [migrationTaskDefinition]
 * @property {Record<string, { desired: import('@aws-sdk/client-ecs').RegisterTaskDefinitionCommandInput, container: string }>} [releaseRevisions]
 *   service -> what its release revision holds (the task-definitions step), for a dry run's per-service changes
 * @property {{ taskArn: string, reused: boolean }} [migration]
 * @property {boolean} [efsReady]
 * @property {HalfDone[]} halfDone what a failure or an interruption leaves behind (runner/aws/send.mjs `mutate`)
 * @property {Record<string, unknown>} [extra]
 */

/**
 * A change that may be or is left unfinished. Recorded before the mutating call is sent, so a call that gets no
 * verdict (Ctrl-C, a 5xx after the SDK's retries, a dead process) is still listed; dropped when AWS positively
 * rejected the call, or once the change is finished (service stable, task stopped).
 * @typedef {object} HalfDone
 * @property {string} step
 * @property {string} [service]
 * @property {string} [operation] the mutating call, e.g. `UpdateService`, `RunTask`
 * @property {'may-have-changed'|'changed'} state may-have-changed: sent, no verdict (in flight, or it failed in a
 *   way that does not say whether AWS applied it); changed: AWS accepted it, the change is not finished yet
 * @property {string} what one line for people, e.g. `staging-api was updated to staging-api:2 but not yet stable`
 */

/**
 * @typedef {object} Check
 * @property {string} name
 * @property {'passed'|'failed'|'skipped'} status
 * @property {string|null} reason
 * @property {string} [evidence]
 * @property {number} [durationMs]
 * @property {number} [attempts] attempts made (checks that retry, e.g. smoke)
 * @property {number} [timeoutMs] per-attempt timeout
 */

/**
 * @typedef {object} ServiceResult
 * @property {string} name
 * @property {'passed'|'failed'|'skipped'|'unchanged'} status
 * @property {string|null} reason
 * @property {string|null} [startedAt]
 * @property {string|null} [finishedAt]
 * @property {number|null} [durationMs]
 * @property {string|null} [taskDefinitionArn]
 * @property {number|null} [running]
 * @property {number|null} [desired]
 * @property {string|null} [rolloutState]
 * @property {string[]} [changes] a dry run: what the release revision changes against the running one, one line
 *   per field (runner/lib/td-diff.mjs; names only, never a value)
 */

/**
 * @typedef {object} StepResult
 * @property {'passed'|'failed'|'skipped'} status
 * @property {string} [reason]
 * @property {Record<string, unknown>} [details]
 * @property {Check[]} [checks]
 * @property {ServiceResult[]} [services]
 * @property {string} [service] the failing service, for the report's `failure`
 * @property {string} [operation] the AWS operation that failed, for the report's `failure`
 */

/**
 * @typedef {object} StepContext
 * @property {import('./outputs.mjs').Outputs} outputs
 * @property {import('./catalog.mjs').Service[]} catalog
 * @property {string} release the release the run puts in place (--release, else the git commit of HEAD)
 * @property {string|null} imageTag the tag every image is given: the explicit --release; null: each image the git
 *   commit of its own build context (runner/images/targets.mjs resolveTags)
 * @property {import('./args.mjs').Options} options the parsed flags
 * @property {import('./config.mjs').RunnerConfig} config the config the runner loaded (steps never re-read it)
 * @property {string} configPath absolute path of the config file; relative paths in it resolve against its directory
 * @property {import('../../lib/config/index.cjs').SmokeSettings} smoke the config's smoke settings, validated at startup
 * @property {Record<string, string|undefined>} env the process environment (injected in tests)
 * @property {string} releaseStartedAt ISO time the rollout started
 * @property {import('../aws/clients.mjs').AwsClients} aws
 * @property {Exec} exec
 * @property {typeof fetch} [fetch] HTTP for the registry API (default: the global fetch; injected in tests)
 * @property {Logger} log
 * @property {RunState} state
 * @property {AbortSignal} signal
 * @property {Clock} clock
 * @property {import('./emulator.mjs').Capabilities} capabilities
 * @property {import('./plan.mjs').PlanStep} step the plan step being run
 * @property {import('./plan.mjs').Plan} plan
 */

export {};
