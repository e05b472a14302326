// The HTTPRoutes against the platform's Gateway, the Service and certdesk.toml: certdesk's hostname on an HTTPS
// listener that admits the route and serves the Certificate's Secret under a ReferenceGrant, the Certificate from
// an existing ClusterIssuer, and HTTP-01 on the port-80 listener for every domain the acme issuers prove that way.
import { covers, find, selects } from './objects.mjs';

const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge';

/** The policy domains of the acme issuers that no DNS-01 rule takes. */
function http01Domains(config) {
  return (config.issuers ?? [])
    .filter((issuer) => issuer.kind === 'acme')
    .flatMap((issuer) => {
      const dns01 = (issuer.challenges ?? []).filter((rule) => rule.type === 'dns-01').flatMap((rule) => rule.domains);
      return (issuer.policy ?? []).flatMap((rule) => rule.domains ?? []).filter((domain) => !dns01.includes(domain));
    });
}

function admits(listener, gateway, namespace) {
  const allowed = listener.allowedRoutes?.namespaces ?? { from: 'Same' };
  return (
    allowed.from === 'All' ||
    (allowed.from === 'Same' && gateway.metadata.namespace === namespace) ||
    (allowed.from === 'Selector' && selects(allowed.selector, { 'kubernetes.io/metadata.name': namespace }))
  );
}

/** The HTTPS listener serves the Certificate's Secret, which a ReferenceGrant lets it read. */
function tlsProblems(where, listener, gateway, route, objects, publicHost) {
  const problems = [];
  const namespace = route.metadata.namespace;
  for (const ref of listener.tls?.certificateRefs ?? []) {
    const certificate = objects.find((o) => o.kind === 'Certificate' && o.spec.secretName === ref.name);
    if ((ref.namespace ?? gateway.metadata.namespace) !== namespace || !certificate) {
      problems.push(
        `${where}: listener ${listener.name} serves Secret ${ref.namespace}/${ref.name}, ` +
          'which no Certificate of the manifests makes',
      );
      continue;
    }
    if (!certificate.spec.dnsNames?.includes(publicHost)) {
      problems.push(`Certificate ${certificate.metadata.name}: dnsNames lack ${publicHost}`);
    }
    const granted = objects.some(
      (o) =>
        o.kind === 'ReferenceGrant' &&
        o.spec.from.some((f) => f.kind === 'Gateway' && f.namespace === gateway.metadata.namespace) &&
        o.spec.to.some((t) => t.kind === 'Secret' && (t.group ?? '') === '' && (!t.name || t.name === ref.name)),
    );
    if (!granted) problems.push(`${where}: no ReferenceGrant lets Gateway ${gateway.metadata.name} read ${ref.name}`);
  }
  return problems;
}

function challengeProblems(where, route, targets, domains) {
  const problems = [];
  const paths = route.spec.rules.flatMap((rule) => rule.matches ?? []).map((match) => match.path);
  const onlyChallenges =
    paths.length > 0 &&
    paths.every((path) => path?.type === 'PathPrefix' && path.value.replace(/\/$/, '') === ACME_CHALLENGE_PATH);
  if (!onlyChallenges) problems.push(`${where}: on plain HTTP it must match ${ACME_CHALLENGE_PATH} alone`);
  if (!targets.every((target) => target === 'acme-http01')) problems.push(`${where}: does not send to acme-http01`);
  for (const name of domains.flatMap((domain) => [domain, `*.${domain}`])) {
    if (!(route.spec.hostnames ?? []).some((hostname) => covers(hostname, name))) {
      problems.push(`${where}: HTTP-01 for ${name} (a policy domain of an acme issuer) does not reach certdesk`);
    }
  }
  return problems;
}

export function routeProblems(objects, platform, config) {
  const problems = [];
  const publicHost = new URL(config.server.public_url).hostname;
  const domains = http01Domains(config);
  let served = false;
  let answersHttp01 = false;
  for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
    const where = `HTTPRoute ${route.metadata.name}`;
    const namespace = route.metadata.namespace;
    const hostnames = route.spec.hostnames ?? [];
    // The container port names the route's backends reach through the Service.
    const targets = route.spec.rules
      .flatMap((rule) => rule.backendRefs ?? [])
      .map((ref) => {
        const port = find(objects, 'Service', ref.name)?.spec.ports.find((p) => p.port === ref.port);
        if (!port) problems.push(`${where}: backendRef ${ref.name}:${ref.port} is no port of a Service`);
        return port?.targetPort;
      });
    for (const parent of route.spec.parentRefs) {
      const gateway = find(platform, 'Gateway', parent.name, parent.namespace ?? namespace);
      const listener = gateway?.spec.listeners.find((l) => l.name === parent.sectionName);
      if (!listener) {
        const named = `${parent.namespace}/${parent.name} ${parent.sectionName}`;
        problems.push(`${where}: parentRef ${named} is no listener of the platform example`);
        continue;
      }
      if (!admits(listener, gateway, namespace)) {
        problems.push(`${where}: listener ${listener.name} does not take routes from namespace ${namespace}`);
      }
      if (listener.hostname && !hostnames.every((hostname) => covers(listener.hostname, hostname))) {
        problems.push(`${where}: hostnames ${hostnames} are not all under ${listener.name}'s ${listener.hostname}`);
      }
      if (listener.protocol === 'HTTPS') {
        served = true;
        if (JSON.stringify(hostnames) !== JSON.stringify([publicHost])) {
          problems.push(`${where}: hostnames ${hostnames} are not server.public_url's host ${publicHost}`);
        }
        if (!targets.every((target) => target === 'http')) problems.push(`${where}: does not send to port http`);
        problems.push(...tlsProblems(where, listener, gateway, route, objects, publicHost));
      } else if (listener.protocol === 'HTTP') {
        answersHttp01 = true;
        problems.push(...challengeProblems(where, route, targets, domains));
      }
    }
  }
  if (!served) problems.push(`no HTTPRoute serves ${publicHost} on an HTTPS listener`);
  if (domains.length && !answersHttp01) problems.push('no HTTPRoute sends HTTP-01 challenges to certdesk');
  if (domains.length && !config.acme?.http01_listen) problems.push('certdesk.toml sets no acme.http01_listen');
  for (const certificate of objects.filter((o) => o.kind === 'Certificate')) {
    const ref = certificate.spec.issuerRef;
    if (!find(platform, ref.kind ?? 'Issuer', ref.name)) {
      problems.push(`Certificate ${certificate.metadata.name}: issuer ${ref.kind} ${ref.name} is not the platform's`);
    }
  }
  return problems;
}
