// Validates OpenLineage events (one JSON per line in the file given) against
// the official schema kept in openlineage-spec/ and every facet against its
// own schema: OpenLineage's facet files there, roar's in
// docs/openlineage/facets/. A facet with no schema, or whose _schemaURL is
// not its schema's, is an error too. With a second argument, roar's schemas
// are taken as published under that base (roar.toml's
// export.openlineage_schema_base) instead of their default one. Prints one
// line per problem and exits 1 if there is any. ajv and ajv-formats come
// from tests/functional/node (NODE_DIR).
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(process.env.NODE_DIR, 'package.json'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const here = dirname(fileURLToPath(import.meta.url));
const specDir = join(here, 'openlineage-spec');
const roarDir = join(here, '..', '..', '..', 'docs', 'openlineage', 'facets', '1-0-0');
const defaultBase = 'file:///usr/share/roar/openlineage/facets';
const base = process.argv[3];

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const load = (file) => JSON.parse(readFileSync(file, 'utf8'));
const spec = load(join(specDir, 'OpenLineage.json'));
ajv.addSchema(spec);

const problems = [];
// facet key -> { id, validate }
const facets = new Map();
for (const file of [
  ...readdirSync(join(specDir, 'facets')).map((f) => join(specDir, 'facets', f)),
  ...readdirSync(roarDir).map((f) => join(roarDir, f)),
]) {
  const schema = load(file);
  if (file.startsWith(roarDir)) {
    if (!schema.$id.startsWith(`${defaultBase}/1-0-0/`)) {
      problems.push(`${file}: $id ${schema.$id} is not under ${defaultBase}/1-0-0/`);
    }
    if (base) {
      schema.$id = base + schema.$id.slice(defaultBase.length);
    }
  }
  ajv.addSchema(schema);
  for (const key of Object.keys(schema.properties ?? {})) {
    facets.set(key, { id: schema.$id, validate: ajv.getSchema(schema.$id) });
  }
}
const validateEvent = ajv.getSchema(spec.$id);

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.length > 0);
lines.forEach((line, i) => {
  const where = `event ${i + 1}`;
  let event;
  try {
    event = JSON.parse(line);
  } catch (e) {
    problems.push(`${where}: not JSON: ${e.message}`);
    return;
  }
  if (!validateEvent(event)) {
    problems.push(`${where}: ${ajv.errorsText(validateEvent.errors)}`);
  }
  const checkFacets = (what, group) => {
    for (const [key, value] of Object.entries(group ?? {})) {
      const known = facets.get(key);
      if (!known) {
        problems.push(`${where}: ${what}.${key}: no schema for this facet`);
        continue;
      }
      if (!known.validate({ [key]: value })) {
        problems.push(`${where}: ${what}.${key}: ${ajv.errorsText(known.validate.errors)}`);
      }
      if (typeof value._schemaURL !== 'string' || !value._schemaURL.startsWith(`${known.id}#/$defs/`)) {
        problems.push(`${where}: ${what}.${key}: _schemaURL ${value._schemaURL} is not in ${known.id}`);
      }
    }
  };
  checkFacets('run.facets', event.run?.facets);
  checkFacets('job.facets', event.job?.facets);
  for (const [list, extra] of [['inputs', 'inputFacets'], ['outputs', 'outputFacets']]) {
    (event[list] ?? []).forEach((d, k) => {
      checkFacets(`${list}[${k}].facets`, d.facets);
      checkFacets(`${list}[${k}].${extra}`, d[extra]);
    });
  }
});
if (problems.length > 0) {
  for (const p of problems) console.log(p);
  process.exit(1);
}
console.log(`${lines.length} events valid`);
