// The Leaflet the pages serve (vendored, so a deploy needs no internet) is
// exactly the npm package this folder pins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const dist = path.dirname(require.resolve('leaflet/dist/leaflet.js'));
const vendored = new URL('../../../functions/pages/assets/vendor/leaflet/', import.meta.url);

test('the vendored Leaflet is the pinned npm package', () => {
  for (const file of ['leaflet.js', 'leaflet.css']) {
    assert.ok(
      fs.readFileSync(path.join(dist, file)).equals(fs.readFileSync(new URL(file, vendored))),
      `functions/pages/assets/vendor/leaflet/${file} differs from npm leaflet; copy it from node_modules/leaflet/dist`,
    );
  }
});
