import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { DOCUMENT_TEMPLATES } from '../../domain/documents/templates.ts';
import { startTestServer, type TestServer } from '../../../test/helpers.ts';

type Json = Record<string, any>;

const REFERENCE = path.resolve(
  import.meta.dirname,
  '../../../../shared/reference/txcloud/identity.openapi.yaml',
);

describe('supported documents and countries come from the template registry', () => {
  let s: TestServer;
  let key: string;
  before(async () => {
    s = await startTestServer();
    key = await s.key(['identity:read']);
  });
  after(async () => s.close());
  const get = (url: string) =>
    s.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  test('every template is a supported document; a country filter keeps its own and the generic ones', async () => {
    const all = (await get('/v1/identity/supported-documents')).json() as Json;
    assert.equal(all.object, 'list');
    assert.deepEqual(
      all.data.map((d: Json) => d.template_id).sort(),
      DOCUMENT_TEMPLATES.map((t) => t.id).sort(),
    );
    const cnie = all.data.find((d: Json) => d.template_id === 'mar_cnie_2020');
    assert.deepEqual(cnie.countries, ['MA']);
    assert.deepEqual(cnie.sides_required, ['front', 'back']);
    assert.ok(cnie.scripts.includes('arabic'));
    assert.ok(cnie.visual_zone_fields.includes('first_name_arabic'));
    const fr = (await get('/v1/identity/supported-documents?country=FR')).json() as Json;
    const ids = fr.data.map((d: Json) => d.template_id);
    assert.ok(ids.includes('fra_cni_2021') && ids.includes('icao_td3_passport'));
    assert.ok(!ids.includes('mar_cnie_2020'));
    assert.equal((await get('/v1/identity/supported-documents?country=M4')).statusCode, 400);
  });

  test('countries: those with a template are full_support, every other ISO country reads ICAO MRZs', async () => {
    const c = (await get('/v1/identity/countries')).json() as Json;
    const withTemplates = new Set(DOCUMENT_TEMPLATES.filter((t) => t.country).map((t) => t.country));
    const full = c.data.filter((x: Json) => x.status === 'full_support');
    assert.deepEqual(new Set(full.map((x: Json) => x.alpha3)), withTemplates);
    const ma = c.data.find((x: Json) => x.code === 'MA');
    assert.equal(ma.name, 'Morocco');
    assert.ok(ma.templates.includes('mar_cnie_2020') && ma.document_types.includes('passport'));
    const jp = c.data.find((x: Json) => x.code === 'JP');
    assert.equal(jp.status, 'beta');
    assert.deepEqual(jp.templates, []);
    assert.ok(c.data.length > 240);
    const caps = (await get('/v1/capabilities')).json() as Json;
    assert.ok(caps.countries.includes('MA'));
  });

  test('both answers match the published TXCloud schemas', { skip: !existsSync(REFERENCE) }, async () => {
    const published = parseYaml(readFileSync(REFERENCE, 'utf8')) as Json;
    const ajv = new Ajv({ strict: false });
    ajv.addSchema({ $id: 'txcloud', components: published.components });
    for (const [name, url] of [
      ['SupportedDocuments', '/v1/identity/supported-documents'],
      ['SupportedCountries', '/v1/identity/countries'],
    ] as const) {
      const validate = ajv.getSchema(`txcloud#/components/schemas/${name}`)!;
      assert.ok(validate((await get(url)).json()), `${name}: ${JSON.stringify(validate.errors)}`);
      assert.equal(validate({ object: 'list', data: [{ status: 'nope' }] }), name === 'SupportedDocuments');
    }
  });
});
