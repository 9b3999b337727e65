// Shared by the stack-*.test.ts and security-*.test.ts files: synthesize the foundation stack in-process from
// the config under test (test/support/staging-config.cjs: config/staging.json unless $STAGING_ROLLOUT_CONFIG),
// optionally edited, and query the synthesized Terraform JSON.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { buildApp } from '../../main';
import { parseConfig } from '../../stacks/config';
import { stagingRaw, CONFIG_SOURCE } from './staging-config.cjs';

export const REPO = path.resolve(__dirname, '..', '..');
export const STAGING = stagingRaw();

export type Block = Record<string, any>;

/** Synthesized Terraform JSON of one stack, with query helpers. */
export class Synth {
  constructor(readonly json: Block) {}

  /** [name, body] of every resource of `type` */
  resources(type: string): Array<[string, Block]> {
    return Object.entries(this.json.resource?.[type] ?? {});
  }
  bodies(type: string): Block[] {
    return this.resources(type).map(([, b]) => b);
  }
  count(type: string): number {
    return this.resources(type).length;
  }
  data(type: string): Array<[string, Block]> {
    return Object.entries(this.json.data?.[type] ?? {});
  }
  /** the resource body whose address `type.name` is referenced by `ref` ("${type.name.attr}") */
  byRef(ref: string): Block {
    const m = /^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(ref);
    if (!m) throw new Error(`not a simple reference: ${ref}`);
    const body = m[1] ? this.json.data?.[m[2]]?.[m[3]] : this.json.resource?.[m[2]]?.[m[3]];
    if (!body) throw new Error(`unknown address ${m[1] ?? ''}${m[2]}.${m[3]}`);
    return body;
  }
  /** the single resource of `type` whose `key` equals `value` */
  find(type: string, key: string, value: unknown): Block {
    const hits = this.bodies(type).filter((b) => b[key] === value);
    if (hits.length !== 1) throw new Error(`${hits.length} ${type} with ${key}=${JSON.stringify(value)}`);
    return hits[0];
  }
  /** the address (type.name) of a resource body */
  address(type: string, body: Block): string {
    const hit = this.resources(type).find(([, b]) => b === body);
    if (!hit) throw new Error(`no ${type} with that body`);
    return `${type}.${hit[0]}`;
  }
  /** statements of the aws_iam_policy_document data source referenced by "${data.aws_iam_policy_document.x.json}" */
  policyStatements(ref: string): Block[] {
    const m = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(ref);
    if (!m) throw new Error(`policy is not an aws_iam_policy_document reference: ${ref}`);
    return this.json.data.aws_iam_policy_document[m[1]].statement;
  }
}

/** Deep copy of the config under test changed by `edit`. */
export function stagingWith(edit: (raw: any) => void = () => undefined): any {
  const raw = JSON.parse(JSON.stringify(STAGING));
  edit(raw);
  return raw;
}

/** Synthesize the foundation stack (no disk writes) for a config. */
export function synth(raw: unknown = STAGING, source = CONFIG_SOURCE): Synth {
  const outdir = path.join(os.tmpdir(), 'staging-rollout-stack-tests'); // App() creates it; Testing.synth writes nothing
  fs.mkdirSync(outdir, { recursive: true });
  const { stack } = buildApp(parseConfig(raw, source), { outdir });
  return new Synth(JSON.parse(Testing.synth(stack)));
}

/** Enabled services of a raw config, by the catalog rules. */
export function enabledServices(raw: unknown = STAGING) {
  return parseConfig(raw).services.filter((s) => s.enabled);
}

/** "${type.name.attr}" -> "type.name" */
export function addressOf(ref: string): string {
  const m = /^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(ref);
  if (!m) throw new Error(`not a simple reference: ${ref}`);
  return m[1];
}
