"""``shopassist analytics report``: the staff console's analytics from the command line."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from api.cli._common import fail, runtime

app = typer.Typer(no_args_is_help=True)


def _text(data: dict[str, Any]) -> list[str]:
    s = data["summary"]
    out = [
        f"{data['since'][:16]} → {data['until'][:16]}: {s['sessions']} sessions, {s['turns']} turns, "
        f"{s['orders']} orders",
        "funnel:",
    ]
    for row in data["funnel"]:
        conv = "" if row["conversion"] is None else f"  ({row['conversion']:.0%} of the step before)"
        out.append(f"  {row['step']:<17} {row['sessions']:>6}{conv}")
    rates = {k: s[k] for k in ("nlu_low_confidence_rate", "handoff_rate", "conversion")}
    out.append("rates: " + ", ".join(f"{k} {'-' if v is None else f'{v:.1%}'}" for k, v in rates.items()))
    out.append(
        f"median turns per session {s['median_turns_per_session']}, "
        f"median seconds to order {s['median_seconds_to_order']}, revenue {s['revenue'] or 0}"
    )
    if data["zero_results"]:
        out.append("searches the catalog cannot answer:")
        for r in data["zero_results"][:10]:
            out.append(f"  {r['query']!r} ×{r['searches']} (at most {r['max_results']})")
    return out


@app.command("report")
def report_cmd(
    since: Annotated[str, typer.Option(help="ISO 8601 or 7d / 24h / 2w")] = "30d",
    until: Annotated[str | None, typer.Option(help="ISO 8601 or 7d / 24h / 2w; default now")] = None,
    report: Annotated[str | None, typer.Option(help="one report: summary, funnel, intents, …")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json, csv (needs --report)")] = "text",
    top: Annotated[int, typer.Option(min=1, max=200)] = 20,
    simulated: Annotated[bool, typer.Option(help="include simulated shoppers' sessions")] = False,
) -> None:
    """Funnel, intents, top and zero-result queries, products, rates for sessions started in the range."""
    from api.routers.staff import parse_when
    from assistant import analytics
    from assistant.errors import ShopAssistError

    if fmt not in ("text", "json", "csv"):
        raise fail(f"--format must be text, json or csv, not {fmt!r}")
    if report is not None and report not in analytics.REPORTS:
        raise fail(f"--report must be one of {', '.join(analytics.REPORTS)}")
    if fmt == "csv" and report is None:
        raise fail("--format csv needs --report NAME (one table per file)")
    try:
        rng = analytics.AnalyticsRange.of(parse_when(since, "since"), parse_when(until, "until"))
    except ShopAssistError as exc:
        raise fail(exc.message) from None
    with runtime() as rt, rt.db.session() as s:
        data = analytics.report(s, rng, top=top, simulated=simulated)
    if fmt == "csv":
        typer.echo(analytics.to_csv(data, str(report)), nl=False)
    elif fmt == "json":
        typer.echo(json.dumps(data if report is None else {report: data[report]}))
    else:
        for line in _text(data):
            typer.echo(line)
