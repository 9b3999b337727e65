'use strict';
// The editor schema of a config file (config/config.schema.json), generated from the one zod declaration:
// the input side (fields with defaults are optional), each field's description, keys starting with `$` allowed
// as comments, and `extends`: a file that extends another is an overlay, so nothing in it is required.

const { z } = require('zod');
const { ConfigSchema } = require('./schema.cjs');

/** @typedef {Record<string, unknown>} JsonObject */

/** @param {unknown} v @returns {v is JsonObject} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A deep copy of a JSON Schema without `required` (an overlay may set any part of a config).
 * @param {unknown} s @returns {unknown}
 */
function optionalEverywhere(s) {
  if (Array.isArray(s)) return s.map(optionalEverywhere);
  if (!isObject(s)) return s;
  return Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'required').map(([k, v]) => [k, optionalEverywhere(v)]));
}

/** The JSON Schema of a config file, as a plain object. @returns {JsonObject} */
function configJsonSchema() {
  const full = /** @type {JsonObject} */ (z.toJSONSchema(ConfigSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      const js = /** @type {JsonObject} */ (jsonSchema);
      if (js.type !== 'object') return;
      if (js.additionalProperties === false || isObject(js.additionalProperties)) js.patternProperties = { '^\\$': {} };
      if (js.propertyNames) js.propertyNames = { anyOf: [js.propertyNames, { pattern: '^\\$' }] };
    },
  }));
  const { $schema, ...body } = full;
  const properties = /** @type {JsonObject} */ (body.properties);
  // `network` is validated as an optional section so that a missing one names `network.cidr`; it has no default
  const required = [.../** @type {string[]} */ (body.required ?? []), 'network'];
  const root = {
    ...body,
    required,
    properties: {
      $schema: { type: 'string', description: 'This file\'s JSON Schema (editors use it for completion and errors).' },
      extends: { type: 'string', description: 'Path of a config file this one overlays (relative to this file): objects merge key by key, arrays and scalars replace, null removes a key.' },
      ...properties,
    },
  };
  const { required: _all, ...overlay } = root;
  return {
    $schema,
    $comment: 'Generated from lib/config (the zod declaration) by `npm run schema`; do not edit.',
    title: 'staging-rollout environment config',
    if: { required: ['extends'] },
    then: optionalEverywhere(overlay),
    else: root,
  };
}

/** The committed text of config/config.schema.json. */
const configJsonSchemaText = () => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

module.exports = { configJsonSchema, configJsonSchemaText };
