#!/usr/bin/env python3
"""Writes the crafted model files of fuzz/corpus/model/: two small valid models (ok-*, fuzzing
seeds) and about fifty broken ones (bad-*), each a different way a safetensors model file can be
wrong. Every bad file must get one line naming it and a non-zero exit from `latent denoise` and
`latent reconstruct` (Tests/CLITests/HostileModelTests.swift), in bounded memory and time
(scripts/hostile_inputs.sh). Deterministic: running it again writes the same bytes.

    python3 scripts/make_model_corpus.py [OUT_DIR]
"""
import json, os, struct, sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus", "model")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)


def pack(header, data=b"", pad=True):
    h = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, (bytes, str)) else (header.encode() if isinstance(header, str) else header)
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def model(tensors, meta):
    """tensors: list of (name, array) in file order."""
    header, data, off = {}, b"", 0
    if meta is not None:
        header["__metadata__"] = meta
    for name, a in tensors:
        b = np.asarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(a)), "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    return header, data


def mlp_tensors(sizes, prefix):
    t = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        t.append((f"{prefix}.{i}.weight", rng.uniform(-0.1, 0.1, (b, a))))
        t.append((f"{prefix}.{i}.bias", rng.uniform(-0.1, 0.1, (b,))))
    return t


# A 28x28 grey denoising autoencoder 784-4-2 (kind dae), as latent writes them.
dae_meta = {"format": "latent", "format_version": "1", "kind": "dae", "width": "28", "height": "28", "channels": "1",
            "hidden": "4", "latent": "2", "activation": "relu", "decoder": "bernoulli", "noise": "gaussian:0.5"}
dae_t = mlp_tensors([784, 4, 2], "encoder") + mlp_tensors([2, 4, 784], "decoder")

# A tiny grey conv-dae (widths 4,4,4, no blocks).
conv_meta = {"format": "latent", "format_version": "1", "kind": "conv-dae", "channels": "1", "widths": "4,4,4"}
conv_layers = [("head0", 1, 4, 3), ("head1", 4, 4, 3), ("down1", 16, 4, 1), ("enc1", 4, 4, 3), ("down2", 16, 4, 1),
               ("mid1", 4, 4, 3), ("mid2", 4, 4, 3), ("up1", 4, 16, 1), ("dec1", 4, 4, 3), ("up0", 4, 16, 1),
               ("dec0", 4, 4, 3), ("tail", 4, 1, 3)]
conv_t = []
for name, cin, cout, k in conv_layers:
    conv_t.append((name + ".weight", rng.uniform(-0.05, 0.05, (cout, cin, k, k))))
    conv_t.append((name + ".bias", np.zeros(cout)))

# A tiny colour noise-map conv-dae with its noise-map estimator bundled (width 4, depth 1).
map_meta = {"format": "latent", "format_version": "1", "kind": "conv-dae", "channels": "3", "widths": "4,4,4",
            "noise_input": "map", "estimator": "4,1"}
map_t = []
for name, cin, cout, k in [("head0", 6, 4, 3)] + conv_layers[1:-1] + [("tail", 4, 3, 3)]:
    map_t.append((name + ".weight", rng.uniform(-0.05, 0.05, (cout, cin, k, k))))
    map_t.append((name + ".bias", np.zeros(cout)))
for name, cin, cout in [("est0", 48, 4), ("est1", 4, 3)]:
    map_t.append(("estimator." + name + ".weight", rng.uniform(-0.05, 0.05, (cout, cin, 3, 3))))
    map_t.append(("estimator." + name + ".bias", np.full(cout, 0.1)))

files = {}
files["ok-dae"] = pack(*model(dae_t, dae_meta))
files["ok-conv"] = pack(*model(conv_t, conv_meta))
files["ok-conv-estimator"] = pack(*model(map_t, map_meta))

good = files["ok-dae"]
n = struct.unpack("<Q", good[:8])[0]

