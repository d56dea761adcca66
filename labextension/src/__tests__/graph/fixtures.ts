// Graph messages for the graph specs: a tiny hand-made one and a DenseNet shaped like tests/onnx_models.densenet.

import { Category, IGraphMessage, IGraphNode, IValueInfo } from '../../graph/message';

const CATEGORY: Record<string, Category> = {
  Conv: 'layer', Gemm: 'layer', BatchNormalization: 'normalization', Relu: 'activation', MaxPool: 'pool',
  AveragePool: 'pool', GlobalAveragePool: 'pool', Concat: 'tensor', Flatten: 'shape', Add: 'math', Identity: 'tensor'
};

/** Builds a message node by node: `add(op, name, inputs, parameterCounts)` returns the node's output value. */
export class MessageBuilder {
  readonly values: Record<string, IValueInfo> = {};
  readonly nodes: IGraphNode[] = [];

  constructor(readonly inputs: string[] = ['input']) {
    for (const input of inputs) {
      this.values[input] = { dtype: 'float32', shape: ['N', 3, 32, 32], parameter: false, count: 0 };
    }
  }

  add(op: string, name: string, inputs: string[], parameters: number[] = []): string {
    const id = `n${this.nodes.length}`;
    const output = `${name || id}_out`;
    this.values[output] = { dtype: 'float32', shape: ['N', 8], parameter: false, count: 0 };
    const parameterNames = parameters.map((count, index) => {
      const value = `${name || id}.p${index}`;
      this.values[value] = { dtype: 'float32', shape: [count], parameter: true, count };
      return value;
    });
    const parts = name.split('/').filter(part => part !== '');
    this.nodes.push({
      id, name, op, domain: '', category: CATEGORY[op] ?? 'other',
      scope: name.includes('/') ? parts.slice(0, -1) : [],
      attributes: op === 'Conv' ? { kernel_shape: [3, 3] } : {},
      inputs: [{ name: 'X', values: inputs }, ...parameterNames.map((value, index) => ({ name: `P${index}`, values: [value] }))],
      outputs: [{ name: 'Y', values: [output] }],
      parameter_count: parameters.reduce((sum, count) => sum + count, 0),
      parity: null
    });
    return output;
  }

  message(outputs: string[], title = 'fixture'): IGraphMessage {
    return {
      version: 1, title, source: 'onnx', framework: 'torch', inputs: this.inputs, outputs,
      values: this.values, nodes: this.nodes,
      parameter_count: Object.values(this.values).reduce((sum, value) => sum + (value.parameter ? value.count : 0), 0),
      parity: null
    };
  }
}

/** input -> /a/conv (w) -> /a/relu -> /b/add(relu, input) -> out. */
export function tinyMessage(): IGraphMessage {
  const builder = new MessageBuilder();
  const conv = builder.add('Conv', '/a/conv/Conv', ['input'], [27, 3]);
  const relu = builder.add('Relu', '/a/relu/Relu', [conv]);
  const add = builder.add('Add', '/b/Add', [relu, 'input']);
  return builder.message([add]);
}

/** A DenseNet-BC named as the torch exporter names it, 7 nodes per dense layer (as tests/onnx_models.densenet). */
export function densenetMessage(blocks: number[] = [24, 48, 96, 72]): IGraphMessage {
  const builder = new MessageBuilder();
  let x = builder.add('Conv', '/features/conv0/Conv', ['input'], [9408]);
  x = builder.add('BatchNormalization', '/features/norm0/BatchNormalization', [x], [64, 64]);
  x = builder.add('Relu', '/features/relu0/Relu', [x]);
  x = builder.add('MaxPool', '/features/pool0/MaxPool', [x]);
  blocks.forEach((layers, blockIndex) => {
    const block = `/features/denseblock${blockIndex + 1}`;
    let features = [x];
    for (let layer = 1; layer <= layers; layer++) {
      const scope = `${block}/denselayer${layer}`;
      const joined = features.length === 1 ? features[0] : builder.add('Concat', `${scope}/Concat`, features);
      let h = builder.add('BatchNormalization', `${scope}/norm1/BatchNormalization`, [joined], [8, 8]);
      h = builder.add('Relu', `${scope}/relu1/Relu`, [h]);
      h = builder.add('Conv', `${scope}/conv1/Conv`, [h], [128]);
      h = builder.add('BatchNormalization', `${scope}/norm2/BatchNormalization`, [h], [8, 8]);
      h = builder.add('Relu', `${scope}/relu2/Relu`, [h]);
      h = builder.add('Conv', `${scope}/conv2/Conv`, [h], [128]);
      features = [joined, h];
    }
    x = builder.add('Concat', `${block}/Concat`, features);
    if (blockIndex < blocks.length - 1) {
      const transition = `/features/transition${blockIndex + 1}`;
      x = builder.add('BatchNormalization', `${transition}/norm/BatchNormalization`, [x], [8, 8]);
      x = builder.add('Relu', `${transition}/relu/Relu`, [x]);
      x = builder.add('Conv', `${transition}/conv/Conv`, [x], [64]);
      x = builder.add('AveragePool', `${transition}/pool/AveragePool`, [x]);
    }
  });
  x = builder.add('BatchNormalization', '/features/norm5/BatchNormalization', [x], [8, 8]);
  x = builder.add('Relu', '/features/relu5/Relu', [x]);
  x = builder.add('GlobalAveragePool', '/pool/GlobalAveragePool', [x]);
  x = builder.add('Flatten', '/flatten/Flatten', [x]);
  x = builder.add('Gemm', '/classifier/Gemm', [x], [1000, 10]);
  return builder.message([x], 'densenet');
}
