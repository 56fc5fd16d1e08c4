"""Built-in models: the paper's feed-forward DNN and CNN (section III, Table II), and ResNet-18 (He et al. 2016)
written with torch alone, so a real image classifier needs no torchvision."""
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


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + idt)


class ResNet18(nn.Module):
    """ResNet-18 as torchvision builds it (same layers, names, shapes and initialization scheme): a 7x7 stem,
    max pooling, four stages of two basic blocks (64, 128, 256, 512 channels), global average pooling and a
    linear classifier. Input ``(N, 3, H, W)``, 224x224 as trained on ImageNet."""

    def __init__(self, classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        chans, cin = (64, 128, 256, 512), 64
        for i, c in enumerate(chans):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(_BasicBlock(cin, c, stride), _BasicBlock(c, c, 1)))
            cin = c
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(classes: int = 1000) -> ResNet18:
    """ResNet-18 (torch only; see :class:`ResNet18`)."""
    if classes < 1:
        raise ValueError("classes must be positive")
    return ResNet18(classes)


BUILTINS = {"paper-dnn": paper_dnn, "paper-cnn": paper_cnn, "resnet18": resnet18}
