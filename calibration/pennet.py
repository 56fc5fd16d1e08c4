"""The torch module a PEN architecture string describes (:func:`build_model`).

Architectures from torchvision (ResNet, DenseNet, ConvNeXt, VGG, AlexNet) were flattened into the string in module
order, so residual branches and concatenations are not written down. :class:`PENNet` runs the layers in order and
adapts where the string does not chain: a layer expecting C channels takes the most recent earlier tensor with C
channels (a ResNet downsample branch, added back to the main path when its shape matches), else the current tensor
is padded or cut to C channels (DenseNet's concatenation; free of arithmetic). In ConvNeXt-like strings (those with
layer norm) a 7x7 stride-1 convolution with equal in and out channels is depthwise (groups = C), as in torchvision.
Identity residual additions are not in the string and are not counted.

Sequences: ``reshape`` views each sample (channels last, as the string's ``LIST_H_W_C`` reads) as the given shape,
e.g. ``(50176, 3)``: 50,176 time steps of 3 features; a recurrent layer (``nn.GRU``/``nn.LSTM``/``nn.RNN``) runs
over them; a dense layer after a sequence reads its last time step (the usual sequence classifier; the string does
not say).
"""
from __future__ import annotations

from typing import Any

from .errors import CalibrationError
from .pen import LayerSpec

_ACTS = {"relu": "ReLU", "gelu": "GELU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
         "leaky_relu": "LeakyReLU", "elu": "ELU", "silu": "SiLU"}
_CELLS = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}


def _module(spec: LayerSpec, depthwise_ok: bool):
    from torch import nn

    a = spec.args
    k = spec.kind
    if k == "dense":
        return nn.Linear(a["in"], a["out"])
    if k == "conv":
        groups = 1
        if depthwise_ok and a["in"] == a["out"] and a["kernel"] == (7, 7) and a["stride"] == (1, 1):
            groups = a["in"]
        return nn.Conv2d(a["in"], a["out"], a["kernel"], a["stride"], a["padding"], groups=groups)
    if k == "batchnorm":
        return nn.BatchNorm2d(a["channels"], eps=a["eps"], momentum=a["momentum"])
    if k == "layernorm":
        return nn.LayerNorm(a["channels"], eps=a["eps"])
    if k == "maxpool":
        return nn.MaxPool2d(a["kernel"], a["stride"], a["padding"])
    if k == "avgpool":
        return nn.AvgPool2d(a["kernel"], a["stride"], a["padding"])
    if k == "adaptive_avg":
        return nn.AdaptiveAvgPool2d(a["size"])
    if k == "dropout":
        return nn.Dropout(a["p"])
    if k == "act":
        name = _ACTS[a["name"]]
        return nn.Softmax(dim=1) if name == "Softmax" else getattr(nn, name)()
    if k == "recurrent":
        return getattr(nn, _CELLS[a["cell"]])(a["in"], a["hidden"], a["layers"], batch_first=a["batch_first"])
    if k == "reshape":
        return nn.Identity()
    raise CalibrationError(f"no torch module for PEN layer kind {k!r}")


def _channels_needed(spec: LayerSpec) -> int | None:
    if spec.kind in ("conv", "dense", "recurrent"):
        return spec.args["in"]
    if spec.kind in ("batchnorm", "layernorm"):
        return spec.args["channels"]
    return None


