"""Training throughput of a network in PyTorch, for `distill bench` (the convolutional training row).

Builds the network the job describes (the same layers as distill's NetworkSpec: "same"-padded convolutions,
depthwise convolutions, pooling with stride = kernel, global average pooling, dense layers, batch
normalisation with its activation, dropout, residual blocks (flattened between a "residual-start" and a
"residual-add" carrying the block's activation), then a linear output), trains it
with Adam on cross-entropy over random inputs of the job's shape (speed does not depend on the values), and
prints one JSON line: {"examples_per_s": ..., "threads": ..., "torch": ...}.

    /usr/bin/python3 torch_train.py --layers '[{"type":"conv","filters":8,"kernel":3}, ...]' \
        --input-shape 1,28,28 --classes 10 --batch 128 --threads 2 --seconds 6

Needs Debian's python3-torch; exits 3 when torch cannot be imported.
"""
import argparse
import json
import sys
import time

try:
    import torch
    from torch import nn
except ImportError as e:  # the bench row says "skipped"
    print(json.dumps({"error": "no torch: %s" % e}))
    sys.exit(3)


class Residual(nn.Module):
    """x + body(x): a residual block, whose layers keep their input's shape."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def build(layers, shape, classes):
    c, h, w = shape if len(shape) == 3 else (shape[0], 1, 1)
    mods, flat = [], len(shape) != 3
    starts = []  # where each open residual block's layers begin in mods
    for l in layers:
        t = l["type"]
        if t == "residual-start":
            starts.append(len(mods))
            continue
        elif t == "residual-add":
            begin = starts.pop()
            body = nn.Sequential(*mods[begin:])
            del mods[begin:]
            mods.append(Residual(body))
        elif t == "conv":
            k, s = l["kernel"], l.get("stride", 1)
            pad = "same" if l.get("padding", "same") == "same" and s == 1 else 0
            if pad == "same":
                mods.append(nn.Conv2d(c, l["filters"], k, stride=1, padding=k // 2))
            else:
                mods.append(nn.Conv2d(c, l["filters"], k, stride=s))
                h, w = (h - k) // s + 1, (w - k) // s + 1
            c = l["filters"]
        elif t == "depthwise":
            k, s = l["kernel"], l.get("stride", 1)
            if l.get("padding", "same") == "same" and s == 1:
                mods.append(nn.Conv2d(c, c, k, stride=1, padding=k // 2, groups=c))
            else:
                mods.append(nn.Conv2d(c, c, k, stride=s, groups=c))
                h, w = (h - k) // s + 1, (w - k) // s + 1
        elif t == "global-pool":
            mods.append(nn.AdaptiveAvgPool2d(1))
            mods.append(nn.Flatten())
            h, w, flat = 1, 1, True
        elif t == "pool":
            k = l["kernel"]
            mods.append(nn.MaxPool2d(k, k, ceil_mode=True) if l.get("kind", "max") == "max"
                        else nn.AvgPool2d(k, k, ceil_mode=True))
            h, w = -(-h // k), -(-w // k)
        elif t == "batch-norm":
            mods.append(nn.BatchNorm2d(c) if not flat else nn.BatchNorm1d(c))
        elif t == "dropout":
            mods.append(nn.Dropout(l.get("rate", l.get("dropout", 0.5))))
            continue
        elif t == "dense":
            if not flat:
                mods.append(nn.Flatten())
                c, flat = c * h * w, True
            mods.append(nn.Linear(c, l["units"]))
            c = l["units"]
        else:
            raise SystemExit("unsupported layer type %s" % t)
        act = l.get("activation", "relu" if t in ("conv", "depthwise", "dense") else "identity")
        if act == "relu":
            mods.append(nn.ReLU())
        elif act == "tanh":
            mods.append(nn.Tanh())
        elif act == "sigmoid":
            mods.append(nn.Sigmoid())
        if l.get("dropout", 0) > 0 and t != "dropout":
            mods.append(nn.Dropout(l["dropout"]))
    if not flat:
        mods.append(nn.Flatten())
        c = c * h * w
    mods.append(nn.Linear(c, classes))
    return nn.Sequential(*mods)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", required=True)
    p.add_argument("--input-shape", required=True)
    p.add_argument("--classes", type=int, required=True)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--seconds", type=float, default=6)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    shape = [int(x) for x in a.input_shape.split(",")]
    net = build(json.loads(a.layers), shape, a.classes)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss = nn.CrossEntropyLoss()
    batches = [(torch.rand(a.batch, *shape), torch.randint(0, a.classes, (a.batch,))) for _ in range(16)]

    def step(i):
        x, y = batches[i % len(batches)]
        opt.zero_grad()
        loss(net(x), y).backward()
        opt.step()

    for i in range(20):  # warm-up
        step(i)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        step(n)
        n += 1
    rate = n * a.batch / (time.perf_counter() - t0)
    # Counted as DL4J counts them: batch normalisation's running mean and variance are parameters there.
    stats = sum(m.running_mean.numel() + m.running_var.numel() for m in net.modules()
                if isinstance(m, nn.modules.batchnorm._BatchNorm))
    print(json.dumps({"examples_per_s": rate, "threads": a.threads, "torch": torch.__version__,
                      "parameters": sum(q.numel() for q in net.parameters()) + stats}))


if __name__ == "__main__":
    main()
