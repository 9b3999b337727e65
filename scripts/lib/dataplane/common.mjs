// The engine's shared shapes (JSDoc types of its books) and the small helpers its parts use. The engine is
// composed in engine.mjs from: containers.mjs (a container from a container definition: image, env and secrets,
// volumes), tasks.mjs (a task's lifecycle), services.mjs (deployments, the circuit breaker, the scheduler),
// health.mjs (container health checks), logs.mjs (output to CloudWatch Logs) and docker.mjs (labels, the network, the sweep of leftovers).
import crypto from 'node:crypto';

/**
 * @typedef {import('../fault-proxy.mjs').Rule} Rule
 * @typedef {import('../fault-proxy.mjs').Reply} Reply
 * @typedef {{ host: string, username: string, password: string }} LocalRegistry
 * @typedef {object} LocalAlbLike the part of the local ALB (alb.mjs) the engine uses
 * @property {(tgArn: string, t: { id: string, port: number }) => void} register
 * @property {(tgArn: string, t: { id: string, port: number }) => void} deregister
 * @property {(tgArn: string) => { Target?: { Id?: string, Port?: number }, TargetHealth?: { State?: string } }[]} health
 * @property {Map<string, { deregistrationDelaySeconds: number }>} [targetGroups]
 */

/**
 * @typedef {object} ContainerRec
 * @property {string} name
 * @property {string} image   as the task definition names it
 * @property {string} [dockerId]
 * @property {number | null} exitCode
 * @property {string | null} reason
 * @property {string} lastStatus
 * @property {boolean} essential
 * @property {'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' | null} healthStatus  null: its definition has no healthCheck (health.mjs)
 */

/**
 * @typedef {object} TaskRec
 * @property {string} arn
 * @property {string} id
 * @property {string} clusterArn
 * @property {string} tdArn
 * @property {string} family
 * @property {string} group
 * @property {string | undefined} startedBy
 * @property {string | null} service      ECS service name for service tasks
 * @property {string | null} deploymentId
 * @property {object | undefined} overrides RunTask overrides
 * @property {{ key: string, value: string }[]} tags RunTask tags (DescribeTasks shows them with include TAGS)
 * @property {ContainerRec[]} containers
 * @property {string} lastStatus
 * @property {string} desiredStatus
 * @property {number} createdAt            epoch ms
 * @property {number | null} startedAt
 * @property {number | null} stoppingAt
 * @property {number | null} stoppedAt
 * @property {string | null} stopCode
 * @property {string | null} stoppedReason
 * @property {string | null} ip
 * @property {{ tgArn: string, port: number } | null} target  registered in the ALB
 * @property {boolean} everHealthy
 * @property {number | null} healthyAt     epoch ms when it first counted as healthy (service tasks)
 * @property {Promise<void>} done          resolves once STOPPED
 * @property {boolean} oneOff
 * @property {boolean} exec                started with enableExecuteCommand (ECS Exec: scripts/lib/dataplane/exec.mjs)
 */

/**
 * @typedef {object} Deployment
 * @property {string} id
 * @property {'PRIMARY'|'ACTIVE'|'INACTIVE'} status
 * @property {string} taskDefinition
 * @property {number} desiredCount
 * @property {number} failedTasks
 * @property {'IN_PROGRESS'|'COMPLETED'|'FAILED'} rolloutState
 * @property {string} rolloutStateReason
 * @property {number} createdAt
 * @property {number} updatedAt
 * @property {number} lastFailureAt
 */

/**
 * @typedef {object} ServiceRec
 * @property {string} name
 * @property {string} arn
 * @property {string} clusterArn
 * @property {number} desiredCount
 * @property {Deployment[]} deployments
 * @property {{ id: string, createdAt: number, message: string }[]} events newest first
 * @property {{ targetGroupArn: string, containerName: string, containerPort: number }[]} loadBalancers
 * @property {{ enable: boolean, rollback: boolean }} circuitBreaker
 * @property {number} graceMs
 * @property {string | null} lastCompletedTd
 * @property {boolean} steady
 */

/**
 * @typedef {object} Engine
 * @property {Rule[]} overlays          install into the fault proxy in front of moto
 * @property {() => TaskRec[]} tasks    every task it started
 * @property {(name: string) => ServiceRec | undefined} service
 * @property {(spec: { taskDefinition: string, container: string, command: string[], input?: string }) => Promise<{ exitCode: number | null, output: string }>} runContainer
 * @property {() => Promise<void>} close stops and removes its containers and volumes; log shippers flushed
 */

/**
 * @typedef {object} EngineOptions startEngine's options
 * @property {string} motoEndpoint     moto_server, for the engine's own calls (never the proxy)
 * @property {string} region
 * @property {string} runId
 * @property {string} network          the Docker bridge network (createNetwork)
 * @property {LocalRegistry} registry  the local registry that stands in for ECR, and its login
 * @property {Record<string, string[]>} [networkAliases]  ECS service name -> its Cloud Map names (DNS aliases)
 * @property {LocalAlbLike} [alb]
 * @property {Record<string, number>} [healthCheckGracePeriodSeconds] ECS service name -> seconds (moto drops it)
 * @property {string[]} [executeCommandServices] ECS service names whose tasks enable ECS Exec (moto drops it)
 * @property {(task: TaskRec) => Promise<void>} [onOneOffExit] awaited after a RunTask container exited and before
 *   DescribeTasks shows the task STOPPED
 * @property {number} [stableSeconds] a task counts as healthy once it has run this long (and, behind a load
 *   balancer, its target is healthy). ECS judges steadiness over time too; without it a container that exits a
 *   second after it started would count as healthy and the circuit breaker would never see it. Default 3.
 * @property {string} [caBundle] a CA bundle mounted over the image's (/etc/ssl/certs/ca-certificates.crt): the
 *   system's CAs plus the local data stores' own, as the images trust AWS's public CAs on AWS
 * @property {(line: string) => void} [log]
 */

/**
 * @typedef {object} EngineContext what the engine's parts share (one per startEngine)
 * @property {EngineOptions} o
 * @property {(line: string) => void} log
 * @property {{ ecs: import('@aws-sdk/client-ecs').ECSClient, secrets: import('@aws-sdk/client-secrets-manager').SecretsManagerClient,
 *   ssm: import('@aws-sdk/client-ssm').SSMClient, logs: import('@aws-sdk/client-cloudwatch-logs').CloudWatchLogsClient,
 *   efs: import('@aws-sdk/client-efs').EFSClient }} aws  to moto directly
 * @property {string} secretDir        private directory (0700) for env files
 * @property {string[]} caMount        docker arguments mounting the CA bundle ([] without one)
 * @property {() => string[]} labelArgs docker --label arguments of this run
 * @property {Map<string, TaskRec>} tasks
 * @property {Map<string, ServiceRec>} services
 * @property {(p: Promise<unknown>) => void} track  background work close() waits for
 * @property {(arn: string) => Promise<any>} taskDefinition  DescribeTaskDefinition, cached
 * @property {() => boolean} closed
 */

export const nowS = (/** @type {number | null} */ ms) => (ms === null ? undefined : ms / 1000);
export const clusterName = (/** @type {string | undefined} */ c) => (c ?? 'default').split('/').pop() ?? 'default';
export const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
export const hex = (/** @type {number} */ n) => crypto.randomBytes(n).toString('hex');

/** A stop of the task before its container started (ECS: TaskFailedToStart). */
export class StartFailure extends Error {}
