import * as assert from 'node:assert/strict';
import { compareVersions as compatCompare } from '../../src/core/compat/versions';
import { compareApiVersions } from '../../src/core/docker/info';
import { compareVersions, versionAtLeast } from '../../src/core/util/versions';

describe('compareVersions (one for all dotted versions)', () => {
  it('compares part by part as numbers, missing parts as 0', () => {
    assert.equal(compareVersions('12.10', '12.9'), 1);
    assert.equal(compareVersions('1.9', '1.41'), -1);
    assert.equal(compareVersions('12.4', '12.4.0'), 0);
    assert.equal(compareVersions('580.159.04', '580.159.4'), 0);
    assert.equal(compareVersions('3.10', '3.9'), 1);
    assert.equal(compareVersions('x', '0'), 0);
    assert.deepEqual(['12.8', '11.8', '12.10', '12.1'].sort(compareVersions), ['11.8', '12.1', '12.8', '12.10']);
    assert.ok(versionAtLeast('535.104.05', '535'));
    assert.ok(!versionAtLeast('8.6', '8.9'));
  });

  it('is the comparison the compatibility rules and the engine API negotiation use', () => {
    assert.equal(compatCompare, compareVersions);
    assert.equal(compareApiVersions, compareVersions);
  });
});
