"""kdocs: Kubernetes guides whose every snippet is validated and tested.

Modules in the order data flows (each stage imports only those above it):
    resource/          bytes -> objects: limits, YAML events, positions, fragments, CRD finder
    catalog, snippets  which snippets the pages use, and their files
    schema/            offline validation against Kubernetes schemas (CRDs included)
    scenario/          scenario files: model, parser, offline lint (for the cluster and site)
    cluster/           proof on a real cluster:
      plan             which units a run proves; what is refused offline first
      model            units, outcomes, step records, statuses (a leaf)
      providers/       kwok, kind, kubeconfig: a lazy name -> class table; _common steps
      kube, session    kubectl access and API kinds; one unit's namespace and cleanup
      operations       one class per step kind (apply, assert, error, delete), by a table
      hopeless         when an assert can no longer come true (it fails fast)
      defaults, kind_checks   the default check of a snippet no scenario uses
      runner, report, diagnose   run units; write results; what a failure shows
    results, recording one file of outcomes keyed by content hash; what a run records
    site/, mkdocs/     inject snippets with their badges, read the pages back
    cli, commands/     wire the stages: each subcommand's arguments and exit codes, only
                       there (validate, build, serve, new, cluster, status, test, results,
                       server)
    server/            the resident validator behind `kdocs validate --server`: the client's
                       fast path (cli imports it first), the daemon, where it listens
    output/            print a stage's report as text, JSON, JUnit or GitHub annotations
"""
