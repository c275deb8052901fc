"""keel: the whole ML lifecycle in one package.

    import keel
    with keel.start_run(experiment="churn") as run:
        keel.log_params({"lr": 0.01})
        keel.log_metric("auc", 0.91)

``import keel`` is light: SQLAlchemy, pandas, pyarrow and every backend load on first use.
"""

from keel._fluent import (
    ActiveRun,
    active_run,
    client,
    compare_runs,
    connect,
    create_experiment,
    datasets,
    disconnect,
    download_artifacts,
    end_run,
    flush,
    get_experiment,
    get_run,
    lineage,
    list_artifacts,
    list_experiments,
    load_model,
    log_artifact,
    log_artifacts,
    log_dataset,
    log_dict,
    log_figure,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_text,
    register_model,
    search_runs,
    set_note,
    set_tag,
    set_tags,
    start_run,
)
from keel.app import Keel
from keel.errors import KeelError
from keel.tracking.models import RunStatus

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "Keel",
    "KeelError",
    "RunStatus",
    "active_run",
    "client",
    "compare_runs",
    "connect",
    "create_experiment",
    "datasets",
    "disconnect",
    "download_artifacts",
    "end_run",
    "flush",
    "get_experiment",
    "get_run",
    "lineage",
    "list_artifacts",
    "list_experiments",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_runs",
    "set_note",
    "set_tag",
    "set_tags",
    "start_run",
]
