// Small helpers shared by the foundation constructs.
import { createHash } from 'crypto';

/** What every construct of the stack knows about where it is deployed. */
export interface StackEnv {
  /** name prefix of every named resource (config `namePrefix`) */
  readonly prefix: string;
  /** AWS region (config `region`) */
  readonly region: string;
  /** account id (a Terraform reference: data.aws_caller_identity) */
  readonly accountId: string;
  /** partition (a Terraform reference: data.aws_partition), e.g. "aws" */
  readonly partition: string;
}

/** Thrown by a construct when its props are invalid. */
export class PropsError extends Error {
  constructor(construct: string, message: string) {
    super(`${construct}: ${message}`);
    this.name = 'PropsError';
  }
}

/**
 * A resource name `a-b-c` shortened to `max` characters with a stable hash suffix when it is too long
 * (ALB and target group names are limited to 32 characters).
 */
export function boundedName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `${name.slice(0, max - 7).replace(/-+$/, '')}-${hash}`;
}

/** IPv4 address <-> integer. */
function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Like Terraform's cidrsubnet(): subnet `netnum` of `cidr` with `newbits` more prefix bits. */
export function cidrSubnet(cidr: string, newbits: number, netnum: number): string {
  const [ip, bitsText] = cidr.split('/');
  const bits = Number(bitsText) + newbits;
  if (bits > 28) throw new PropsError('cidrSubnet', `${cidr} is too small for ${2 ** newbits} subnets`);
  if (netnum < 0 || netnum >= 2 ** newbits) throw new PropsError('cidrSubnet', `netnum ${netnum} out of range for ${newbits} new bits`);
  const base = ipToInt(ip);
  return `${intToIp(base + netnum * 2 ** (32 - bits))}/${bits}`;
}

/** Distinct values in first-seen order. */
export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
