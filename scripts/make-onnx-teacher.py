#!/usr/bin/python3
"""Trains a small CNN on a Fashion-MNIST subset with PyTorch and exports it to ONNX, as a teacher made
outside Java for distill's tests. Writes, next to each other:

  fashion-cnn.onnx         the model: input "image" [N, 1, 28, 28] float (pixels / 255), output "logits" [N, 10]
  fashion-cnn-logits.csv   PyTorch's logits for the first 64 test images (one row of 10 per image)

Run with Debian's interpreter, which sees Debian's python3-torch (apt-get install python3-torch):
  /usr/bin/python3 scripts/make-onnx-teacher.py teacher/src/test/resources/onnx
Deterministic: fixed seeds, one thread.
"""
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(data, dtype=np.uint8, offset=8)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def main(out_dir):
    torch.manual_seed(7)
    np.random.seed(7)
    torch.set_num_threads(1)
    x = idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))[:12000].astype(np.float32) / 255.0
    y = idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz"))[:12000].astype(np.int64)
    test = idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    test_y = idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    xt = torch.from_numpy(x).unsqueeze(1)
    yt = torch.from_numpy(y)
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(4):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idxs = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(xt[idxs]), yt[idxs])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(test).unsqueeze(1))
        accuracy = (logits.argmax(1).numpy() == test_y).mean()
    print("test accuracy %.4f" % accuracy)
    os.makedirs(out_dir, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), os.path.join(out_dir, "fashion-cnn.onnx"),
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    with open(os.path.join(out_dir, "fashion-cnn-logits.csv"), "w") as f:
        for row in logits[:64].numpy():
            f.write(",".join("%.7g" % v for v in row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
