"""Ferry shell function: a message-passing neural network for the ipopt campaign's IPs.

Run as ``python -c <this source> train`` or ``... infer`` (campaigns/ipopt/mpnn/source.ts):
reads ``{"args": ...}`` JSON on stdin, prints one JSON result on stdout, the Ferry
shell-function contract (endpoint-agent/shell-runner.ts). Molecules arrive as graphs built by
campaigns/ipopt/mpnn/graph.ts, so the host needs only Python and PyTorch (1.13 or 2.x).

train: {graphs, ip, options, initModel?} -> model (kind "mpnn", weights as base64 float16, no
    pickle); initModel (a model from train) is fine-tuned, or with options.fromScratch only its
    architecture is kept
infer: {model, graphs} -> {mean, std, device, inferSeconds}, one mean and std per molecule

Bad arguments print one line on stderr and exit with status 2.

The model comes back on stdout, which a shell function may fill to 1 MiB only (the agent has no
file outputs for shell functions); the agent stores a result that large and the campaign reads
it from the store. float16 weights keep the seed's network (hidden 32) at about 0.85 MB.

size: one file of about 580 lines on purpose. It travels inside the shell function's argv
(``python -c``), so the GPU host needs no checkout; split files would need a packager there.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import sys
import time
import warnings
from typing import Any, Dict, List, Tuple

import torch
from torch import nn

# segment_softmax's scatter_reduce is "beta" in torch 1.13 and says so on every call.
warnings.filterwarnings("ignore", message="scatter_reduce")

GRAPH_FORMAT = "ferry-mpnn-graphs/1"
MODEL_KIND = "mpnn"
# 2: the seed's architecture (edge, node and global updates; per-atom readout and scale).
MODEL_VERSION = 2
# What a Ferry shell function may print (endpoint-agent/shell-runner.ts).
MAX_STDOUT_BYTES = 1_048_576

# The seed's settings (README "GPU endpoints (MPNN)"; moldesign's nfp model and retrain_mpnn) where
# they apply. hidden 32 is the seed's --atom-features default: at 64 the weights (about 0.7 M)
# would not fit the 1 MiB a shell function may print, even as float16.
DEFAULTS: Dict[str, Any] = {
    "epochs": 512,
    "learningRate": 1e-3,
    # The learning rate decays geometrically to learningRate * this by the last epoch.
    "learningRateDecay": 1e-3,
    "batchSize": 32,
    "hidden": 32,
    "steps": 8,
    "globalUnits": 4,
    "globalHeads": 1,
    "outputLayers": [512, 256, 128],
    "readout": "sum",
    "atomwise": True,
    "seed": 0,
    "validationFraction": 0.1,
    # Share of the molecules this member trains on (1: all, as the seed's members do).
    "subsample": 1.0,
    # With initModel: keep only its architecture and start from fresh weights.
    "fromScratch": False,
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
        # Which graph each directed edge is in, for the global state's attention.
        self.edge_graph = node_graph[src] if len(src) else src
        self.count = count


# --------------------------------------------------------------------------- network
# The seed's network (moldesign's nfp model, README "The IP-optimization campaign"), written
# again in PyTorch: atom and bond embeddings and a graph-level state; `steps` rounds that each
# update every bond from its two atoms, every atom from its incoming bonds, and the graph state
# by attention over atoms and bonds, all with residual sums; then a per-atom MLP readout summed
# over the molecule and one linear "scale" unit initialised to the training IPs' std and mean.


def mlp(sizes: List[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: List[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def segment_softmax(score: torch.Tensor, owner: torch.Tensor, count: int) -> torch.Tensor:
    """Softmax of score [elements, heads] over the elements of each graph."""
    index = owner.unsqueeze(1).expand_as(score)
    top = score.new_full((count, score.shape[1]), -math.inf).scatter_reduce(
        0, index, score, reduce="amax", include_self=True)
    weight = torch.exp(score - top[owner])
    total = score.new_zeros(count, score.shape[1]).index_add_(0, owner, weight)
    return weight / total[owner]


class GlobalUpdate(nn.Module):
    """A graph-level state of heads x units: attention over the graph's atoms and bonds,
    queried by the previous graph state (a learned query the first time)."""

    def __init__(self, hidden: int, units: int, heads: int, first: bool) -> None:
        super().__init__()
        self.units, self.heads = units, heads
        self.key = nn.Linear(hidden, units * heads)
        self.value = nn.Linear(hidden, units * heads)
        self.query: nn.Module = (nn.Linear(units * heads, units * heads) if not first
                                 else nn.Embedding(1, units * heads))

    def forward(self, h: torch.Tensor, e: torch.Tensor, g: Any, b: "Batch") -> torch.Tensor:
        elements = torch.cat([h, e], 0)
        owner = torch.cat([b.node_graph, b.edge_graph], 0)
        shape = (-1, self.heads, self.units)
        key, value = self.key(elements).view(shape), self.value(elements).view(shape)
        if g is None:
            query = self.query.weight.view(1, self.heads, self.units)
        else:
            query = self.query(g).view(shape)[owner]
        weight = segment_softmax((key * query).sum(-1) / math.sqrt(self.units), owner, b.count)
        out = h.new_zeros(b.count, self.heads, self.units).index_add_(
            0, owner, weight.unsqueeze(-1) * value)
        return out.reshape(b.count, self.heads * self.units)


class EdgeUpdate(nn.Module):
    """A bond's new state from itself, its two atoms and the graph state."""

    def __init__(self, hidden: int, global_size: int) -> None:
        super().__init__()
        self.net = mlp([3 * hidden + global_size, 2 * hidden, hidden])

    def forward(self, h: torch.Tensor, e: torch.Tensor, g: torch.Tensor, b: "Batch") -> torch.Tensor:
        return self.net(torch.cat([e, h[b.src], h[b.dst], g[b.edge_graph]], 1))


