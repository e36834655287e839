/** The distributions a project's imports need: standard library and the project's own modules left out, names mapped. */
import * as assert from 'node:assert/strict';
import { distributionFor, thirdPartyDistributions } from '../../src/core/detect/imports';

describe('detect: third-party distributions from imports', () => {
  it("leaves out the standard library, the project's own modules and namespaces; maps import names", () => {
    const imports = [
      'os',
      'json',
      'numpy',
      'pandas',
      'model',
      'utils',
      'sklearn',
      'cv2',
      'PIL',
      'yaml',
      'google',
      'numpy',
    ];
    assert.deepEqual(thirdPartyDistributions(imports, new Set(['model', 'utils'])).known, [
      'numpy',
      'pandas',
      'scikit-learn',
      'opencv-python-headless',
      'pillow',
      'pyyaml',
    ]);
  });

  it('a name that is not an identifier never becomes a requirement', () => {
    assert.deepEqual(thirdPartyDistributions(['x;rm', '--index-url', 'ok_pkg'], new Set()), {
      known: [],
      unknown: ['ok-pkg'],
    });
    assert.equal(distributionFor('tiktoken'), 'tiktoken');
  });

  it('a submodule that needs another distribution brings it too (torch.utils.tensorboard: tensorboard)', () => {
    assert.deepEqual(thirdPartyDistributions(['torch', 'torch.utils.tensorboard', 'torch.nn'], new Set()), {
      known: ['tensorboard'],
      unknown: [],
    });
  });

  it('only well-known distributions are installed; an unknown or GPU-only import is for the user to declare', () => {
    assert.deepEqual(thirdPartyDistributions(['cupy', 'numpy', 'cuda', 'mylib'], new Set()), {
      known: ['numpy'],
      unknown: ['cupy', 'cuda', 'mylib'],
    });
  });
});
