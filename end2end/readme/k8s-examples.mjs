// README's Kubernetes example (section "certdesk as an ACME server"), checked offline: every YAML object against
// the cert-manager, Gateway API and Kubernetes schemas, with unknown fields refused, and the references between
// the objects resolved. Run by the gate (end2end/stack/tests.sh); exits 1 with one line per problem.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { schemaProblem } from '../deploy/schemas.mjs';

const README = new URL('../../README.md', import.meta.url);
const SECTION = '## certdesk as an ACME server';
const EXPECTED_KINDS = ['Secret', 'ClusterIssuer', 'Gateway', 'Certificate'];
// A ClusterIssuer reads its Secrets from cert-manager's cluster resource namespace, by default its own.
const CLUSTER_RESOURCE_NAMESPACE = 'cert-manager';

/** The YAML code blocks of the section, each with the README line its first YAML line is on. */
function yamlBlocks(markdown) {
  const lines = markdown.split('\n');
  const start = lines.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no section "${SECTION}"`);
  const blocks = [];
  let block = null;
  for (let i = start + 1; i < lines.length && !/^## /.test(lines[i]); i++) {
    if (block) {
      if (lines[i] === '```') {
        blocks.push(block);
        block = null;
      } else block.text += `${lines[i]}\n`;
    } else if (lines[i] === '```yaml') block = { line: i + 2, text: '' };
  }
  if (block) throw new Error(`README.md:${block.line - 1}: unterminated yaml code block`);
  return blocks;
}

/** What the objects must say about each other for the example to work as a whole. */
function referenceProblems(objects) {
  const find = (kind, name, namespace) =>
    objects.find(
      (o) => o.kind === kind && o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace),
    );
  const problems = [];
  const check = (ok, message) => ok || problems.push(message);
  for (const kind of EXPECTED_KINDS) check(objects.some((o) => o.kind === kind), `the example has no ${kind}`);

  for (const issuer of objects.filter((o) => o.kind === 'ClusterIssuer')) {
    const acme = issuer.spec?.acme ?? {};
    const at = `ClusterIssuer ${issuer.metadata?.name}`;
    const directory = /^https:\/\/[^/]+\/acme\/[^/]+\/directory$/;
    check(directory.test(acme.server ?? ''), `${at}: acme.server is not https://<certdesk>/acme/{issuer}/directory`);
    const pem = Buffer.from(acme.caBundle ?? '', 'base64').toString();
    check(pem.startsWith('-----BEGIN CERTIFICATE-----'), `${at}: acme.caBundle is not base64 of a PEM certificate`);
    const ref = acme.externalAccountBinding?.keySecretRef;
    const secret = ref && find('Secret', ref.name, CLUSTER_RESOURCE_NAMESPACE);
    check(secret, `${at}: keySecretRef names no Secret of the example in namespace ${CLUSTER_RESOURCE_NAMESPACE}`);
    const secretKeys = { ...secret?.data, ...secret?.stringData };
    check(!secret || ref.key in secretKeys, `${at}: Secret ${ref?.name} has no key ${ref?.key}`);
    for (const solver of acme.solvers ?? []) {
      for (const parent of solver.http01?.gatewayHTTPRoute?.parentRefs ?? []) {
        const gateway = find('Gateway', parent.name, parent.namespace);
        check(gateway, `${at}: the HTTP-01 parentRef ${parent.namespace}/${parent.name} is no Gateway of the example`);
        const listener = gateway?.spec.listeners.find((l) => !parent.sectionName || l.name === parent.sectionName);
        const http = !gateway || listener?.protocol === 'HTTP';
        check(http, `${at}: the parentRef's listener ${parent.sectionName} is not an HTTP listener`);
      }
    }
  }
  for (const certificate of objects.filter((o) => o.kind === 'Certificate')) {
    const { issuerRef, secretName } = certificate.spec ?? {};
    const { name, namespace } = certificate.metadata ?? {};
    const issuerKind = issuerRef?.kind ?? 'Issuer';
    const issuer = find(issuerKind, issuerRef?.name, issuerKind === 'Issuer' ? namespace : undefined);
    check(issuer, `Certificate ${name}: issuerRef names no ${issuerKind} of the example`);
    const served = objects.some(
      (o) =>
        o.kind === 'Gateway' &&
        o.metadata?.namespace === namespace &&
        o.spec.listeners.some((l) => l.tls?.certificateRefs?.some((c) => c.name === secretName)),
    );
    check(served, `Certificate ${name}: no Gateway listener in its namespace serves its secret ${secretName}`);
  }
  return problems;
}

const blocks = yamlBlocks(await readFile(README, 'utf8'));
const problems = [];
const objects = [];
if (blocks.length === 0) problems.push(`README.md: section "${SECTION}" has no yaml code block`);
for (const block of blocks) {
  for (const document of parseAllDocuments(block.text)) {
    const start = document.contents?.range?.[0] ?? document.range[0];
    const line = block.line + block.text.slice(0, start).split('\n').length - 1;
    const object = document.toJS();
    const where = `README.md:${line} ${object?.kind ?? '(no kind)'} ${object?.metadata?.name ?? ''}`.trimEnd();
    if (document.errors.length) {
      problems.push(`${where}: ${document.errors.map((e) => e.message).join('; ')}`);
      continue;
    }
    const problem = await schemaProblem(object);
    if (problem) problems.push(`${where}: ${problem}`);
    else objects.push(object);
  }
}
if (problems.length === 0) problems.push(...referenceProblems(objects));

if (problems.length) {
  console.error(`README's Kubernetes example is not valid:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`README's Kubernetes example: ${objects.map((o) => `${o.kind} ${o.metadata.name}`).join(', ')} valid`);
