'use strict';
// Service addresses in a service's environment (docs/environments.md): `{{<service>.url}}`,
// `{{<service>.address}}`, `{{<service>.host}}` and `{{<service>.port}}` name another service by its Cloud Map
// name in this environment's namespace, so no config writes a namespace (an overlay changes `environment` and
// every address follows). Resolved once, here, for the stack and the runner alike.

const { show } = require('./fields.cjs');

/** THE placeholder syntax; any other `{{...}}` in an environment value is an error. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const REFERENCE = /^([a-z][a-z0-9-]*)\.(url|address|host|port)$/;
const FORMS = '{{<service>.url}}, {{<service>.address}}, {{<service>.host}} or {{<service>.port}}';

/**
 * The parts of a support service's address in `namespace`.
 * @param {{ discoveryName: string, port: number }} s @param {string} namespace
 */
function addressParts(s, namespace) {
  const host = `${s.discoveryName}.${namespace}`;
  return { host, port: String(s.port), address: `${host}:${s.port}`, url: `http://${host}:${s.port}` };
}

/**
 * Copies of `services` whose enabled ones have every placeholder in `environment` replaced. A disabled service
 * keeps its values (it is not deployed). Calls `fail(path, message)` for an unknown placeholder, an unknown or
 * disabled service, or one that has no Cloud Map name and port (only support services do).
 * @template {{ name: string, enabled: boolean, kind: string, port: number|null, discoveryName: string|null, environment: Record<string, string> }} S
 * @param {readonly S[]} services catalog with "disabled" spread (resolveCatalog)
 * @param {string} namespace
 * @param {(path: string, message: string) => never} fail
 * @returns {S[]}
 */
function resolveAddresses(services, namespace, fail) {
  const byName = new Map(services.map((s) => [s.name, s]));
  return services.map((s) => {
    if (!s.enabled) return s;
    const environment = Object.fromEntries(Object.entries(s.environment).map(([key, value]) => {
      const at = `services.${s.name}.environment.${key}`;
      return [key, value.replace(PLACEHOLDER, (_, /** @type {string} */ ref) => {
        const m = REFERENCE.exec(ref);
        if (!m) return fail(at, `unknown placeholder ${show(`{{${ref}}}`)}: write ${FORMS}`);
        const target = byName.get(m[1]);
        if (!target) return fail(at, `{{${ref}}} names unknown service ${show(m[1])} (services: ${[...byName.keys()].join(', ')})`);
        if (!target.enabled) return fail(at, `{{${ref}}} names service ${show(m[1])}, which is disabled; enable it, or disable ${s.name} too (dependsOn: ["${m[1]}"] does that)`);
        if (target.discoveryName === null || target.port === null) {
          return fail(at, `{{${ref}}}: service ${show(m[1])} is a ${target.kind} service with no Cloud Map name and port; only support services are reachable by address`);
        }
        return addressParts(/** @type {{ discoveryName: string, port: number }} */ (target), namespace)[/** @type {'url'|'address'|'host'|'port'} */ (m[2])];
      })];
    }));
    return { ...s, environment };
  });
}

module.exports = { resolveAddresses, addressParts, PLACEHOLDER };
