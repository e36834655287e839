import * as assert from 'node:assert/strict';
import {
  cudaFromImage,
  cudaFromIndexUrl,
  cudaFromLocalVersion,
  cudaFromWheelTag,
  pythonFromSpecifier,
} from '../../src/core/detect/versions';

describe('versions', () => {
  it('reads CUDA from wheel tags, index URLs and local version labels', () => {
    assert.equal(cudaFromWheelTag('cu121'), '12.1');
    assert.equal(cudaFromWheelTag('cu118'), '11.8');
    assert.equal(cudaFromWheelTag('cu130'), '13.0');
    assert.equal(cudaFromWheelTag('cu92'), '9.2');
    assert.equal(cudaFromWheelTag('cpu'), null);
    assert.equal(cudaFromIndexUrl('https://download.pytorch.org/whl/cu124'), '12.4');
    assert.equal(cudaFromIndexUrl('https://download.pytorch.org/whl/nightly/cu126/'), '12.6');
    assert.equal(cudaFromIndexUrl('https://download.pytorch.org/whl/cpu'), null);
    assert.equal(cudaFromIndexUrl('https://pypi.org/simple'), null);
    assert.equal(cudaFromLocalVersion('2.1.0+cu121'), '12.1');
    assert.equal(cudaFromLocalVersion('==2.1.0'), null);
  });

  it('reads CUDA from image references', () => {
    assert.equal(cudaFromImage('nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04'), '12.1');
    assert.equal(cudaFromImage('nvcr.io/nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04'), '13.0');
    assert.equal(cudaFromImage('pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime'), '12.1');
    assert.equal(cudaFromImage('python:3.12-slim'), null);
    assert.equal(cudaFromImage('nvidia/cuda'), null);
  });

  it('reads the Python version a specifier pins, or its lowest allowed version', () => {
    assert.equal(pythonFromSpecifier('==3.10.*'), '3.10');
    assert.equal(pythonFromSpecifier('>=3.9,<3.12'), '3.9');
    assert.equal(pythonFromSpecifier('~=3.11'), '3.11');
    assert.equal(pythonFromSpecifier('^3.10'), '3.10');
    assert.equal(pythonFromSpecifier('>=3.9 <3.12'), '3.9');
    assert.equal(pythonFromSpecifier('3.10'), '3.10');
    assert.equal(pythonFromSpecifier('3.11 || 3.10'), '3.10');
    assert.equal(pythonFromSpecifier('>3.8'), '3.9');
    assert.equal(pythonFromSpecifier('<3.12'), null);
    assert.equal(pythonFromSpecifier('>=3.8,>=3.10'), '3.10');
  });
});
