"""``shopassist train …``: each capability adds its command here."""

from __future__ import annotations

import typer

from api.cli import behaviour as _behaviour
from api.cli import nlu as _nlu
from api.cli import pricing as _pricing
from api.cli import recommender as _rec
from api.cli import reranker as _reranker
from api.cli import vision as _vision

app = typer.Typer(no_args_is_help=True)
app.command("nlu")(_nlu.train_nlu)
app.command("recommender")(_rec.train_recommender)
app.command("reranker")(_reranker.train_reranker)
app.command("pricing")(_pricing.train_pricing)
app.command("vision")(_vision.train_vision)
app.command("abandonment")(_behaviour.train_abandonment)