# --- The 8-byte length and the header's bytes.
files["bad-empty"] = b""
files["bad-3-bytes"] = b"\x10\x00\x00"
files["bad-length-zero"] = struct.pack("<Q", 0) + b"{}"
files["bad-length-one"] = struct.pack("<Q", 1) + b"{"
files["bad-length-2e40"] = struct.pack("<Q", 1 << 40) + b"{}"
files["bad-length-max"] = b"\xff" * 8 + b"{}"
files["bad-length-past-end"] = struct.pack("<Q", n + 64) + good[8:]
files["bad-header-cut"] = good[: 8 + n // 2]
files["bad-not-json"] = pack("this is not json")
files["bad-json-array"] = pack("[1,2,3]")
files["bad-json-string"] = pack('"F32"')
files["bad-not-utf8"] = pack(b'{"a\xff\xfe":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4)
files["bad-nul-padding"] = struct.pack("<Q", 16) + b'{"a":1}' + b"\0" * 9
files["bad-nested-arrays"] = pack('{"a":' + "[" * 100000 + "]" * 100000 + "}")
files["bad-nested-objects"] = pack('{"a":' + '{"b":' * 100000 + "1" + "}" * 100000 + "}")
files["bad-metadata-not-object"] = pack({"__metadata__": ["kind", "dae"]})
files["bad-metadata-number"] = pack({"__metadata__": {"kind": "dae", "width": 28}})
files["bad-entry-not-object"] = pack({"encoder.0.weight": [1, 2]})
files["bad-entry-no-dtype"] = pack({"a": {"shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)
files["bad-entry-no-offsets"] = pack({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4)
# --- Types and shapes.
for dt in ["F16", "BF16", "F64", "I64", "U8", "BOOL"]:
    files[f"bad-dtype-{dt.lower()}"] = pack({"a": {"dtype": dt, "shape": [2], "data_offsets": [0, 16]}}, b"\0" * 16)
files["bad-shape-negative"] = pack({"a": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}}, b"\0" * 16)
files["bad-shape-fraction"] = pack({"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 10]}}, b"\0" * 16)
files["bad-shape-string"] = pack({"a": {"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]}}, b"\0" * 16)
files["bad-shape-2e31-squared"] = pack({"a": {"dtype": "F32", "shape": [2147483647, 2147483647], "data_offsets": [0, 0]}})
files["bad-shape-2e62"] = pack({"a": {"dtype": "F32", "shape": [1 << 30, 1 << 30, 1 << 2], "data_offsets": [0, 0]}})
files["bad-shape-huge-number"] = pack('{"a":{"dtype":"F32","shape":[1e300],"data_offsets":[0,0]}}')
files["bad-shape-too-many-dims"] = pack({"a": {"dtype": "F32", "shape": [1] * 64, "data_offsets": [0, 4]}}, b"\0" * 4)
# --- Offsets.
files["bad-offsets-reversed"] = pack({"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}, b"\0" * 8)
files["bad-offsets-past-end"] = pack({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8)
files["bad-offsets-negative"] = pack({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}, b"\0" * 8)
files["bad-offsets-huge"] = pack({"a": {"dtype": "F32", "shape": [1], "data_offsets": [(1 << 62), (1 << 62) + 4]}}, b"\0" * 8)
files["bad-offsets-unaligned"] = pack({"a": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, b"\0" * 8)
files["bad-offsets-overlap"] = pack({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 16)
files["bad-offsets-size-mismatch"] = pack({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 16)
files["bad-data-cut"] = good[: len(good) - 1000]
# --- Values and names in an otherwise good model.
def dae_with(transform):
    t = [(k, np.array(v, dtype=np.float64)) for k, v in dae_t]
    t = transform(t)
    return pack(*model(t, dae_meta))
def set_value(name, index, value):
    def f(t):
        for k, v in t:
            if k == name:
                v.flat[index] = value
        return t
    return f
files["bad-nan-weight"] = dae_with(set_value("decoder.1.weight", 100, np.nan))
files["bad-inf-bias"] = dae_with(set_value("encoder.0.bias", 3, np.inf))
files["bad-missing-tensor"] = dae_with(lambda t: [x for x in t if x[0] != "decoder.0.bias"])
files["bad-extra-tensor"] = dae_with(lambda t: t + [("extra.weight", np.zeros(3))])
files["bad-renamed-tensor"] = dae_with(lambda t: [(("enc.0.weight" if k == "encoder.0.weight" else k), v) for k, v in t])
files["bad-transposed-tensor"] = dae_with(lambda t: [((k, v.T) if k == "encoder.0.weight" else (k, v)) for k, v in t])
files["bad-no-tensors"] = pack({"__metadata__": dae_meta})
# --- Metadata.
def dae_meta_with(**kw):
    m = dict(dae_meta)
    for k, v in kw.items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    return pack(*model(dae_t, m))
files["bad-kind-unknown"] = dae_meta_with(kind="gan")
files["bad-format-version"] = dae_meta_with(format_version="99")
files["bad-width-zero"] = dae_meta_with(width="0")
files["bad-width-text"] = dae_meta_with(width="wide")
files["bad-width-negative"] = dae_meta_with(width="-28")
files["bad-channels-two"] = dae_meta_with(channels="2")
files["bad-hidden-text"] = dae_meta_with(hidden="4,x")
files["bad-latent-huge"] = dae_meta_with(latent="99999999999999999999")
files["bad-no-width"] = dae_meta_with(width=None)
files["bad-size-mismatch"] = dae_meta_with(hidden="8")
files["bad-activation"] = dae_meta_with(activation="swish9")
files["bad-meta-4tb"] = pack({"__metadata__": {"kind": "ae", "width": "4096", "height": "4096", "channels": "1", "hidden": "65536", "latent": "1"}})
files["bad-meta-8x16384"] = pack({"__metadata__": {"kind": "vae", "width": "28", "height": "28", "channels": "1",
                                                   "hidden": ",".join(["16384"] * 8), "latent": "8"}})
files["bad-conv-huge"] = pack({"__metadata__": {"kind": "conv-dae", "channels": "3", "widths": "1024,1024,1024", "blocks": "16"}})
def conv_meta_with(**kw):
    m = dict(conv_meta)
    m.update(kw)
    return pack(*model(conv_t, m))
files["bad-conv-channels"] = conv_meta_with(channels="7")
files["bad-conv-widths-two"] = conv_meta_with(widths="4,4")
files["bad-conv-widths-zero"] = conv_meta_with(widths="0,4,4")
files["bad-conv-blocks"] = conv_meta_with(blocks="99")
files["bad-conv-noise-input"] = conv_meta_with(noise_input="bogus")
files["bad-conv-blocks-no-tensors"] = conv_meta_with(blocks="2")
files["bad-conv-data-cut"] = files["ok-conv"][:-200]
files["bad-estimator-no-tensors"] = pack(*model([t for t in map_t if not t[0].startswith("estimator.")], map_meta))
files["bad-estimator-on-grey"] = pack(*model(conv_t, dict(conv_meta, estimator="4,1")))
files["bad-estimator-shape"] = pack(*model(map_t, dict(map_meta, estimator="5,1")))
files["bad-estimator-text"] = pack(*model(map_t, dict(map_meta, estimator="wide")))
files["bad-pytorch-zero-shapes"] = pack({"fc1.weight": {"dtype": "F32", "shape": [65536, 0], "data_offsets": [0, 0]},
                                         "fc21.weight": {"dtype": "F32", "shape": [5, 0], "data_offsets": [0, 0]}})

for name in list(os.listdir(out)):
    if name.endswith(".safetensors"):
        os.remove(os.path.join(out, name))
for name, data in sorted(files.items()):
    with open(os.path.join(out, name + ".safetensors"), "wb") as f:
        f.write(data)
print(f"wrote {len(files)} files to {out}")