class NodeUpdate(nn.Module):
    """An atom's new state: messages from each incoming bond and its source atom, summed,
    then mixed with the graph state."""

    def __init__(self, hidden: int, global_size: int) -> None:
        super().__init__()
        self.message = mlp([2 * hidden, 2 * hidden, hidden])
        self.update = nn.Linear(hidden + global_size, hidden)

    def forward(self, h: torch.Tensor, e: torch.Tensor, g: torch.Tensor, b: "Batch") -> torch.Tensor:
        m = self.message(torch.cat([h[b.src], e], 1))
        incoming = torch.zeros_like(h).index_add_(0, b.dst, m)
        return self.update(torch.cat([incoming, g[b.node_graph]], 1))


class MPNN(nn.Module):
    def __init__(self, atom_sizes: List[int], bond_types: int, c: Dict[str, Any]) -> None:
        super().__init__()
        hidden, units, heads = c["hidden"], c["globalUnits"], c["globalHeads"]
        g = units * heads
        self.readout_op = c["readout"]
        self.atomwise = c["atomwise"]
        # One embedding per field, summed: a linear layer over the one-hot features.
        self.atom_embed = nn.ModuleList([nn.Embedding(size, hidden) for size in atom_sizes])
        self.bond_embed = nn.Embedding(bond_types, hidden)
        self.global_init = GlobalUpdate(hidden, units, heads, first=True)
        self.edges = nn.ModuleList([EdgeUpdate(hidden, g) for _ in range(c["steps"])])
        self.nodes = nn.ModuleList([NodeUpdate(hidden, g) for _ in range(c["steps"])])
        self.globals = nn.ModuleList(
            [GlobalUpdate(hidden, units, heads, first=False) for _ in range(c["steps"])])
        self.output = mlp([hidden, *c["outputLayers"], 1])
        self.scale = nn.Linear(1, 1)

    def reduce(self, x: torch.Tensor, b: "Batch") -> torch.Tensor:
        total = x.new_zeros(b.count, x.shape[1]).index_add_(0, b.node_graph, x)
        if self.readout_op == "sum":
            return total
        atoms = x.new_zeros(b.count).index_add_(0, b.node_graph, torch.ones_like(x[:, 0]))
        return total / atoms.clamp(min=1).unsqueeze(1)

    def forward(self, b: "Batch") -> torch.Tensor:
        h = self.atom_embed[0](b.x[:, 0])
        for f in range(1, len(self.atom_embed)):
            h = h + self.atom_embed[f](b.x[:, f])
        e = self.bond_embed(b.edge_type)
        g = self.global_init(h, e, None, b)
        for edge, node, glob in zip(self.edges, self.nodes, self.globals):
            e = e + edge(h, e, g, b)
            h = h + node(h, e, g, b)
            g = g + glob(h, e, g, b)
        # Per atom then summed (the seed's "atomwise"), or summed then the MLP.
        out = self.reduce(self.output(h), b) if self.atomwise else self.output(self.reduce(h, b))
        return self.scale(out).squeeze(1)


# --------------------------------------------------------------------------- weights as JSON


def encode_weights(model: nn.Module) -> Dict[str, Any]:
    """state_dict as {name: {shape, dtype, data: base64 of little-endian values}}: plain JSON,
    no pickle to unpickle on the next host, readable by any torch version. float16 on the wire:
    it halves the model (the seed's size fits the 1 MiB a shell function may print) and its
    rounding (1e-3 relative) is far below the network's error."""
    out: Dict[str, Any] = {}
    for name, tensor in model.state_dict().items():
        values = tensor.detach().to("cpu", torch.float32).reshape(-1).tolist()
        raw = struct.pack(f"<{len(values)}e", *values)
        out[name] = {"shape": list(tensor.shape), "dtype": "float16",
                     "data": base64.b64encode(raw).decode("ascii")}
    return out


