// Kubernetes objects checked offline against their schemas: the Kubernetes API, cert-manager, Gateway API and
// prometheus-operator models from npm, with unknown fields refused. Shared by the checks of README's Kubernetes
// example (end2end/readme/k8s-examples.mjs) and of deploy/kubernetes (end2end/deploy/manifests.mjs).

// Searched in this order for the module of an apiVersion (`kubernetes-models/v1`, `…/cert-manager.io/v1`).
export const MODEL_PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/cert-manager',
  '@kubernetes-models/gateway-api',
  '@kubernetes-models/prometheus-operator',
];

/** The model class of apiVersion + kind from the model packages, or undefined. */
export async function modelClass(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return undefined;
  for (const pkg of MODEL_PACKAGES) {
    let module;
    try {
      module = await import(`${pkg}/${apiVersion}`);
    } catch (error) {
      if (error.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || error.code === 'ERR_MODULE_NOT_FOUND') continue;
      throw error;
    }
    const model = Object.values(module).find((c) => c?.apiVersion === apiVersion && c?.kind === kind);
    if (model) return model;
  }
  return undefined;
}

// The generated schemas have no `additionalProperties: false` (CRD schemas never do: the API server's strict field
// validation, kubectl's default, is what refuses unknown fields), so a misspelt key would pass `.validate()`.
// The validator is therefore run over a proxy that records which keys it looked at in each object: a key it never
// read is not in the schema. An object it read nothing of is free-form (e.g. a webhook solver's `config`).
export function validateStrictly(model) {
  const readKeys = new WeakMap();
  const proxies = new WeakMap();
  const track = (value) => {
    if (value === null || typeof value !== 'object') return value;
    if (!proxies.has(value)) {
      const read = new Set();
      readKeys.set(value, read);
      const note = (key) => typeof key === 'string' && read.add(key);
      proxies.set(
        value,
        new Proxy(value, {
          get: (target, key) => (note(key), track(Reflect.get(target, key))),
          has: (target, key) => (note(key), Reflect.has(target, key)),
          getOwnPropertyDescriptor: (target, key) => (note(key), Reflect.getOwnPropertyDescriptor(target, key)),
        }),
      );
    }
    return proxies.get(value);
  };
  model.validate.call(track(model));
  const unknown = (value, path) => {
    if (Array.isArray(value)) return value.flatMap((item, i) => unknown(item, `${path}[${i}]`));
    const read = value !== null && typeof value === 'object' && readKeys.get(value);
    if (!read || read.size === 0) return [];
    return Object.keys(value).flatMap((key) =>
      read.has(key) ? unknown(value[key], `${path}.${key}`) : [`${path}.${key}`],
    );
  };
  const fields = unknown(model, '');
  if (fields.length) throw new Error(`unknown field${fields.length > 1 ? 's' : ''} ${fields.join(', ')}`);
}

/** Validates one object; the problem as a string, or undefined when it is valid. */
export async function schemaProblem(object) {
  const Model = object && (await modelClass(String(object.apiVersion), String(object.kind)));
  if (!Model) {
    return `no schema for apiVersion ${object?.apiVersion} kind ${object?.kind} in ${MODEL_PACKAGES.join(', ')}`;
  }
  try {
    validateStrictly(new Model(object));
    return undefined;
  } catch (error) {
    return error.message;
  }
}
