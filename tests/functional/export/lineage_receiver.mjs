// A small OpenLineage HTTP receiver for the export tests: listens on a free
// loopback port (written to PORT_FILE once listening) and appends the body
// of each POST to /api/v1/lineage to EVENTS_FILE as one line. Behaviour:
//   --fail-first N   answer the first N requests 503 (then accept)
//   --status CODE    answer every request CODE with a JSON error body
// Other paths get 404. Runs until killed.
import { createServer } from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';

const [portFile, eventsFile, ...opts] = process.argv.slice(2);
let failFirst = 0;
let status = 0;
for (let i = 0; i < opts.length; i += 2) {
  if (opts[i] === '--fail-first') failFirst = Number(opts[i + 1]);
  else if (opts[i] === '--status') status = Number(opts[i + 1]);
  else throw new Error(`unknown option ${opts[i]}`);
}
let requests = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests += 1;
    if (req.method !== 'POST' || req.url !== '/api/v1/lineage') {
      res.writeHead(404).end('no such endpoint\n');
      return;
    }
    if (status !== 0) {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"error":"receiver told to refuse"}\n');
      return;
    }
    if (requests <= failFirst) {
      res.writeHead(503).end('busy\n');
      return;
    }
    const auth = req.headers.authorization ?? '';
    appendFileSync(eventsFile, Buffer.concat(chunks).toString('utf8') + '\n');
    if (auth) appendFileSync(`${eventsFile}.auth`, `${auth}\n`);
    if (req.headers['content-type'] !== 'application/json') {
      appendFileSync(`${eventsFile}.bad-type`, `${req.headers['content-type']}\n`);
    }
    res.writeHead(201).end();
  });
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
