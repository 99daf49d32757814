/**
 * A small ONNX graph builder on top of the `onnx-proto` protobuf classes. We only need a handful of
 * standard operators to express the default model (and the tiny models tests build), so a thin
 * typed wrapper beats pulling in a Python toolchain.
 */
import { createRequire } from "node:module";
import type { onnx as OnnxNs } from "onnx-proto";

const require = createRequire(import.meta.url);
const { onnx } = require("onnx-proto") as { onnx: typeof OnnxNs };

export type ElemType = "float32" | "int64" | "int32" | "int8" | "bool";

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int8: onnx.TensorProto.DataType.INT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A dimension is a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { tensor: OnnxNs.ITensorProto };

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNs.INodeProto[] = [];
  private readonly initializers: OnnxNs.ITensorProto[] = [];
  private readonly inputs: OnnxNs.IValueInfoProto[] = [];
  private readonly outputs: OnnxNs.IValueInfoProto[] = [];
  private counter = 0;
  /** Operator domains besides the standard one that nodes use (e.g. "com.microsoft" for onnxruntime's own). */
  private readonly domains = new Set<string>();

  constructor(private readonly graphName: string) {}

  /** A fresh value name; `hint` keeps graphs readable in Netron. */
  name(hint: string): string {
    this.counter += 1;
    return `${hint}_${this.counter}`;
  }

  input(name: string, type: ElemType, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElemType, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  /** Adds a float32 weight (copied as raw little-endian bytes). */
  floatTensor(name: string, dims: number[], data: Float32Array | number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw new Error(`tensor ${name}: ${values.length} values for shape [${dims.join(", ")}]`);
    }
    this.initializers.push({
      name,
      dims,
      dataType: ELEM.float32,
      rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    });
    return name;
  }

  /** Adds an int8 weight (quantized values). */
  int8Tensor(name: string, dims: number[], data: Int8Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`tensor ${name}: ${data.length} values for shape [${dims.join(", ")}]`);
    this.initializers.push({ name, dims, dataType: ELEM.int8, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    return name;
  }

  int64Tensor(name: string, dims: number[], data: number[]): string {
    const values = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: ELEM.int64, rawData: new Uint8Array(values.buffer) });
    return name;
  }

  /** Scalar or 1-D int64 constant, e.g. axes and shapes. */
  ints(values: number[] | number, hint = "const"): string {
    const arr = Array.isArray(values) ? values : [values];
    return this.int64Tensor(this.name(hint), Array.isArray(values) ? [arr.length] : [], arr);
  }

  floats(values: number[] | number, hint = "const"): string {
    const arr = Array.isArray(values) ? values : [values];
    return this.floatTensor(this.name(hint), Array.isArray(values) ? [arr.length] : [], arr);
  }

  /** Appends a node and returns its output names (one per `outputs` count); `domain`: an operator outside the standard set. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1, hint = opType, domain = ""): string[] {
    const outs = Array.from({ length: outputs }, () => this.name(hint));
    if (domain) this.domains.add(domain);
    this.nodes.push({
      ...(domain ? { domain } : {}),
      opType,
      input: inputs,
      output: outs,
      name: this.name(`${hint}_node`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output convenience form of `op`. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = opType): string {
    return this.op(opType, inputs, attrs, 1, hint)[0]!;
  }

  /** Renames a value to a graph output name via Identity. */
  expose(value: string, outputName: string, type: ElemType, shape: Dim[]): void {
    this.nodes.push({ opType: "Identity", input: [value], output: [outputName], name: `${outputName}_identity` });
    this.output(outputName, type, shape);
  }

  /** Serialises the model; opset 17 gives LayerNormalization, supported by every current runtime. */
  toBytes(opts: { producer: string; opset?: number; docString?: string }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: opts.producer,
      producerVersion: "1",
      docString: opts.docString ?? "",
      opsetImport: [{ domain: "", version: opts.opset ?? 17 }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, shape: Dim[]): OnnxNs.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: T.INT, i: value };
  }
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ("float" in value) return { name, type: T.FLOAT, f: value.float };
  if ("floats" in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.TENSOR, t: value.tensor };
}
