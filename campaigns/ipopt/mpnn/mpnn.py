"""Ferry shell function: a message-passing neural network for the ipopt campaign's IPs.

Run as ``python -c <this source> train`` or ``... infer`` (campaigns/ipopt/mpnn/source.ts):
reads ``{"args": ...}`` JSON on stdin, prints one JSON result on stdout, the Ferry
shell-function contract (endpoint-agent/shell-runner.ts). Molecules arrive as graphs built by
campaigns/ipopt/mpnn/graph.ts, so the host needs only Python and PyTorch (1.13 or 2.x).

train: {graphs, ip, options} -> model (kind "mpnn", weights as base64 float32, no pickle)
infer: {model, graphs} -> {mean, std, device, inferSeconds}, one mean and std per molecule

Bad arguments print one line on stderr and exit with status 2.

size: one file of about 400 lines on purpose. It travels inside the shell function's argv
(``python -c``), so the GPU host needs no checkout; split files would need a packager there.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import sys
import time
from typing import Any, Dict, List, Tuple

import torch
from torch import nn

GRAPH_FORMAT = "ferry-mpnn-graphs/1"
MODEL_KIND = "mpnn"
MODEL_VERSION = 1
# What a Ferry shell function may print (endpoint-agent/shell-runner.ts).
MAX_STDOUT_BYTES = 1_048_576

# The seed's fixed settings (README "The IP-optimization campaign") where they apply; epochs and learning rate
# come from the campaign's --num-epochs and --learning-rate.
DEFAULTS: Dict[str, Any] = {
    "epochs": 128,
    "learningRate": 1e-3,
    "batchSize": 32,
    "hidden": 64,
    "steps": 3,
    "seed": 0,
    "validationFraction": 0.1,
    "patience": None,  # epochs / 8, as the seed's early stopping
    "threads": None,  # torch's default unless set
    "device": "auto",
    "inferBatchSize": 1024,
}


class InputError(Exception):
    """Task arguments this function cannot use."""


# --------------------------------------------------------------------------- graphs


class Graphs:
    """Many molecules as flat tensors: atom codes, directed edges, and which graph each is in."""

    def __init__(self, batch: Any, device: torch.device) -> None:
        if not isinstance(batch, dict) or batch.get("format") != GRAPH_FORMAT:
            raise InputError(f"graphs must be a {GRAPH_FORMAT} batch (see mpnn/graph.ts)")
        fields = batch.get("atomFields")
        bond_types = batch.get("bondTypes")
        graphs = batch.get("graphs")
        if not all(isinstance(v, list) for v in (fields, bond_types, graphs)):
            raise InputError("graphs needs atomFields, bondTypes and graphs arrays")
        self.atom_fields: List[Dict[str, Any]] = [
            {"name": str(f["name"]), "size": int(f["size"])} for f in fields
        ]
        self.bond_types: List[str] = [str(b) for b in bond_types]
        width = len(self.atom_fields)
        codes: List[int] = []
        node_graph: List[int] = []
        src: List[int] = []
        dst: List[int] = []
        edge_type: List[int] = []
        offset = 0
        for g, graph in enumerate(graphs):
            atoms = graph.get("atoms") if isinstance(graph, dict) else None
            bonds = graph.get("bonds") if isinstance(graph, dict) else None
            if (not isinstance(atoms, list) or not isinstance(bonds, list)
                    or len(atoms) % width or len(bonds) % 3):
                raise InputError(f"graph {g}: atoms need {width} codes per atom, bonds 3 per bond")
            n = len(atoms) // width
            if n == 0:
                raise InputError(f"graph {g} has no atoms")
            codes.extend(atoms)
            node_graph.extend([g] * n)
            for k in range(0, len(bonds), 3):
                i, j, t = bonds[k], bonds[k + 1], bonds[k + 2]
                if not (0 <= i < n and 0 <= j < n and 0 <= t < len(self.bond_types)):
                    raise InputError(f"graph {g}: bad bond {[i, j, t]}")
                # Both directions: messages flow along every bond each way.
                src.extend((offset + i, offset + j))
                dst.extend((offset + j, offset + i))
                edge_type.extend((t, t))
            offset += n
        self.count = len(graphs)
        self.x = torch.tensor(codes, dtype=torch.long).reshape(-1, width)
        for f, field in enumerate(self.atom_fields):
            column = self.x[:, f]
            if column.numel() and (int(column.min()) < 0 or int(column.max()) >= field["size"]):
                raise InputError(
                    f"atom field {field['name']} has codes outside 0..{field['size'] - 1}")
        self.x = self.x.to(device)
        self.node_graph = torch.tensor(node_graph, dtype=torch.long, device=device)
        self.src = torch.tensor(src, dtype=torch.long, device=device)
        self.dst = torch.tensor(dst, dtype=torch.long, device=device)
        self.edge_type = torch.tensor(edge_type, dtype=torch.long, device=device)
        self.edge_graph = self.node_graph[self.src] if len(src) else self.src

    def select(self, ids: torch.Tensor) -> "Batch":
        """The graphs `ids` (in that order) as one disjoint graph, without a Python loop."""
        device = self.x.device
        chosen = torch.zeros(self.count, dtype=torch.bool, device=device)
        chosen[ids] = True
        node_mask = chosen[self.node_graph]
        edge_mask = chosen[self.edge_graph]
        new_node = torch.cumsum(node_mask.long(), 0) - 1
        new_graph = torch.full((self.count,), -1, dtype=torch.long, device=device)
        new_graph[ids] = torch.arange(len(ids), device=device)
        return Batch(
            x=self.x[node_mask],
            src=new_node[self.src[edge_mask]],
            dst=new_node[self.dst[edge_mask]],
            edge_type=self.edge_type[edge_mask],
            node_graph=new_graph[self.node_graph[node_mask]],
            count=len(ids),
        )


class Batch:
    """A disjoint union of molecules, ready for the network."""

    def __init__(self, x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                 edge_type: torch.Tensor, node_graph: torch.Tensor, count: int) -> None:
        self.x = x
        self.src = src
        self.dst = dst
        self.edge_type = edge_type
        self.node_graph = node_graph
        self.count = count


# --------------------------------------------------------------------------- network


class MPNN(nn.Module):
    """Gilmer-style MPNN: embedded atoms, `steps` rounds of edge-conditioned messages summed into
    a GRU update (weights shared across rounds), then mean and sum over atoms -> one number."""

    def __init__(self, atom_sizes: List[int], bond_types: int, hidden: int, steps: int) -> None:
        super().__init__()
        self.steps = steps
        # One embedding per field, summed: a linear layer over the one-hot features.
        self.atom_embed = nn.ModuleList([nn.Embedding(size, hidden) for size in atom_sizes])
        self.bond_embed = nn.Embedding(bond_types, hidden)
        self.message = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.update = nn.GRUCell(hidden, hidden)
        self.readout = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))

    def forward(self, b: Batch) -> torch.Tensor:
        h = self.atom_embed[0](b.x[:, 0])
        for f in range(1, len(self.atom_embed)):
            h = h + self.atom_embed[f](b.x[:, f])
        e = self.bond_embed(b.edge_type)
        for _ in range(self.steps):
            m = self.message(torch.cat([h[b.src], e], dim=1))
            incoming = torch.zeros_like(h).index_add_(0, b.dst, m)
            h = self.update(incoming, h)
        total = h.new_zeros(b.count, h.shape[1]).index_add_(0, b.node_graph, h)
        atoms = torch.zeros(b.count, device=h.device, dtype=h.dtype).index_add_(
            0, b.node_graph, torch.ones_like(b.node_graph, dtype=h.dtype))
        mean = total / atoms.clamp(min=1).unsqueeze(1)
        return self.readout(torch.cat([mean, total / 10.0], dim=1)).squeeze(1)


# --------------------------------------------------------------------------- weights as JSON


def encode_weights(model: nn.Module) -> Dict[str, Any]:
    """state_dict as {name: {shape, data: base64 of little-endian float32}}: plain JSON, no pickle
    to unpickle on the next host, readable by any torch version."""
    out: Dict[str, Any] = {}
    for name, tensor in model.state_dict().items():
        values = tensor.detach().to("cpu", torch.float32).reshape(-1).tolist()
        raw = struct.pack(f"<{len(values)}f", *values)
        out[name] = {"shape": list(tensor.shape), "data": base64.b64encode(raw).decode("ascii")}
    return out


def decode_weights(weights: Any) -> Dict[str, torch.Tensor]:
    if not isinstance(weights, dict):
        raise InputError("model.weights must be an object")
    state: Dict[str, torch.Tensor] = {}
    for name, entry in weights.items():
        raw = base64.b64decode(entry["data"])
        values = struct.unpack(f"<{len(raw) // 4}f", raw)
        state[name] = torch.tensor(values, dtype=torch.float32).reshape(entry["shape"])
    return state


# --------------------------------------------------------------------------- entry points


def pick_device(choice: str) -> Tuple[torch.device, str]:
    """The GPU the agent pinned (CUDA_VISIBLE_DEVICES makes it cuda:0), else the CPU."""
    if choice not in ("auto", "cpu", "cuda"):
        raise InputError(f"options.device must be auto, cpu or cuda, not {choice!r}")
    if choice != "cpu" and torch.cuda.is_available():
        return torch.device("cuda:0"), f"cuda:0 ({torch.cuda.get_device_name(0)})"
    if choice == "cuda":
        raise InputError("options.device is cuda but torch sees no GPU")
    return torch.device("cpu"), "cpu"


def options_of(raw: Any) -> Dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError("options must be an object")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    merged = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    for key in ("epochs", "batchSize", "hidden", "steps", "inferBatchSize"):
        if not isinstance(merged[key], int) or merged[key] < 1:
            raise InputError(f"options.{key} must be a positive integer")
    if not (isinstance(merged["learningRate"], (int, float)) and merged["learningRate"] > 0):
        raise InputError("options.learningRate must be positive")
    if not (isinstance(merged["validationFraction"], (int, float))
            and 0 <= merged["validationFraction"] < 1):
        raise InputError("options.validationFraction must be in [0, 1)")
    if merged["threads"] is not None:
        torch.set_num_threads(int(merged["threads"]))
    return merged


def train(args: Dict[str, Any]) -> Dict[str, Any]:
    started = time.perf_counter()
    o = options_of(args.get("options"))
    device, device_name = pick_device(o["device"])
    torch.manual_seed(int(o["seed"]))
    graphs = Graphs(args.get("graphs"), device)
    ip = args.get("ip")
    if not isinstance(ip, list) or len(ip) != graphs.count:
        raise InputError(f"ip must be a list of {graphs.count} numbers, one per graph")
    if graphs.count < 2:
        raise InputError("training needs at least 2 molecules")
    y = torch.tensor([float(v) for v in ip], dtype=torch.float32)
    if not bool(torch.isfinite(y).all()):
        raise InputError("ip holds a value that is not a finite number")
    y_mean, y_std = float(y.mean()), float(y.std())
    y_std = y_std if y_std > 1e-6 else 1.0  # all IPs equal: predict the mean
    y_norm = ((y - y_mean) / y_std).to(device)

    generator = torch.Generator().manual_seed(int(o["seed"]))
    order = torch.randperm(graphs.count, generator=generator)
    n_valid = int(round(graphs.count * float(o["validationFraction"]))) if graphs.count >= 10 else 0
    valid_ids, train_ids = order[:n_valid].to(device), order[n_valid:]
    patience = int(o["patience"]) if o["patience"] is not None else max(1, o["epochs"] // 8)

    sizes = [f["size"] for f in graphs.atom_fields]
    model = MPNN(sizes, len(graphs.bond_types), o["hidden"], o["steps"]).to(device)
    # base64 of float32: 16/3 bytes a weight. Refuse before training, not after.
    weight_bytes = sum(p.numel() for p in model.state_dict().values()) * 16 // 3
    if weight_bytes > MAX_STDOUT_BYTES * 0.95:
        raise InputError(f"options.hidden {o['hidden']} makes a model of about {weight_bytes} bytes,"
                         " over the 1 MiB a shell function may print: use 120 or less")
    optimiser = torch.optim.Adam(model.parameters(), lr=float(o["learningRate"]))
    valid_batch = graphs.select(valid_ids) if n_valid else None
    best = (math.inf, snapshot(model), 0)
    epochs_run = 0
    for epoch in range(o["epochs"]):
        model.train()
        shuffled = train_ids[torch.randperm(len(train_ids), generator=generator)].to(device)
        for start in range(0, len(shuffled), o["batchSize"]):
            ids = shuffled[start:start + o["batchSize"]]
            loss = torch.nn.functional.mse_loss(model(graphs.select(ids)), y_norm[ids])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        epochs_run = epoch + 1
        if valid_batch is None:
            continue
        model.eval()
        with torch.no_grad():
            mae = float((model(valid_batch) - y_norm[valid_ids]).abs().mean()) * y_std
        if mae < best[0]:
            best = (mae, snapshot(model), epoch)
        elif epoch - best[2] >= patience:
            break
    if valid_batch is not None:
        model.load_state_dict(best[1])
    if not all(bool(torch.isfinite(t).all()) for t in model.state_dict().values()):
        raise RuntimeError("training diverged (non-finite weights): lower options.learningRate")
    weights = encode_weights(model)
    seconds = time.perf_counter() - started
    return {
        "kind": MODEL_KIND,
        "version": MODEL_VERSION,
        "config": {
            "atomFields": graphs.atom_fields,
            "bondTypes": graphs.bond_types,
            "hidden": o["hidden"],
            "steps": o["steps"],
        },
        "normalisation": {"mean": y_mean, "std": y_std},
        "weights": weights,
        "device": device_name,
        "trainSeconds": round(seconds, 3),
        "training": {
            "molecules": graphs.count,
            "validationMolecules": n_valid,
            "epochs": o["epochs"],
            "epochsRun": epochs_run,
            "bestEpoch": best[2] + 1 if valid_batch is not None else epochs_run,
            "validationMaeEv": None if valid_batch is None else round(best[0], 5),
            "learningRate": o["learningRate"],
            "batchSize": o["batchSize"],
            "seed": o["seed"],
            "torch": torch.__version__,
        },
    }


def snapshot(model: nn.Module) -> Dict[str, torch.Tensor]:
    """A detached copy of the weights (the best epoch's, for early stopping)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def infer(args: Dict[str, Any]) -> Dict[str, Any]:
    started = time.perf_counter()
    model_json = args.get("model")
    if not isinstance(model_json, dict) or model_json.get("kind") != MODEL_KIND:
        raise InputError(f"model must be a {MODEL_KIND} model from the mpnn train function")
    if model_json.get("version") != MODEL_VERSION:
        raise InputError(f"model version {model_json.get('version')} is not {MODEL_VERSION}")
    o = options_of(args.get("options"))
    device, device_name = pick_device(o["device"])
    config = model_json["config"]
    graphs = Graphs(args.get("graphs"), device)
    if graphs.atom_fields != config["atomFields"] or graphs.bond_types != config["bondTypes"]:
        raise InputError("the graphs' feature layout differs from the model's: rebuild one of them")
    sizes = [f["size"] for f in config["atomFields"]]
    model = MPNN(sizes, len(config["bondTypes"]), int(config["hidden"]), int(config["steps"]))
    model.load_state_dict(decode_weights(model_json["weights"]))
    model.to(device).eval()
    y_mean = float(model_json["normalisation"]["mean"])
    y_std = float(model_json["normalisation"]["std"])
    means: List[float] = []
    with torch.no_grad():
        for start in range(0, graphs.count, o["inferBatchSize"]):
            ids = torch.arange(start, min(start + o["inferBatchSize"], graphs.count), device=device)
            means.extend((model(graphs.select(ids)) * y_std + y_mean).tolist())
    if not all(math.isfinite(v) for v in means):
        raise RuntimeError("the model predicted a non-finite IP")
    return {
        # 0.1 meV is far below the model's error, and keeps 50,000 molecules under 1 MiB.
        "mean": [round(v, 4) for v in means],
        # One network has no predictive variance (a GP member has its posterior std); the
        # campaign's spread is the disagreement between members (run/ranking.ts combine).
        "std": [0] * len(means),
        "device": device_name,
        "inferSeconds": round(time.perf_counter() - started, 3),
    }


def main(argv: List[str]) -> int:
    entry = argv[1] if len(argv) > 1 else ""
    if entry not in ("train", "infer"):
        print(f"mpnn: usage: python -c <mpnn.py> train|infer (got {entry!r})", file=sys.stderr)
        return 2
    try:
        message = json.load(sys.stdin)
        args = message.get("args") if isinstance(message, dict) else None
        if not isinstance(args, dict):
            raise InputError('stdin must be {"args": {...}}')
        result = train(args) if entry == "train" else infer(args)
    except (InputError, KeyError, TypeError, ValueError) as error:
        kind = "" if isinstance(error, InputError) else f"{type(error).__name__}: "
        print(f"mpnn {entry}: bad arguments: {kind}{error}", file=sys.stderr)
        return 2
    text = json.dumps(result, separators=(",", ":"))
    if len(text) >= MAX_STDOUT_BYTES:
        fix = "lower options.hidden" if entry == "train" else "send fewer molecules per task"
        print(f"mpnn {entry}: the result is {len(text)} bytes, over the 1 MiB a shell function"
              f" may print: {fix}", file=sys.stderr)
        return 3
    sys.stdout.write(text)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
