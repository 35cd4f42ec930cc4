"""Reading and writing safetensors files for latent's scripts (no safetensors package needed):
the header, the metadata and each tensor's raw bytes, written back atomically in name order."""
import json, os, struct


def read(path):
    """(metadata, {name: (dtype, shape, bytes)})."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}
    return meta, tensors


def read_model(path):
    """(metadata, tensors) as `read`, without a checkpoint's optimiser state (optim.* tensors)
    and keys (adam_t, checkpoint_epoch): a checkpoint read as the model it holds."""
    meta, tensors = read(path)
    for k in ("adam_t", "checkpoint_epoch"):
        meta.pop(k, None)
    return meta, {k: v for k, v in tensors.items() if not k.startswith("optim.")}


def write(path, meta, tensors):
    """Writes `tensors` ({name: (dtype, shape, bytes)}) in name order; returns the data bytes."""
    header, blobs, off = {"__metadata__": meta}, [], 0
    for k in sorted(tensors):
        dtype, shape, blob = tensors[k]
        header[k] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)
    return off
