// The gate's check of deploy/kubernetes, offline and before any build: each overlay rendered by kustomize, every
// object (and the platform example's Gateway and ClusterIssuer) against the Kubernetes, cert-manager, Gateway API
// and prometheus-operator schemas with unknown fields refused, then the references between them, the image and
// certdesk.toml (end2end/deploy/references.mjs). Exits 1 with one line per problem.
import { runtimeImage } from './containerfile.mjs';
import { overlayNames, platformObjects, renderOverlay } from './render.mjs';
import { referenceProblems } from './references.mjs';
import { schemaProblem } from './schemas.mjs';

const problems = [];
const summaries = [];
const describe = (object) => `${object?.kind ?? '(no kind)'} ${object?.metadata?.name ?? ''}`.trimEnd();
try {
  const image = runtimeImage();
  const platform = platformObjects();
  for (const object of platform) {
    const problem = await schemaProblem(object);
    if (problem) problems.push(`platform-example ${describe(object)}: ${problem}`);
  }
  const overlays = overlayNames();
  if (overlays.length === 0) problems.push('deploy/kubernetes/overlays has no overlay');
  for (const name of overlays) {
    const { objects, filled } = renderOverlay(name);
    const before = problems.length;
    for (const object of objects) {
      const problem = await schemaProblem(object);
      if (problem) problems.push(`overlays/${name} ${describe(object)}: ${problem}`);
    }
    if (problems.length === before) {
      problems.push(...referenceProblems(objects, platform, image).map((problem) => `overlays/${name}: ${problem}`));
    }
    summaries.push(`overlays/${name}: ${objects.length} objects (placeholders for ${filled.length} files not in git)`);
  }
} catch (error) {
  problems.push(error.message);
}

if (problems.length) {
  console.error(`deploy/kubernetes is not valid:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`deploy/kubernetes valid: ${summaries.join('; ')}, platform example, against deploy/Containerfile`);
