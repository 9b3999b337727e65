// Container definitions out of the synthesized Terraform JSON, and the environment ECS would give a container.
// The stack writes container_definitions as `${jsonencode([...])}` (an HCL expression with references such as
// `aws_cloudwatch_log_group.x.name` and interpolations such as "${aws_secretsmanager_secret.x.arn}:url::");
// readHclValue turns it into plain values, resolving each reference through a callback.

/**
 * Parse the HCL value syntax cdktf emits inside `${...}` (objects `{"k" = v}`, tuples, strings with `${ref}`
 * interpolations, numbers, true/false/null, bare references and `jsonencode(...)` calls).
 * @param {string} text @param {(ref: string) => unknown} resolve reference ("type.name.attr") -> value
 */
export function readHclValue(text, resolve) {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const fail = (what) => { throw new Error(`HCL expression: ${what} at ${i}: ${text.slice(Math.max(0, i - 40), i + 40)}`); };
  const expect = (c) => { ws(); if (text[i] !== c) fail(`expected ${c}`); i++; };
  /** a quoted string; `${ref}` interpolations resolved */
  const str = () => {
    expect('"');
    let out = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') { const c = text[i + 1]; out += c === 'n' ? '\n' : c === 't' ? '\t' : c; i += 2; continue; }
      if (text.startsWith('${', i)) {
        const end = text.indexOf('}', i);
        out += String(resolve(text.slice(i + 2, end).trim()));
        i = end + 1;
        continue;
      }
      out += text[i++];
    }
    expect('"');
    return out;
  };
  /** @returns {unknown} */
  const value = () => {
    ws();
    const c = text[i];
    if (c === '"') return str();
    if (c === '[') {
      i++; const out = [];
      ws(); if (text[i] === ']') { i++; return out; }
      for (;;) { out.push(value()); ws(); if (text[i] === ',') { i++; continue; } expect(']'); return out; }
    }
    if (c === '{') {
      i++; /** @type {Record<string, unknown>} */ const out = {};
      ws(); if (text[i] === '}') { i++; return out; }
      for (;;) {
        const k = str(); expect('='); out[k] = value(); ws();
        if (text[i] === ',') { i++; continue; }
        expect('}'); return out;
      }
    }
    const m = /^(-?\d+(\.\d+)?)|^([A-Za-z_][A-Za-z0-9_.-]*)/.exec(text.slice(i));
    if (!m) fail('unexpected token');
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    const word = m[3];
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    ws();
    if (text[i] === '(') {
      if (word !== 'jsonencode') fail(`unsupported function ${word}`);
      i++; const v = value(); expect(')'); return v;
    }
    return resolve(word);
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('${') && trimmed.endsWith('}')) {
    text = trimmed.slice(2, -1);
  }
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

/**
 * The container definitions of every task definition in a synthesized stack, by family.
 * @param {Record<string, any>} json cdk.tf.json of the stack
 * @param {(ref: string) => unknown} resolve
 * @returns {Record<string, Array<Record<string, any>>>}
 */
export function containerDefinitions(json, resolve) {
  /** @type {Record<string, Array<Record<string, any>>>} */
  const out = {};
  for (const td of Object.values(json.resource?.aws_ecs_task_definition ?? {})) {
    out[/** @type {any} */ (td).family] = /** @type {any} */ (readHclValue(/** @type {any} */ (td).container_definitions, resolve));
  }
  return out;
}

/**
 * The environment ECS gives a container: its `environment` plus each `secrets` entry, whose valueFrom is a
 * secret ARN (the whole SecretString) or `<arn>:<json-key>:<version-stage>:<version-id>` (one key; only the
 * current version is modelled). A missing secret or key fails as the task would (ECS refuses to start it).
 * @param {Record<string, any>} container @param {Record<string, string>} secretStrings secret ARN -> SecretString
 * @returns {Record<string, string>}
 */
export function ecsEnvironment(container, secretStrings) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const { name, value } of container.environment ?? []) env[name] = String(value);
  for (const { name, valueFrom } of container.secrets ?? []) {
    const m = /^(arn:[^:]+:secretsmanager:[^:]+:\d+:secret:[^:]+)(?::([^:]*):([^:]*):([^:]*))?$/.exec(valueFrom);
    if (!m) throw new Error(`${container.name}: ${name}: valueFrom ${valueFrom} is not a Secrets Manager ARN (with an optional :json-key:stage:id)`);
    const [, arn, key, stage, id] = m;
    if (stage || id) throw new Error(`${container.name}: ${name}: only the current secret version is modelled, got ${valueFrom}`);
    if (!(arn in secretStrings)) throw new Error(`ResourceInitializationError: ${container.name}: ${name}: secret ${arn} has no value`);
    const whole = secretStrings[arn];
    if (!key) { env[name] = whole; continue; }
    const obj = JSON.parse(whole);
    if (!(key in obj)) throw new Error(`ResourceInitializationError: ${container.name}: ${name}: secret ${arn} has no JSON key "${key}"`);
    const v = obj[key];
    env[name] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return env;
}