def _PENNet():
    import torch
    from torch import nn

    class PENNet(nn.Module):
        """The layers of a PEN model string run in order, adapting where the flattened string does not chain
        (see :mod:`calibration.pennet`)."""

        def __init__(self, specs: list[LayerSpec], input_shape):
            super().__init__()
            self.specs = list(specs)
            self.input_shape = tuple(input_shape)
            depthwise_ok = any(s.kind == "layernorm" for s in specs)
            self.channels_last_mlp = depthwise_ok
            self.layers = nn.ModuleList(_module(s, depthwise_ok) for s in specs)

        def forward(self, x):
            history = [x]
            main = None  # the main path while a residual branch runs
            for spec, layer in zip(self.specs, self.layers):
                need = _channels_needed(spec)
                if spec.kind in ("conv", "dense", "maxpool", "avgpool", "adaptive_avg") and main is not None:
                    if main.shape == x.shape:  # close the residual branch
                        x = main + x
                    main = None
                if spec.kind == "dense":
                    x = self._dense(layer, x, need, history)
                elif spec.kind == "reshape":
                    x = self._reshape(x, spec.args["shape"])
                elif spec.kind == "recurrent":
                    x = self._recurrent(layer, x, need, spec.args["batch_first"])
                elif spec.kind == "layernorm":
                    x = self._fit_channels(x, need, history)
                    x = layer(x.movedim(1, -1)).movedim(-1, 1) if x.dim() == 4 else layer(x)
                elif spec.kind in ("conv", "batchnorm"):
                    if x.dim() == 2 and spec.kind == "batchnorm":
                        x = self._fit_features(x, need)
                        x = nn.functional.batch_norm(x, layer.running_mean, layer.running_var, layer.weight,
                                                     layer.bias, self.training, layer.momentum, layer.eps)
                    else:
                        if x.dim() == 4 and x.shape[1] != need:
                            older = self._find(history, need)
                            if older is not None and spec.kind == "conv":
                                if main is None:
                                    main = x
                                x = older
                            else:
                                x = self._fit_channels(x, need, history)
                        x = layer(x)
                else:
                    x = layer(x)
                history.append(x)
            if main is not None and main.shape == x.shape:
                x = main + x
            return x

        @staticmethod
        def _reshape(x, shape):
            per_sample = 1
            for d in x.shape[1:]:
                per_sample *= d
            want = 1
            for d in shape:
                want *= d
            if want != per_sample:
                raise CalibrationError(f"reshape to {tuple(shape)} needs {want} values per sample, "
                                       f"the layer before gives {per_sample}")
            if x.dim() == 4:
                x = x.movedim(1, -1)  # the string's LIST_H_W_C is channels last
            return x.reshape(x.shape[0], *shape)

        @staticmethod
        def _recurrent(layer, x, n, batch_first):
            if x.dim() != 3 or x.shape[-1] != n:
                raise CalibrationError(f"a recurrent layer of {n} input features needs (batch, steps, {n}) "
                                       f"sequences, got shape {tuple(x.shape)} (a reshape layer makes them)")
            if not batch_first:
                x = x.transpose(0, 1)
            out = layer(x)[0]
            return out if batch_first else out.transpose(0, 1)

        @staticmethod
        def _find(history, c):
            for h in reversed(history[:-1]):
                if h.dim() == 4 and h.shape[1] == c:
                    return h
            return None

        @staticmethod
        def _fit_channels(x, c, history):
            if x.dim() != 4 or x.shape[1] == c:
                return x
            if x.shape[1] > c:
                return x[:, :c]
            pad = x.new_zeros((x.shape[0], c - x.shape[1], *x.shape[2:]))
            return torch.cat([x, pad], dim=1)  # a concatenation: no arithmetic

        @staticmethod
        def _fit_features(x, n):
            if x.shape[1] == n:
                return x
            if x.shape[1] > n:
                return x[:, :n]
            return torch.cat([x, x.new_zeros((x.shape[0], n - x.shape[1]))], dim=1)

        def _dense(self, layer, x, n, history):
            if x.dim() == 4:
                if x.shape[1] == n and x.shape[2] * x.shape[3] > 1:
                    if self.channels_last_mlp:
                        return layer(x.movedim(1, -1)).movedim(-1, 1)  # a channels-last MLP (ConvNeXt)
                    x = nn.functional.adaptive_avg_pool2d(x, 1)  # torchvision's functional pool (DenseNet)
                x = x.flatten(1)
            elif x.dim() == 3 and x.shape[-1] == n:
                x = x[:, -1]  # a sequence: its last time step
            elif x.dim() > 2:
                x = x.flatten(1)
            return layer(self._fit_features(x, n))

    return PENNet


_PENNET = None


def build_model(layers: list[LayerSpec], input_shape, device: Any = "meta"):
    """A :class:`PENNet` built directly on ``device`` (``meta``: no memory however large the model)."""
    import torch

    global _PENNET
    if _PENNET is None:
        _PENNET = _PENNet()
    with torch.device(device):
        return _PENNET(layers, input_shape)


__all__ = ["build_model"]
