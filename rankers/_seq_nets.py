"""Torch networks of the sequential recommender: SASRec (causal self-attention) and GRU4Rec.

Both read right-padded item-index sequences (0 = padding, items 1..n) and return one hidden vector per
position; an item's score at a position is the dot product of that vector with the item's input
embedding (input and output embeddings are shared).  Imported only where torch is wanted.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GRU4RecNet", "SASRecNet", "SequenceNet", "build_network"]


class SequenceNet(nn.Module):
    """The contract of a sequence encoder: hidden states per position, item scores from them."""

    item_emb: nn.Embedding

    def __init__(self, n_items: int, dim: int) -> None:
        super().__init__()
        self.n_items = n_items
        self.dim = dim
        self.item_emb = nn.Embedding(n_items + 1, dim, padding_idx=0)

    def encode(self, items: Tensor, lengths: Tensor) -> Tensor:
        """``items`` [B, T] right-padded, ``lengths`` [B] → hidden states [B, T, dim]."""
        raise NotImplementedError

    def last_hidden(self, items: Tensor, lengths: Tensor) -> Tensor:
        """The hidden state after each sequence's last real item, [B, dim]."""
        hidden = self.encode(items, lengths)
        index = (lengths - 1).clamp(min=0)
        last: Tensor = hidden[torch.arange(items.shape[0]), index]
        return last

    def item_weights(self) -> Tensor:
        """Output embeddings of items 1..n, [n_items, dim] (row i is item index i + 1)."""
        return self.item_emb.weight[1:]

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()


class _CausalBlock(nn.Module):
    """Pre-LayerNorm transformer block with causal multi-head self-attention."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.ln_attn = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln_ff = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).split(d, dim=-1)
        shape = (b, t, self.heads, d // self.heads)
        q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
        attended = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        x = x + self.drop(self.proj(attended.transpose(1, 2).reshape(b, t, d)))
        out: Tensor = x + self.drop(self.ff(self.ln_ff(x)))
        return out


class SASRecNet(SequenceNet):
    """SASRec: item + position embeddings, causal transformer blocks, final LayerNorm.

    Sequences are right-padded and positions count from the first item (as RecBole's SASRec), so the
    state after item t is computed exactly as at inference on a t-item history (the left-padded original
    gives a prefix different positions in training and at inference).  Right padding needs no key mask:
    a causal position never attends to the pads after it.
    """

    def __init__(self, n_items: int, dim: int, layers: int, heads: int, dropout: float, max_len: int) -> None:
        super().__init__(n_items, dim)
        self.max_len = max_len
        self.pos_emb = nn.Embedding(max_len, dim)
        self.emb_drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_CausalBlock(dim, heads, dropout) for _ in range(layers))
        self.ln_out = nn.LayerNorm(dim)
        self._init_weights()

    def encode(self, items: Tensor, lengths: Tensor) -> Tensor:
        positions = torch.arange(items.shape[1], device=items.device).clamp(max=self.max_len - 1)
        x = self.item_emb(items) * math.sqrt(self.dim) + self.pos_emb(positions)[None]
        x = self.emb_drop(x) * (items > 0).unsqueeze(-1)
        for block in self.blocks:
            x = block(x)
        out: Tensor = self.ln_out(x)
        return out


class GRU4RecNet(SequenceNet):
    """GRU4Rec: item embeddings through a GRU; a linear map back to the embedding space."""

    def __init__(self, n_items: int, dim: int, layers: int, dropout: float) -> None:
        super().__init__(n_items, dim)
        self.emb_drop = nn.Dropout(dropout)
        self.gru = nn.GRU(
            dim, dim, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.out_drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, dim)
        self._init_weights()

    def encode(self, items: Tensor, lengths: Tensor) -> Tensor:
        x = self.emb_drop(self.item_emb(items))
        hidden, _ = self.gru(x)
        out: Tensor = self.out(self.out_drop(hidden))
        return out


def build_network(
    model: str, *, n_items: int, dim: int, layers: int, heads: int, dropout: float, max_len: int
) -> SequenceNet:
    if model == "sasrec":
        return SASRecNet(n_items, dim, layers, heads, dropout, max_len)
    if model == "gru4rec":
        return GRU4RecNet(n_items, dim, layers, dropout)
    raise ValueError(f"unknown model {model!r}; choose sasrec or gru4rec")
