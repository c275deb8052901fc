"""keel's end-to-end demo on the embedded default store (no servers).

Trains a few scikit-learn models on the breast-cancer dataset that scikit-learn ships, tracks
each as a keel run (params, per-epoch metrics, the dataset versions it trained and was tested on,
the model itself), searches and compares the runs, then registers the best model, runs its
promotion gates, has a second person approve it, points the protected ``prod`` alias at it,
loads it back by alias, writes its model card and checks the audit chain. It ends by saying
where everything lives.

Run it with ``make demo`` (or ``python examples/demo.py`` inside the venv).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import keel
from keel.cli._common import console, render_table

EXPERIMENT = "demo-breast-cancer"


def promote_best(client: keel.Keel, best: keel.tracking.Run, sample: object) -> None:
    """Register the best run's model and take it through keel's promotion workflow."""
    from keel.registry import MetricGate, PromotionPolicy, TargetRules

    registry, approvals = client.registry, client.approvals
    if registry.search_registered_models("breast-cancer-classifier").items == []:
        registry.create_registered_model("breast-cancer-classifier", actor="data-scientist")
    approvals.set_policy(
        "breast-cancer-classifier",
        PromotionPolicy(
            targets={"production": TargetRules(
                metric_gates=[MetricGate("auc", ">=", threshold=0.95),
                              MetricGate("auc", ">=", relative_to_alias="prod", margin=-0.005)],
                required_fields=["signature", "dataset_lineage"],
                required_approvals=1,
            )},
            protected_aliases={"prod": "production"},
        ),
        actor="data-scientist",
    )
    version = registry.register_model(
        f"runs:/{best.run_id}/model", "breast-cancer-classifier", actor="data-scientist"
    ).version
    approvals.request_approval("breast-cancer-classifier", version, "production",
                               actor="data-scientist", reason="best AUC of the sweep")
    approvals.approve("breast-cancer-classifier", version, "production",
                      actor="ml-lead", reason="gates pass; reviewed the comparison")
    registry.set_alias("breast-cancer-classifier", "prod", version, actor="ml-lead")
    predictor = client.load_model("models:/breast-cancer-classifier@prod")
    gates = approvals.gate_history("breast-cancer-classifier", version, "production")
    render_table(
        f"breast-cancer-classifier v{version}: promotion gates",
        ["gate", "ok", "why"],
        [(g.gate_id, "yes" if g.passed else "no", g.message) for g in gates[-4:]],
    )
    from keel.governance import card_to_html, card_to_markdown

    client.governance.update_card_fields(
        "breast-cancer-classifier",
        {"intended_use": "Demonstration only: ranks breast-cancer screening cases for review."},
        actor="data-scientist",
    )
    card = client.governance.model_card("breast-cancer-classifier", version)
    cards = Path(".keel") / "cards"
    cards.mkdir(parents=True, exist_ok=True)
    (cards / f"breast-cancer-classifier-v{version}.md").write_text(card_to_markdown(card))
    (cards / f"breast-cancer-classifier-v{version}.html").write_text(card_to_html(card))
    console.print(f"model card: {cards.absolute()}/breast-cancer-classifier-v{version}.md "
                  f"(and .html); still to be written by a person: {', '.join(card.gaps)}",
                  soft_wrap=True)
    chain = client.audit.verify_audit_chain()
    console.print(
        f"@prod -> v{version}, approved by ml-lead; predictions by alias: "
        f"{predictor.predict(sample)[:5].tolist()}; audit chain "
        f"{'intact' if chain.ok else 'BROKEN'} ({chain.checked} records)"
    )


def main() -> int:
    home = Path(".keel").absolute()
    client = keel.connect()
    data = load_breast_cancer(as_frame=True)
    frame = data.frame
    train, test = train_test_split(frame, test_size=0.25, random_state=7, stratify=frame.target)
    features = [c for c in frame.columns if c != "target"]

    candidates = {
        "logreg": (make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                   {"model": "logistic_regression", "C": 1.0}),
        "forest": (RandomForestClassifier(n_estimators=200, max_depth=6, random_state=7),
                   {"model": "random_forest", "n_estimators": 200, "max_depth": 6}),
        "boosting": (GradientBoostingClassifier(n_estimators=150, learning_rate=0.05,
                                                random_state=7),
                     {"model": "gradient_boosting", "n_estimators": 150, "learning_rate": 0.05}),
    }
    run_ids = []
    with keel.start_run(EXPERIMENT, name="model-selection") as parent:
        parent.log_dataset(train, name="breast-cancer", context="train")
        parent.log_dataset(test, name="breast-cancer-test", context="test")
        for name, (model, params) in candidates.items():
            with keel.start_run(name=name) as run:
                run.log_params(params)
                run.log_dataset(train, name="breast-cancer", context="train")
                run.log_dataset(test, name="breast-cancer-test", context="test")
                model.fit(train[features], train.target)
                if isinstance(model, GradientBoostingClassifier):
                    # Learning curve: test log-loss after each boosting stage.
                    for step, proba in enumerate(model.staged_predict_proba(test[features])):
                        run.log_metric("test_logloss", log_loss(test.target, proba), step=step)
                proba = model.predict_proba(test[features])[:, 1]
                run.log_metrics({
                    "accuracy": accuracy_score(test.target, proba > 0.5),
                    "auc": roc_auc_score(test.target, proba),
                    "logloss": log_loss(test.target, proba),
                })
                run.log_dict({"features": features}, "features.json")
                run.log_model(model, "model", input_example=test[features].head(5))
                run_ids.append(run.run_id)

    best = keel.search_runs(EXPERIMENT, filter="metrics.auc > 0.9 and status = 'FINISHED'",
                            order_by=["metrics.auc DESC"])
    render_table(
        "runs with auc > 0.9, best first",
        ["run", "model", "auc", "accuracy"],
        [(r.name, r.params["model"].value, r.metrics["auc"].value, r.metrics["accuracy"].value)
         for r in best],
    )
    comparison = keel.compare_runs(run_ids)
    render_table(
        "comparison (differences highlighted)",
        ["kind", "key", *comparison.labels],
        [(r.kind, r.key, *r.values) for r in comparison.rows],
        highlight=lambda i: comparison.rows[i].differs,
    )
    promote_best(client, best.items[0], test[features])
    client.close()
    console.print(
        f"\n[bold]Where to look[/bold]\n"
        f"  metadata   {home / 'keel.db'} (SQLite)\n"
        f"  artifacts  {home / 'artifacts'}\n"
        f"  cards      {home / 'cards'}\n"
        f"  try        .venv/bin/keel runs list -e {EXPERIMENT}\n"
        f"             .venv/bin/keel datasets list\n"
        f"             .venv/bin/keel models show breast-cancer-classifier\n"
        f"             .venv/bin/keel audit list\n"
        f"             .venv/bin/keel runs compare {' '.join(run_ids)}\n"
        f"  share it   .venv/bin/keel server   (then keel.connect('http://127.0.0.1:5000'), or "
        f"MLFLOW_TRACKING_URI=http://127.0.0.1:5000 for mlflow scripts)",
        soft_wrap=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
