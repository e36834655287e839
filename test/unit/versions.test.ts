import * as assert from 'node:assert/strict';
import {
  cudaFromBuildLabel,
  cudaFromImage,
  cudaFromIndexUrl,
  cudaFromLocalVersion,
  cudaFromWheelTag,
  pythonFromImage,
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

  it("reads CUDA from a build label that spells it out (jaxlib's), a bare major when the minor is left open", () => {
    assert.equal(cudaFromBuildLabel('==0.3.2+cuda11.cudnn82'), '11');
    assert.equal(cudaFromBuildLabel('==0.4.7+cuda12.cudnn88'), '12');
    assert.equal(cudaFromBuildLabel('==0.1.69+cuda111'), '11.1');
    assert.equal(cudaFromBuildLabel('==2.1.0+cu121'), null);
    assert.equal(cudaFromBuildLabel('==0.4.7'), null);
  });

  it('reads the Python of an official Python image, and of no other', () => {
    assert.equal(pythonFromImage('python:3.10-slim'), '3.10');
    assert.equal(pythonFromImage('docker.io/library/python:3.12.4-bookworm'), '3.12');
    assert.equal(pythonFromImage('library/python:3.9'), '3.9');
    assert.equal(pythonFromImage('python:3'), null);
    assert.equal(pythonFromImage('someone/python:3.10'), null);
    assert.equal(pythonFromImage('nvidia/cuda:12.1.0-devel-ubuntu22.04'), null);
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
