"""Built-in models: the paper's feed-forward DNN and CNN (section III, Table II)."""
from __future__ import annotations

from torch import nn

_ACTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": lambda: nn.GELU(approximate="tanh"), "relu": nn.ReLU}


def _activation(name: str) -> nn.Module:
    try:
        return _ACTS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(_ACTS)}") from None


def paper_dnn(width: int = 18, activation: str = "sigmoid", inputs: int = 4, outputs: int = 1,
              hidden_layers: int = 3) -> nn.Sequential:
    """The paper's feed-forward DNN: 4 inputs, 3 hidden layers of ``width`` nodes, 1 output (Banknote)."""
    if width < 1 or hidden_layers < 1:
        raise ValueError("width and hidden_layers must be positive")
    layers: list[nn.Module] = []
    n = inputs
    for _ in range(hidden_layers):
        layers += [nn.Linear(n, width), _activation(activation)]
        n = width
    layers.append(nn.Linear(n, outputs))
    return nn.Sequential(*layers)


def paper_cnn(layers: int = 6, channels: int = 32, kernel: int | None = None, activation: str = "gelu",
              in_channels: int = 3, classes: int = 2, image: int = 256) -> nn.Sequential:
    """The paper's CNN: ``layers`` convolutional layers (2-10) of 32 channels with GELU; kernel 3 for up to
    6 layers, else 4-7 per Table II unless ``kernel`` is given; a global average pool and a linear head.
    The input is ``(N, 3, image, image)``."""
    if layers < 1:
        raise ValueError("layers must be positive")
    if kernel is None:
        kernel = 3 if layers <= 6 else {7: 4, 8: 5, 9: 6}.get(layers, 7)
    mods: list[nn.Module] = []
    c = in_channels
    for _ in range(layers):
        mods += [nn.Conv2d(c, channels, kernel), _activation(activation)]
        c = channels
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*mods)


BUILTINS = {"paper-dnn": paper_dnn, "paper-cnn": paper_cnn}