def decode_weights(weights: Any) -> Dict[str, torch.Tensor]:
    if not isinstance(weights, dict):
        raise InputError("model.weights must be an object")
    state: Dict[str, torch.Tensor] = {}
    for name, entry in weights.items():
        raw = base64.b64decode(entry["data"])
        code, size = ("e", 2) if entry.get("dtype", "float32") == "float16" else ("f", 4)
        values = struct.unpack(f"<{len(raw) // size}{code}", raw)
        state[name] = torch.tensor(values, dtype=torch.float32).reshape(entry["shape"])
    return state


def wire_bytes(model: nn.Module) -> int:
    """About what encode_weights prints: base64 of 2 bytes a weight."""
    return sum(p.numel() for p in model.state_dict().values()) * 8 // 3


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
    o = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    for key in ("epochs", "batchSize", "hidden", "steps", "inferBatchSize", "globalUnits",
                "globalHeads"):
        if not isinstance(o[key], int) or isinstance(o[key], bool) or o[key] < 1:
            raise InputError(f"options.{key} must be a positive integer")
    layers = o["outputLayers"]
    if not (isinstance(layers, list) and all(isinstance(s, int) and s > 0 for s in layers)):
        raise InputError("options.outputLayers must be a list of positive integers")
    for key, low, high in (("learningRate", 0, math.inf), ("learningRateDecay", 0, 1),
                           ("subsample", 0, 1)):
        if not (isinstance(o[key], (int, float)) and low < o[key] <= high):
            raise InputError(f"options.{key} must be in ({low}, {high}]")
    if not (isinstance(o["validationFraction"], (int, float)) and 0 <= o["validationFraction"] < 1):
        raise InputError("options.validationFraction must be in [0, 1)")
    if o["readout"] not in ("sum", "mean"):
        raise InputError("options.readout must be sum or mean")
    if not isinstance(o["atomwise"], bool) or not isinstance(o["fromScratch"], bool):
        raise InputError("options.atomwise and options.fromScratch must be true or false")
    if o["threads"] is not None:
        torch.set_num_threads(int(o["threads"]))
    return o


ARCHITECTURE = ("hidden", "steps", "globalUnits", "globalHeads", "outputLayers", "readout",
                "atomwise")


def start_model(args: Dict[str, Any], o: Dict[str, Any], graphs: Graphs) -> Tuple[MPNN, str]:
    """A fresh network of options' architecture, or initModel's: its weights (fine-tuning),
    or only its architecture with fresh weights when options.fromScratch."""
    start = args.get("initModel")
    config = {k: o[k] for k in ARCHITECTURE}
    if start is not None:
        check_model(start)
        if start["config"]["atomFields"] != graphs.atom_fields or \
                start["config"]["bondTypes"] != graphs.bond_types:
            raise InputError("initModel's feature layout differs from the graphs': rebuild one")
        config = {k: start["config"][k] for k in ARCHITECTURE}
    sizes = [f["size"] for f in graphs.atom_fields]
    model = MPNN(sizes, len(graphs.bond_types), config)
    if start is not None and not o["fromScratch"]:
        try:
            model.load_state_dict(decode_weights(start["weights"]))
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            raise InputError(f"initModel's weights do not fit its config: {first}") from error
        return model, "fine-tuned"
    return model, "initialised"


def check_model(model_json: Any) -> None:
    if not isinstance(model_json, dict) or model_json.get("kind") != MODEL_KIND:
        raise InputError(f"model must be a {MODEL_KIND} model from the mpnn train function")
    if model_json.get("version") != MODEL_VERSION:
        raise InputError(f"model version {model_json.get('version')} is not {MODEL_VERSION}:"
                         " train it again with this mpnn.py")


