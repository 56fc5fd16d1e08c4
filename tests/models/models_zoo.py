"""Small models covering the layer kinds the trace counter must price (used by the zoo tests)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gatesim.models.builtins import paper_cnn, paper_dnn


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.down = None
        if stride != 1 or c_in != c_out:
            self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNetLike(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layer2(self.layer1(self.stem(x)))), 1))


def depthwise_separable():
    def block(c_in, c_out, stride):
        return nn.Sequential(
            nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False), nn.BatchNorm2d(c_in), nn.ReLU6(),
            nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.Hardswish())
    return nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.GroupNorm(2, 8), nn.SiLU(), block(8, 16, 1), block(16, 16, 2),
                         nn.AvgPool2d(4), nn.Flatten(), nn.Dropout(0.2), nn.Linear(16, 4))


class RNNModel(nn.Module):
    def __init__(self, cell="lstm"):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(8, 12, num_layers=2, batch_first=True, dropout=0.1)
        self.head = nn.Linear(12, 50)

    def forward(self, ids):
        out, _ = self.rnn(self.emb(ids))
        return self.head(out)


class Encoder(nn.Module):
    def __init__(self, norm_first=False):
        super().__init__()
        layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation="gelu", batch_first=True,
                                           norm_first=norm_first)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.enc(x).mean(1))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(40, 16)
        self.dec = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.1, batch_first=True)
        self.head = nn.Linear(16, 40)

    def forward(self, ids):
        x = self.emb(ids)
        memory = x.detach() * 0.5
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1], device=ids.device)
        return self.head(self.dec(x, memory, tgt_mask=mask, tgt_is_causal=True))


class SDPABlock(nn.Module):
    def __init__(self, d=16, heads=4):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d), nn.Dropout(0.1))

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (t.view(b, s, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.0)
        x = x + self.proj(y.transpose(1, 2).reshape(b, s, d))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab=64, d=16, heads=4, blocks=2, seq=8):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.drop = nn.Dropout(0.1)
        self.blocks = nn.Sequential(*[SDPABlock(d, heads) for _ in range(blocks)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        return self.head(self.ln(self.blocks(self.drop(self.tok(ids) + self.pos(pos)))))


#: name -> (factory, keyword arguments of count())
ZOO = {
    "paper-dnn": (lambda: paper_dnn(18, "sigmoid"), dict(input_shape=(64, 4))),
    "paper-dnn-gelu": (lambda: paper_dnn(8, "gelu"), dict(input_shape=(64, 4))),
    "paper-cnn": (lambda: paper_cnn(layers=3, channels=8, image=16), dict(input_shape=(2, 3, 16, 16),
                                                                           loss="cross-entropy")),
    "resnet": (ResNetLike, dict(input_shape=(2, 3, 16, 16), loss="cross-entropy")),
    "depthwise": (depthwise_separable, dict(input_shape=(2, 3, 16, 16), loss="cross-entropy")),
    "lstm": (lambda: RNNModel("lstm"), dict(input_shape=(2, 5), loss="cross-entropy")),
    "gru": (lambda: RNNModel("gru"), dict(input_shape=(2, 5), loss="cross-entropy")),
    "encoder": (Encoder, dict(input_shape=(2, 6, 16))),
    "encoder-norm-first": (lambda: Encoder(norm_first=True), dict(input_shape=(2, 6, 16), loss="cross-entropy")),
    "decoder": (Decoder, dict(input_shape=(2, 6), loss="cross-entropy")),
    "gpt-sdpa": (TinyGPT, dict(input_shape=(2, 8), loss="cross-entropy")),
}
