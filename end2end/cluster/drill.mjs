// The failover drill (end2end/stack.sh cluster-test): 4 clients issue, list, download and revoke through HAProxy
// for a bounded time while one replica is SIGKILLed and restarted, another SIGTERMed and restarted (each time the
// current job leader), the OpenBao Raft leader is SIGKILLed and restarted and PostgreSQL restarted. Then it asserts
// exactly one certificate per request, every revoke in the served CRL, no notification twice, the audit chain,
// job leadership moving, and a session from a sign-in through the balancer working on every replica; it prints
// each fault's error rate and time to recover. Fails loudly (exit 1) when the cluster is not up.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { baseUrl, replicaUrls, signIn, createToken, setWebhook, rpc } from './session.mjs';
import { Recorder, runClient } from './clients.mjs';
import * as checks from './checks.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const stackDir = process.env.CERTDESK_E2E_STACK_DIR;
const CLIENTS = 4;
const LOAD_SECONDS = Number(process.env.CERTDESK_DRILL_SECONDS ?? 75);
const failures = [];
const began = Date.now();
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}  [${((Date.now() - began) / 1000).toFixed(0)} s]`);
  if (!ok) failures.push(what);
};
const fault = async (...args) => (await run(process.env.CERTDESK_CLUSTER_FAULT, ['cluster-fault', ...args])).stdout.trim();

// Which replica (1-based) says it leads the jobs, from each one's /metrics; 0 when none answers 1.
const metricsToken = readFileSync(join(stackDir, 'portal', 'metrics.token'), 'utf8').trim();
async function jobLeader() {
  for (const [index, url] of replicaUrls.entries()) {
    try {
      const response = await fetch(`${url}/metrics`, {
        headers: { authorization: `Bearer ${metricsToken}` },
        signal: AbortSignal.timeout(1000),
      });
      if (/^certdesk_job_leader 1$/m.test(await response.text())) return index + 1;
    } catch {
      // down: not the leader
    }
  }
  return 0;
}

// Webhook receiver: when each X-Certdesk-Event-Id arrived (epoch ms, one entry per delivery).
const deliveries = new Map();
const receiver = createServer((request, response) => {
  const id = request.headers['x-certdesk-event-id'];
  request.resume();
  request.on('end', () => {
    deliveries.set(id, [...(deliveries.get(id) ?? []), Date.now()]);
    response.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(Number(process.env.CERTDESK_CLUSTER_WEBHOOK_PORT), '127.0.0.1', resolve));

// ---- set-up: the cluster must be there -------------------------------------------------------------------------
for (const url of [baseUrl, ...replicaUrls]) {
  const response = await fetch(`${url}/readyz`).catch((error) => ({ status: `unreachable (${error.cause?.code ?? error})` }));
  if (response.status !== 200) {
    console.error(`the cluster is not up: ${url}/readyz is ${response.status}; run end2end/stack.sh cluster-test`);
    process.exit(1);
  }
}
if (replicaUrls.length < 2) throw new Error('CERTDESK_CLUSTER_REPLICAS names fewer than two replicas');
const cookie = await signIn('user1');
const token = await createToken(cookie, `drill-${Date.now()}`);
await setWebhook(cookie, `http://127.0.0.1:${process.env.CERTDESK_CLUSTER_WEBHOOK_PORT}/hook`);
for (const [index, url] of replicaUrls.entries()) {
  const { status } = await rpc(cookie, 'list_api_tokens', {}, url);
  check(status === 200, `the balancer's session works on replica ${index + 1} directly (before the drill)`);
}

// ---- load and faults -------------------------------------------------------------------------------------------
const recorder = new Recorder();
const leaders = []; // { at, leader }
let loadOver = false;
const watcher = (async () => {
  while (!loadOver) {
    leaders.push({ at: Date.now() - recorder.start, leader: await jobLeader() });
    await sleep(300);
  }
})();
const clients = Array.from({ length: CLIENTS }, (_, n) => runClient(recorder, token, `c${n}`, () => loadOver));
const at = (seconds) => sleep(Math.max(0, recorder.start + seconds * 1000 - Date.now()));
const faults = [];
const mark = (name) => faults.push({ name, at: Date.now() - recorder.start });

await at(8);
const killed = await jobLeader();
check(killed > 0, `a job leader before the first fault (replica ${killed})`);
mark(`SIGKILL replica ${killed} (job leader), restarted 4 s later`);
await fault('kill-replica', String(killed));
const killedBy = Date.now();
await sleep(4000);
await fault('start-replica', String(killed));

await at(24);
const termed = await jobLeader();
check(termed > 0 && termed !== killed, `leadership moved off the killed replica (now replica ${termed})`);
mark(`SIGTERM replica ${termed} (job leader), restarted after it exited`);
const termAt = Date.now();
const terming = fault('term-replica', String(termed));
let handover = null;
while (handover === null && Date.now() - termAt < 10_000) {
  const now = await jobLeader();
  if (now > 0 && now !== termed) handover = (Date.now() - termAt) / 1000;
  else await sleep(100);
}
check(handover !== null && handover < 5, `another replica led ${handover}s after SIGTERM (lock released at once)`);
await terming;
const termLog = readFileSync(join(stackDir, 'logs', `portal-${termed}.log`), 'utf8');
check(/released the job leader lock/.test(termLog) && /certdesk stopped/.test(termLog), 'the SIGTERMed replica released the lock and stopped cleanly');
await fault('start-replica', String(termed));

await at(40);
mark('SIGKILL the OpenBao Raft leader, restarted 6 s later');
const node = await fault('kill-bao-leader');
await sleep(6000);
await fault('start-bao', node);

await at(56);
mark('PostgreSQL restarted (pg_ctl stop -m fast, start)');
await fault('restart-postgres');

