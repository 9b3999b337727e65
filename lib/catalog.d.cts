// Types of lib/catalog.cjs (docs/contract.md sections 1 and 6).

export declare const SECRET_KEYS: readonly SecretKey[];
export declare const KINDS: readonly ServiceKind[];
export declare const LOG_RETENTION_DAYS: readonly number[];
export declare const FARGATE_MEMORY: Readonly<Record<number, number[]>>;

export type SecretKey = 'database' | 'cache' | 'app' | 'smoke_user';
export type ServiceKind = 'web' | 'worker' | 'support';

export declare class ConfigError extends Error {
  constructor(message: string, where?: { source?: string; path?: string });
  readonly source?: string;
  readonly path?: string;
}

export interface NormalizedRouting {
  /** the listener's default action forwards here */
  default: boolean;
  pathPatterns: string[];
  hostHeader: string | null;
  /** listener rule priority; null only for the default route */
  priority: number | null;
}

export interface NormalizedMount {
  volume: 'data';
  containerPath: string;
  readOnly: boolean;
}

export interface NormalizedService {
  name: string;
  enabled: boolean;
  disabledReason: string | null;
  tier: string;
  kind: ServiceKind;
  image: string;
  port: number | null;
  healthCheckPath: string | null;
  routing: NormalizedRouting | null;
  command: string[] | null;
  dependsOn: string[];
  mounts: NormalizedMount[];
  needsData: boolean;
  environment: Record<string, string>;
  secrets: SecretKey[];
  cpu: number;
  memory: number;
  desiredCount: number;
  discoveryName: string | null;
}

export type BackendConfig =
  | { type: 'local'; path: string }
  | {
      type: 's3';
      bucket: string;
      key: string;
      region: string;
      dynamodbTable: string | null;
      useLockfile: boolean;
      kmsKeyId: string | null;
    }
  | { type: 'cloud'; organization: string; workspace: string; hostname: string };

export interface NormalizedConfig {
  environment: string;
  namePrefix: string;
  region: string;
  tags: Record<string, string>;
  backend: BackendConfig;
  network: { cidr: string; azCount: number; natGateways: 'single' | 'perAz'; flowLogRetentionDays: number };
  loadBalancer: {
    certificateArn: string | null;
    routing: 'path' | 'host';
    allowedIngressCidrs: string[];
    healthCheck: {
      intervalSeconds: number;
      timeoutSeconds: number;
      healthyThreshold: number;
      unhealthyThreshold: number;
      matcher: string;
    };
    deregistrationDelaySeconds: number;
    sslPolicy: string;
  };
  database: {
    instanceType: string;
    dataVolumeGiB: number;
    postgresVersion: string;
    databaseName: string;
    username: string;
    /** lifecycle.prevent_destroy on the EBS data volume (default true) */
    protectDataVolume: boolean;
  };
  cache: { nodeType: string; engineVersion: string; replicas: number };
  storage: { dataPath: string; posixUid: number; posixGid: number };
  logs: { retentionDays: number };
  cluster: {
    containerInsights: boolean;
    fargateSpotForWorkers: boolean;
    enableExecuteCommand: boolean;
    namespace: string;
  };
  images: Record<string, { context: string; dockerfile: string; [extra: string]: unknown }>;
  migration: {
    image: string;
    command: string[];
    cpu: number;
    memory: number;
    timeoutSeconds: number;
    containerName: string;
    /** secrets injected into the migration container (default ["database"]) */
    secrets: SecretKey[];
  };
  tiers: string[];
  /** image step: registry address replacing the host of repository_urls (docs/images.md); null = none */
  imageRegistry: string | null;
  /** image step: convenience tag; absent = the step's default, null = none */
  imageConvenienceTag?: string | null;
  services: Record<string, NormalizedService>;
  smoke: Record<string, unknown>;
}

export declare function normalizeConfig(
  raw: unknown,
  opts?: { source?: string },
): { config: NormalizedConfig; services: NormalizedService[] };

export declare function topologicalOrder(
  services: ReadonlyArray<{ name: string; dependsOn?: string[]; tier?: string }>,
  tiers?: readonly string[],
): string[];

/** A config file read by loadConfigFile. */
export interface LoadedConfig {
  config: NormalizedConfig;
  services: NormalizedService[];
  /** the merged raw JSON (parents first, `extends` removed, image contexts rebased onto the file's directory) */
  raw: Record<string, unknown>;
  /** absolute path of the file asked for */
  file: string;
  /** the path as given (used in messages) */
  source: string;
  /** absolute paths of every file read, root parent first, the file asked for last */
  files: string[];
}

/**
 * Read, merge (`"extends"`) and validate a config file. Throws ConfigError (cannot read, not JSON with line and
 * column, `extends` cycle, validation error naming the file and JSON path).
 */
export declare function loadConfigFile(file: string, opts?: { cwd?: string }): LoadedConfig;

/** Overlay merge: objects merge key by key, arrays and scalars replace, null removes the key. */
export declare function mergeOverlay(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown>;
