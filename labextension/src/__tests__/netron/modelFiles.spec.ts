// Tests of netron/modelFiles: which file names get "Open in Netron".

import { fileExtension, isModelFile, MODEL_FILE_EXTENSIONS } from '../../netron/modelFiles';

describe('isModelFile', () => {
  it.each(MODEL_FILE_EXTENSIONS.map(extension => [`model${extension}`]))('accepts %s', name => {
    expect(isModelFile(name)).toBe(true);
  });

  it.each(['models/LeNet.ONNX', 'a/b.c/net.v2.tflite', 'weights.Pt2', 'deep/dir/model.keras'])(
    'accepts %s (any case, any folder)',
    path => {
      expect(isModelFile(path)).toBe(true);
    }
  );

  it.each(['README.md', 'config.json', 'model.onnx.txt', 'onnx', '.onnx', 'model.', 'dir.onnx/file', 'x.pdiparams', 'm.ort'])(
    'refuses %s',
    path => {
      expect(isModelFile(path)).toBe(false);
    }
  );
});

describe('fileExtension', () => {
  it('takes the last dot of the last segment, lower-cased', () => {
    expect(fileExtension('a.b/model.tar.ONNX')).toBe('.onnx');
    expect(fileExtension('a.b/model')).toBe('');
    expect(fileExtension('')).toBe('');
  });
});
