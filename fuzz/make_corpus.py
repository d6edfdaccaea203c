#!/usr/bin/python3
"""Writes the seed corpus under fuzz/corpus/<reader>/ for the libFuzzer targets and for
tests/io/test_fuzz_replay.cpp. Seeds are small valid (and a few near-valid) inputs built here
independently of torchlean's writers. Run from fuzz/ with Debian's python3 (numpy).
"""
import json
import os
import struct

import numpy as np


def put(reader, name, data):
    os.makedirs(f"corpus/{reader}", exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(f"corpus/{reader}/{name}", mode) as f:
        f.write(data)


def node(i, kind, parents, shape, **attrs):
    return {"id": i, "kind": kind, "parents": parents, "shape": shape, **attrs}


# graph_json ---------------------------------------------------------------------------------
mlp = {"format": "torchlean.ir.v1", "input_id": 0, "output_id": 3, "nodes": [
    node(0, "input", [], [2]), node(1, "linear", [0], [3]), node(2, "relu", [1], [3]),
    node(3, "linear", [2], [1])]}
put("graph_json", "mlp.json", json.dumps(mlp, indent=1))
cnn = {"format": "torchlean.ir.v1", "input_id": 0, "output_id": 6, "nodes": [
    {**node(0, "input", [], [1, 6, 6]), "value_kind": "tensor", "debug_target": "x"},
    node(1, "conv2d", [0], [2, 4, 4], inC=1, outC=2, kH=3, kW=3, stride=1, padding=0),
    node(2, "max_pool2d_pad", [1], [2, 3, 3], kH=2, kW=2, stride=1, padding=0),
    node(3, "avg_pool2d", [2], [2, 2, 2], kH=2, kW=2, stride=1),
    node(4, "flatten", [3], [8], value_shape=[2, 2, 2]),
    node(5, "linear", [4], [2]), node(6, "softmax", [5], [2], axis=0)]}
put("graph_json", "cnn.json", json.dumps(cnn))
bn = {"input_id": 0, "output_id": 2, "nodes": [
    node(0, "input", [], [1, 2, 3, 3]),
    node(1, "batch_norm2d_nchw_eval", [0], [1, 2, 3, 3], channels=2, eps=1e-05),
    node(2, "reshape", [1], [2, 9], in_shape=[1, 2, 3, 3], out_shape=[2, 9])]}
put("graph_json", "batchnorm.json", json.dumps(bn))
misc = {"format": "torchlean_cpp.ir.v1x", "input_ids": [0, 1], "output_ids": [9, 10], "nodes": [
    node(0, "input", [], [2, 3]), node(1, "input", [], [2, 3]),
    node(2, "const", [], [2, 3], value_shape=[2, 3]),
    node(3, "add", [0, 2], [2, 3]), node(4, "permute", [3], [3, 2], perm=[1, 0]),
    node(5, "broadcast_to", [4], [3, 2], from_shape=[3, 2], to_shape=[3, 2]),
    node(6, "reduce_mean", [5], [3], axis=1), node(7, "concat", [0, 1], [4, 3], axis=0),
    node(8, "rand_uniform", [], [2, 3], seed=7), node(9, "mse_loss", [0, 8], []),
    node(10, "layernorm", [7], [4, 3], axis=1)]}
put("graph_json", "multi_io.json", json.dumps(misc))
mha = {"format": "torchlean.ir.v1", "input_id": 0, "output_id": 2, "nodes": [
    {"id": 0, "kind": "input", "parents": [], "value_kind": "tensor", "shape": [1, 3, 4]},
    {"id": 1, "kind": "multihead_attention", "parents": [0, 0, 0], "value_kind": "tuple",
     "tuple_shapes": [[1, 3, 4], [1, 3, 3]], "embed_dim": 4, "num_heads": 1,
     "batch_first": True, "dropout_zero": True, "bias": True},
    {"id": 2, "kind": "tuple_getitem", "parents": [1], "value_kind": "tensor", "shape": [1, 3, 4],
     "index": 0}]}
put("graph_json", "mha.json", json.dumps(mha))

# state_dict -----------------------------------------------------------------------------------
sd = {"params": {"layers.0.weight": [[0.5, -1.0], [2.0, 0.25], [1.5, 3.0]],
                 "layers.0.bias": [0.1, 0.2, 0.3],
                 "layers.2.weight": [[1.0, -2.0, 0.5]], "layers.2.bias": [1e-3]},
      "meta": {"format": "TorchLean.MLP", "dtype": "float32"}}
put("state_dict", "mlp.json", json.dumps(sd, indent=1))
put("state_dict", "bare.json", json.dumps({"w": [[[1, 2], [3, 4]]], "s": 2.5, "e": [[], []]}))

# paramlist_bits -------------------------------------------------------------------------------
def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]

pl = {"format": "torchlean_paramlist_bits_v1", "params": [
    {"shape": [3, 2], "values": [bits(v) for v in [0.5, -1.0, 2.0, 0.25, 1.5, 3.0]]},
    {"shape": [3], "values": [bits(v) for v in [0.1, -0.0, 5e-324]]},
    {"shape": [1, 3], "values": [bits(v) for v in [1.0, float("inf"), 2.0]]},
    {"shape": [1], "values": [0x7FF8000000000001]}]}
put("paramlist_bits", "mlp.json", json.dumps(pl, indent=1))
put("paramlist_bits", "scalar.json",
    json.dumps({"format": "torchlean_paramlist_bits_v1", "params": [{"shape": [], "values": [bits(1.0)]}]}))


# safetensors ----------------------------------------------------------------------------------
def safetensors(entries, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


put("safetensors", "payload.safetensors", safetensors([
    ("1.weight", "F32", [3, 2], struct.pack("<6f", 0.5, -1.0, 2.0, 0.25, 1.5, 3.0)),
    ("1.bias", "F32", [3], struct.pack("<3f", 0.1, 0.2, 0.3)),
    ("3.weight", "F64", [1, 3], struct.pack("<3d", 1.0, -2.0, 0.5)),
    ("3.bias", "F64", [1], struct.pack("<d", 1e-3))], {"producer": "make_corpus.py"}))
put("safetensors", "scalar_empty.safetensors", safetensors([
    ("0.value", "F64", [], struct.pack("<d", 2.5)), ("2.value", "F32", [0, 4], b"")]))

# npy ------------------------------------------------------------------------------------------
os.makedirs("corpus/npy", exist_ok=True)
np.save("corpus/npy/f4_2x3.npy", np.array([[1.5, -2.0, 0.25], [3.0, -0.0, 1e-3]], dtype="<f4"))
np.save("corpus/npy/f8_vec.npy", np.array([0.1, np.nan, -np.inf], dtype="<f8"))
np.save("corpus/npy/i8_vec.npy", np.array([-3, 0, 7], dtype="<i8"))
np.save("corpus/npy/i4_scalar.npy", np.array(5, dtype="<i4"))
with open("corpus/npy/f8_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.ones((2, 1), dtype="<f8"), version=(2, 0))