await at(LOAD_SECONDS);
loadOver = true;
const outcomes = await Promise.all(clients);
const done = outcomes.flatMap((outcome) => outcome.done);
for (const [n, { error }] of outcomes.entries()) check(error === null, `client ${n} finished every request (${error ?? 'no error'})`);
await watcher;
const end = Date.now() - recorder.start;

// ---- afterwards --------------------------------------------------------------------------------------------------
console.log(`\n${done.length} requests by ${CLIENTS} clients, ${recorder.timeline.length} HTTP calls in ${(end / 1000).toFixed(0)} s`);
// A replica killed between the intent and the issuer's answer leaves `pending`: the reconciler settles it.
check(await checks.eventually(200, async () => (await checks.pendingCount()) === 0), 'no request left pending');
const problems = await checks.exactlyOnePerRequest(done);
check(problems.length === 0, `every request ended with exactly one certificate ${problems.slice(0, 5).join('; ')}`);
const revoked = done.filter((entry) => entry.revoked).map((entry) => entry.id);
const serials = await checks.serialsOf(revoked);
let missing = serials;
await checks.eventually(90, async () => {
  const served = await checks.servedCrlSerials();
  missing = serials.filter((serial) => !served.has(serial));
  return missing.length === 0;
});
check(revoked.length > 0 && missing.length === 0, `all ${revoked.length} revoked serials in the served CRL (missing: ${missing.length})`);
// A replica killed while it revoked leaves its intent claimed for a minute; the leader's job (every 15 s) then
// records it, with its notice.
const notified = await checks.eventually(120, async () => {
  const [[count]] = await checks.sql("SELECT count(*) FROM notifications WHERE kind = 'revoked' AND status = 'sent'");
  return Number(count) >= revoked.length;
});
check(notified, `a revocation notice sent for each of the ${revoked.length} revocations`);
// Delivery is at least once: a replica SIGKILLed between the receiver's answer and its record sends that notice
// again once the claim runs out (same event id, for the receiver to drop). Only the job leader's SIGKILL can do
// that here; any other repeat (SIGTERM, PostgreSQL or OpenBao restarts) is a bug.
const sigkillAt = recorder.start + faults[0].at;
const twice = [...deliveries].filter(([, times]) => times.length > 1);
const inFlightAtSigkill = ([, times]) => times.length === 2 && times[0] > sigkillAt - 2000 && times[0] <= killedBy;
const unexplained = twice.filter((entry) => !inFlightAtSigkill(entry));
console.log(`${twice.length - unexplained.length} notice(s) on the wire when the job leader was SIGKILLed, delivered again with the same id`);
check((await checks.duplicateNotifications()).length === 0 && unexplained.length === 0, `no notification twice (${deliveries.size} webhook deliveries, ${unexplained.length} repeated otherwise${unexplained.map(([id, times]) => ` ${id} at ${times.map((t) => ((t - recorder.start) / 1000).toFixed(1)).join('/')} s`).join(';')})`);
const audit = await checks.auditVerify();
check(audit.ok, `certdesk audit verify: ${audit.output.split('\n').pop()}`);
const sequence = leaders.map((sample) => sample.leader).filter((leader, i, all) => leader > 0 && leader !== all[i - 1]);
const after = leaders.filter((sample) => sample.at > faults[3].at + 3000).some((sample) => sample.leader > 0);
check(new Set(sequence).size >= 2 && after, `job leadership moved (${sequence.join(' → ')}) and was held again after the PostgreSQL restart`);
const [[runReplicas]] = await checks.sql('SELECT count(DISTINCT replica) FROM job_runs');
console.log(`job_runs recorded by ${runReplicas} replicas`);
for (const [index, url] of replicaUrls.entries()) {
  const { status } = await rpc(cookie, 'list_api_tokens', {}, url);
  check(status === 200, `the same session still works on replica ${index + 1} directly (after restarts)`);
}

// ---- the table ---------------------------------------------------------------------------------------------------
// "Recovered after": from the fault to the start of the first second of the window from which every second has at
// least 95 % of its calls succeed (until the next fault), i.e. when the success rate is back; an isolated failure
// later on does not count as still recovering.
const recoveredAfter = (window, from, to) => {
  const seconds = Math.ceil((to - from) / 1000);
  const buckets = Array.from({ length: seconds }, () => ({ ok: 0, failed: 0 }));
  for (const call of window) buckets[Math.floor((call.at - from) / 1000)][call.ok ? 'ok' : 'failed'] += 1;
  const healthy = (bucket) => bucket.ok + bucket.failed === 0 || bucket.ok / (bucket.ok + bucket.failed) >= 0.95;
  let first = seconds;
  while (first > 0 && healthy(buckets[first - 1])) first -= 1;
  return first;
};
console.log('\n| fault | calls in window | failed | error rate | recovered after | last failure after |');
console.log('|---|---|---|---|---|---|');
for (const [i, { name, at: from }] of faults.entries()) {
  const to = faults[i + 1]?.at ?? end;
  const window = recorder.timeline.filter((call) => call.at >= from && call.at < to);
  const failed = window.filter((call) => !call.ok);
  const last = failed.length ? ((Math.max(...failed.map((call) => call.at)) - from) / 1000).toFixed(1) : '0';
  const rate = window.length ? ((100 * failed.length) / window.length).toFixed(1) : '0';
  console.log(`| ${name} | ${window.length} | ${failed.length} | ${rate} % | ${recoveredAfter(window, from, to)} s | ${last} s |`);
}
const baseline = recorder.timeline.filter((call) => call.at < faults[0].at);
console.log(`| (before the first fault) | ${baseline.length} | ${baseline.filter((c) => !c.ok).length} | | | |`);
receiver.close();
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('\nthe drill passed');
