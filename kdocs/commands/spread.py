"""`kdocs test --clusters K`: one run's units spread over K kwok clusters of this checkout.

One cluster already runs independent units in parallel (`--jobs`); what it
cannot do is run two exclusive units, or two units that touch the same
cluster-wide object, at once, and its one API server and scheduler serialise
much of the rest. K clusters (each its own name, folder and ports: the
checkout's cluster name with `-spread<I>` appended) lift that, at the price of
K control planes sharing the machine's cores: benchmarks/README.md says where
that pays. The units are split exactly as `--shard I/K` would split them
(`kdocs/shards.py`), each share runs on its own cluster at the same time, and
every verdict goes through the caller's one `on_done`, so the results file is
written as by an unspread run (same keys, same cluster label: the first
cluster's). Only kwok can make extra clusters; other providers are refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kdocs.cluster.base import Cluster, Provider
from kdocs.cluster.health import sweep_orphans
from kdocs.cluster.model import Outcome, Unit
from kdocs.cluster.runner import run_units
from kdocs.cluster.session import RunContext
from kdocs.errors import UnusableInputError
from kdocs.shards import Work, assign

SUFFIX = "-spread"  # cluster I (I >= 2) of a run is "<the cluster's name>-spread<I>"


def check_clusters(count: int, provider_name: str) -> None:
    """Refuse `--clusters K` (K > 1) before anything runs when the provider cannot make clusters."""
    if count > 1 and provider_name != "kwok":
        raise UnusableInputError(
            "--clusters", f"only the kwok provider can make extra clusters, not {provider_name}"
        )


def spread_units(
    ctx: RunContext, provider: Provider, topology: str, units: list[Unit], count: int,
    jobs: int, progress: Any, on_done: Callable[[Unit, Outcome], None],
    key: Callable[[Unit], str], durations: Callable[[], dict[str, float]],
) -> list[Outcome]:  # fmt: skip
    """`run_units` over `count` clusters: outcomes in the order of `units`.

    `ctx` is the first cluster's (already up); `key` names a unit and `durations` gives
    the recorded seconds by name, as sharding uses them. A Ctrl-C or a dead cluster
    stops every share (they share `ctx.cancel`); a dead extra one is put on `ctx.unhealthy`.
    """
    count = min(count, len(units))
    recorded = durations()
    if count <= 1:
        seconds = [recorded.get(key(unit)) for unit in units]
        return run_units(ctx, units, jobs, progress, on_done, seconds)
    check_clusters(count, provider.name)
    names = [key(unit) for unit in units]
    work = [Work(n, recorded.get(n), u.exclusive) for n, u in zip(names, units, strict=True)]
    index_of = {name: i for i, name in enumerate(names)}
    shares = [[index_of[name] for name in names] for names in assign(work, count)]
    clusters = [ctx.cluster, *_extra_clusters(provider, topology, count, progress)]
    contexts = (
        [ctx]
        + [
            RunContext(
                cluster,
                ctx.root,
                cancel=ctx.cancel,
                run_id=ctx.run_id,
                rollout_timeout=ctx.rollout_timeout,
                snippets_dir=ctx.snippets_dir,
            )  # fmt: skip
            for cluster in clusters[1:]
        ]
    )
    for cluster in clusters[1:]:
        for line in sweep_orphans(cluster).notes():
            progress.note(line)
    record_lock = threading.Lock()  # each share's runner locks only its own threads

    def record(unit: Unit, outcome: Outcome) -> None:
        with record_lock:
            on_done(unit, outcome)

    results: list[list[Outcome] | None] = [None] * count

    def run_share(number: int) -> None:
        chosen = [units[i] for i in shares[number]]
        seconds = [recorded.get(names[i]) for i in shares[number]]
        results[number] = run_units(contexts[number], chosen, jobs, progress, record, seconds)

    for number, cluster in enumerate(clusters):
        progress.note(f"cluster {cluster.context}: {len(shares[number])} unit(s)")
    others = [threading.Thread(target=run_share, args=(n,)) for n in range(1, count)]
    for thread in others:
        thread.start()
    run_share(0)  # here, in the main thread, so Ctrl-C reaches a runner and stops them all
    try:
        for thread in others:
            thread.join()
    except KeyboardInterrupt:
        ctx.cancel.set()
        for thread in others:
            thread.join()
    ctx.unhealthy = ctx.unhealthy or next((c.unhealthy for c in contexts if c.unhealthy), None)
    outcomes: dict[int, Outcome] = {}
    for number, share in enumerate(shares):
        outcomes.update(zip(share, results[number] or [], strict=True))
    return [outcomes[i] for i in range(len(units))]


def _extra_clusters(provider: Provider, topology: str, count: int, progress: Any) -> list[Cluster]:
    """Clusters 2..count, brought up (or reused warm) at the same time."""
    from kdocs.cluster.providers.kwok import KwokProvider

    assert isinstance(provider, KwokProvider)  # check_clusters refused the others
    extras = [
        KwokProvider(
            provider.settings,
            cluster_name=f"{provider.cluster_name}{SUFFIX}{number}",
            workdir=provider.workdir,
            kubernetes_version=provider.kubernetes_version,
            log=progress.note,
        )  # fmt: skip
        for number in range(2, count + 1)
    ]
    with ThreadPoolExecutor(max_workers=len(extras)) as pool:
        return list(pool.map(lambda extra: extra.up(topology), extras))


def down_spread_clusters(provider: Provider) -> list[str]:
    """Remove the extra clusters `--clusters` made beside kwok `provider`'s (`kdocs cluster
    down`); their names."""
    from kdocs.cluster.providers.kwok import KwokProvider

    assert isinstance(provider, KwokProvider)
    folder = provider.workdir / "clusters"
    pattern = f"{provider.cluster_name}{SUFFIX}*"
    names = sorted(p.name for p in folder.glob(pattern)) if folder.is_dir() else []
    for name in names:
        KwokProvider(
            provider.settings, cluster_name=name, workdir=provider.workdir, log=provider.log
        ).down()
    return names
