"""``shopassist train …``: each capability adds its command here."""

from __future__ import annotations

import typer

from api.cli import nlu as _nlu
from api.cli import recommender as _rec
from api.cli import reranker as _reranker

app = typer.Typer(no_args_is_help=True)
app.command("nlu")(_nlu.train_nlu)
app.command("recommender")(_rec.train_recommender)
app.command("reranker")(_reranker.train_reranker)
