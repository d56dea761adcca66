// The graph display message (application/vnd.nbunify.graph+json) sent by nbunify/graph.py: the contract's types.

/** MIME type of the kernel -> Lab message "draw this model graph". */
export const GRAPH_MIME_TYPE = 'application/vnd.nbunify.graph+json';

/** Newest message version this extension understands (nbunify.display.MESSAGE_VERSION). */
export const GRAPH_MESSAGE_VERSION = 1;

/** Op categories, as nbunify.graph.CATEGORIES assigns them; the renderer colours nodes by category. */
export const CATEGORIES = [
  'layer', // Conv, Gemm, MatMul, Dense, Embedding ... (the ops that hold most weights)
  'activation', // Relu, Sigmoid, Softmax, Gelu ...
  'pool', // MaxPool, AveragePool, GlobalAveragePool ...
  'normalization', // BatchNormalization, LayerNormalization ...
  'recurrent', // LSTM, GRU, RNN
  'dropout', // Dropout
  'shape', // Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Shape ...
  'tensor', // Concat, Split, Gather, Slice, Pad ...
  'math', // Add, Mul, Sub, Div, Pow, Sqrt, ReduceMean ...
  'control', // If, Loop, Scan
  'constant', // Constant, ConstantOfShape
  'other'
] as const;

export type Category = (typeof CATEGORIES)[number];

/** A dimension: a size, a symbolic name ("N", "batch"), or null when unknown. */
export type Dimension = number | string | null;

/** A named value of the graph (ONNX's value: an edge, a graph input/output, or a parameter). */
export interface IValueInfo {
  /** Element type ("float32", "int64" ...), null when unknown. */
  dtype: string | null;
  /** Shape, null when the rank is unknown. */
  shape: Dimension[] | null;
  /** True for a parameter (a floating-point ONNX initializer): drawn inside its node, never as an edge. An integer
   * initializer (a shape, slice bounds) is a constant: not a parameter, and with no producer it is no edge either. */
  parameter: boolean;
  /** Number of elements of a parameter (0 for other values). */
  count: number;
}

/** One argument of a node: its formal name ("X", "W", "B"; or "0", "1" ... when unknown) and the values it takes. */
export interface INodeArgument {
  name: string;
  /** Value names (keys of IGraphMessage.values); "" for an omitted optional input. */
  values: string[];
}

/** An attribute value; tensors and graphs arrive as a short text ("tensor float32[3]"), long lists shortened. */
export type AttributeValue = number | string | boolean | null | number[] | string[];

/** One node output compared by nu.parity(..., per_node=True): the imported model against onnxruntime. */
export interface INodeParity {
  /** The node output compared (a value name). */
  output: string;
  max_abs_error: number;
  /** max abs error over the reference's largest magnitude. */
  relative_error: number;
  /** Whether the output is within the tolerance. */
  ok: boolean;
}

export interface IGraphNode {
  /** Unique id ("n0", "n1" ... in graph order): names may be empty or repeated. */
  id: string;
  /** The node's name in the model, "" when it has none; display as text, never as HTML. */
  name: string;
  /** ONNX op_type, or the spec layer kind ("conv2d", "dense" ...) for a spec graph. */
  op: string;
  /** Operator domain, "" for the default ONNX domain. */
  domain: string;
  category: Category;
  /** Enclosing module names, outermost first ("/features/conv1/Conv" -> ["features", "conv1"]); [] at top level. */
  scope: string[];
  attributes: Record<string, AttributeValue>;
  inputs: INodeArgument[];
  outputs: INodeArgument[];
  /** Elements of the parameters among its inputs. */
  parameter_count: number;
  /** Present when the message was made with a per-node parity report and this node's output was compared. */
  parity: INodeParity | null;
}

/** The whole-model parity summary of a per-node report. */
export interface IGraphParity {
  /** What was compared, e.g. "keras (imported)" against "onnxruntime". */
  a: string;
  b: string;
  max_abs_error: number;
  /** Id of the first node (graph order) beyond tolerance, null when every compared node is within it. */
  first_drift: string | null;
  /** (absolute, relative) tolerance of a node. */
  tolerance: [number, number];
  /** Node outputs onnxruntime computed that the imported model does not hold (folded or fused). */
  unobserved: number;
}

/** The data of an `application/vnd.nbunify.graph+json` output. */
export interface IGraphMessage {
  version: number;
  /** Heading, e.g. "lenet5 (torch, exported by torch.onnx.export)". */
  title: string;
  /** "onnx" (any framework goes through its exporter) or "spec". */
  source: 'onnx' | 'spec';
  /** "torch", "keras", "paddle", "onnx" (a file or ModelProto) or "spec". */
  framework: string;
  /** Value names of the graph inputs and outputs (not parameters). */
  inputs: string[];
  outputs: string[];
  /** Every value named by a node argument or by inputs/outputs. */
  values: Record<string, IValueInfo>;
  /** In graph (topological) order. */
  nodes: IGraphNode[];
  /** Total elements of all parameters. */
  parameter_count: number;
  /** Present with a per-node parity report (nu.show(model, parity=report)). */
  parity: IGraphParity | null;
}

/**
 * Fill colour of each category, the same in nbunify.graph.CATEGORY_COLOURS (the static picture);
 * tests/golden/graph-categories.json, written by pytest, checks both sides agree.
 */
export const CATEGORY_COLOURS: Record<Category, string> = {
  layer: '#3b7dd8',
  activation: '#c0392b',
  pool: '#2e8b57',
  normalization: '#6a5acd',
  recurrent: '#8e44ad',
  dropout: '#7f8c8d',
  shape: '#8d6e63',
  tensor: '#b7950b',
  math: '#16a085',
  control: '#e67e22',
  constant: '#95a5a6',
  other: '#555555'
};