def split(count: int, o: Dict[str, Any], generator: torch.Generator) -> Tuple[torch.Tensor, ...]:
    """(training ids, validation ids): the member's seeded subsample, then its seeded
    validation share (as the seed: each member its own split; none under 10 molecules)."""
    order = torch.randperm(count, generator=generator)
    order = order[:max(2, int(round(count * float(o["subsample"]))))]
    n_valid = int(round(len(order) * float(o["validationFraction"]))) if len(order) >= 10 else 0
    return order[n_valid:], order[:n_valid]


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
    model, how = start_model(args, o, graphs)
    if wire_bytes(model) > MAX_STDOUT_BYTES * 0.95:
        raise InputError(f"the network has {wire_bytes(model)} bytes of weights on the wire, over"
                         " the 1 MiB a shell function may print: lower options.hidden or"
                         " options.outputLayers")
    if how == "initialised":
        # The seed's "scale" unit starts at the training IPs' spread and mean.
        std = float(y.std()) if graphs.count > 1 and float(y.std()) > 1e-6 else 1.0
        with torch.no_grad():
            model.scale.weight.fill_(std)
            model.scale.bias.fill_(float(y.mean()))
    model.to(device)
    y = y.to(device)
    generator = torch.Generator().manual_seed(int(o["seed"]))
    train_ids, valid_ids = split(graphs.count, o, generator)
    valid_ids = valid_ids.to(device)
    patience = int(o["patience"]) if o["patience"] is not None else max(1, o["epochs"] // 8)
    optimiser = torch.optim.Adam(model.parameters(), lr=float(o["learningRate"]))
    # The seed's schedule: geometric decay from learningRate to learningRate * decay.
    rate = float(o["learningRateDecay"]) ** (1.0 / max(1, o["epochs"] - 1))
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=rate)
    valid_batch = graphs.select(valid_ids) if len(valid_ids) else None
    best = (math.inf, snapshot(model), 0)
    epochs_run = 0
    history: List[float] = []  # validation MAE per epoch, as the seed's training history
    for epoch in range(o["epochs"]):
        model.train()
        shuffled = train_ids[torch.randperm(len(train_ids), generator=generator)].to(device)
        for start in range(0, len(shuffled), o["batchSize"]):
            ids = shuffled[start:start + o["batchSize"]]
            loss = torch.nn.functional.mse_loss(model(graphs.select(ids)), y[ids])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
        epochs_run = epoch + 1
        if valid_batch is None:
            continue
        model.eval()
        with torch.no_grad():
            mae = float((model(valid_batch) - y[valid_ids]).abs().mean())
        history.append(round(mae, 4))
        if mae < best[0]:
            best = (mae, snapshot(model), epoch)
        elif epoch - best[2] >= patience:
            break
    if valid_batch is not None:
        model.load_state_dict(best[1])
    if not all(bool(torch.isfinite(t).all()) for t in model.state_dict().values()):
        raise RuntimeError("training diverged (non-finite weights): lower options.learningRate")
    return {
        "kind": MODEL_KIND,
        "version": MODEL_VERSION,
        "config": {"atomFields": graphs.atom_fields, "bondTypes": graphs.bond_types,
                   **architecture_of(args, o)},
        "weights": encode_weights(model),
        "device": device_name,
        "trainSeconds": round(time.perf_counter() - started, 3),
        "training": {
            "start": how,
            "molecules": graphs.count,
            "trainingMolecules": len(train_ids),
            "validationMolecules": len(valid_ids),
            "epochs": o["epochs"],
            "epochsRun": epochs_run,
            "bestEpoch": best[2] + 1 if valid_batch is not None else epochs_run,
            "validationMaeEv": None if valid_batch is None else round(best[0], 5),
            "validationMaeHistory": history,
            "learningRate": o["learningRate"],
            "learningRateDecay": o["learningRateDecay"],
            "batchSize": o["batchSize"],
            "subsample": o["subsample"],
            "seed": o["seed"],
            "torch": torch.__version__,
        },
    }


def architecture_of(args: Dict[str, Any], o: Dict[str, Any]) -> Dict[str, Any]:
    start = args.get("initModel")
    source = start["config"] if isinstance(start, dict) else o
    return {k: source[k] for k in ARCHITECTURE}


def snapshot(model: nn.Module) -> Dict[str, torch.Tensor]:
    """A detached copy of the weights (the best epoch's, for early stopping)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def infer(args: Dict[str, Any]) -> Dict[str, Any]:
    started = time.perf_counter()
    model_json = args.get("model")
    check_model(model_json)
    o = options_of(args.get("options"))
    device, device_name = pick_device(o["device"])
    config = model_json["config"]
    graphs = Graphs(args.get("graphs"), device)
    if graphs.atom_fields != config["atomFields"] or graphs.bond_types != config["bondTypes"]:
        raise InputError("the graphs' feature layout differs from the model's: rebuild one of them")
    sizes = [f["size"] for f in config["atomFields"]]
    model = MPNN(sizes, len(config["bondTypes"]), config)
    model.load_state_dict(decode_weights(model_json["weights"]))
    model.to(device).eval()
    means: List[float] = []
    with torch.no_grad():
        for start in range(0, graphs.count, o["inferBatchSize"]):
            ids = torch.arange(start, min(start + o["inferBatchSize"], graphs.count), device=device)
            means.extend(model(graphs.select(ids)).tolist())
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
        fix = "lower options.hidden or options.outputLayers" if entry == "train" else "send fewer molecules per task"
        print(f"mpnn {entry}: the result is {len(text)} bytes, over the 1 MiB a shell function"
              f" may print: {fix}", file=sys.stderr)
        return 3
    sys.stdout.write(text)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
