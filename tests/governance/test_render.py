"""Cards and datasheets rendered as Markdown (YAML front matter), standalone HTML and JSON."""

from __future__ import annotations

import json
import math
import re

import yaml

from keel import Keel
from keel.governance import (
    GovernanceService,
    ModelCard,
    card_to_dict,
    card_to_html,
    card_to_markdown,
    datasheet_to_dict,
    datasheet_to_html,
    datasheet_to_markdown,
)
from tests.governance._build import register_version

INJECTED = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def service(client: Keel) -> GovernanceService:
    return GovernanceService(client.registry, client.approvals, client.runs, client.datasets)


def a_card(client: Keel) -> ModelCard:
    client.registry.create_registered_model(
        "churn", description=f"Churn {INJECTED}", tags={"license": "apache-2.0", "team": "crm"},
        actor="alice",
    )
    register_version(client, auc=0.9)
    client.registry.log_decision("churn", title=f"Pick {INJECTED}", context="why",
                                 decision=f"we do {INJECTED}", consequences="so")
    return service(client).model_card("churn", 1)


def front_matter(markdown: str) -> dict[str, object]:
    assert markdown.startswith("---\n")
    block = markdown[4:].split("\n---\n", 1)[0]
    parsed = yaml.safe_load(block)
    assert isinstance(parsed, dict)
    return parsed


def test_markdown_front_matter_is_yaml_in_the_hugging_face_style(keel_client: Keel) -> None:
    card = a_card(keel_client)
    matter = front_matter(card_to_markdown(card))
    assert matter["model_name"] == "churn" and matter["model_version"] == 1
    assert matter["library_name"] == "sklearn" and matter["license"] == "apache-2.0"
    assert matter["tags"] == ["keel", "team:crm"]
    assert matter["datasets"] == ["churn-test:1", "churn-train:1"]
    assert matter["metrics"] == ["auc"]
    keel_block = matter["keel"]
    assert isinstance(keel_block, dict)
    assert keel_block["uri"] == "models:/churn/1" and keel_block["metric_values"] == {"auc": 0.9}
    assert keel_block["gaps"] == list(card.gaps)


def test_markdown_has_every_section_and_shows_gaps_without_inventing_text(
    keel_client: Keel,
) -> None:
    markdown = card_to_markdown(a_card(keel_client))
    for heading in ("# Model card: churn v1", "## Uses and limitations", "### Intended use",
                    "### Out-of-scope uses", "### Limitations", "### Ethical considerations",
                    "## Parameters", "## Training and evaluation data", "## Metrics",
                    "### Per-slice metrics", "## Lineage", "## Approval history",
                    "## Alias history", "## Performance history", "## Decision log"):
        assert f"\n{heading}\n" in f"\n{markdown}", heading
    gap = ("_Not documented yet — fill in with "
           "`keel models card churn --version 1 --set intended_use=…`_")
    assert gap in markdown
    assert markdown.count("_Not documented yet") == 4
    assert "| segment=a | 0.85 |" in markdown


def test_written_fields_replace_the_gap_lines(keel_client: Keel) -> None:
    register_version(keel_client, auc=0.9)
    governance = service(keel_client)
    governance.update_card_fields("churn", {"intended_use": "Rank | accounts."})
    markdown = card_to_markdown(governance.model_card("churn", 1))
    assert "Rank | accounts." in markdown
    assert "--set intended_use=" not in markdown
    assert markdown.count("_Not documented yet") == 3


def test_html_is_standalone_and_escapes_what_people_wrote(keel_client: Keel) -> None:
    page = card_to_html(a_card(keel_client))
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "we do &lt;script&gt;" in page
    # Every "<" left in the page opens one of keel's own tags: none loads anything.
    assert "<link" not in page and not re.search(r"<[^>]*\b(src|href)=", page)
    assert "http" not in page
    assert page.count('class="gap"') == 4


def test_json_round_trips_strictly(keel_client: Keel) -> None:
    card = a_card(keel_client)
    as_dict = card_to_dict(card)
    text = json.dumps(as_dict, allow_nan=False)
    back = json.loads(text)
    assert back == as_dict
    assert back["details"]["name"] == "churn"
    assert back["gaps"] == ["intended_use", "out_of_scope", "limitations",
                            "ethical_considerations"]
    assert back["approvals"] == [] and back["decisions"][0]["title"].startswith("Pick ")
    assert back["metrics"]["slices"][0]["slice"] == "segment=a"


def test_non_finite_metrics_become_strings_in_json(keel_client: Keel) -> None:
    register_version(keel_client, auc=math.nan)
    back = json.loads(json.dumps(card_to_dict(service(keel_client).model_card("churn", 1)),
                                 allow_nan=False))
    assert back["metrics"]["overall"]["auc"] == "NaN"


def test_a_datasheet_lists_composition_splits_and_the_models_built_from_it(
    keel_client: Keel,
) -> None:
    register_version(keel_client, auc=0.9)
    register_version(keel_client, auc=0.8, name="churn-b")
    keel_client.registry.set_alias("churn", "champion", 1)
    sheet = service(keel_client).datasheet("churn-train:1")
    assert (sheet.name, sheet.version, sheet.num_rows) == ("churn-train", 1, 200)
    assert [c.name for c in sheet.columns] == ["a", "b"] and sheet.columns[1].std is not None
    assert sheet.splits == {"train": 2} and len(sheet.runs) == 2
    assert [(m.name, m.version, m.aliases) for m in sheet.models] == [
        ("churn", 1, ("champion",)), ("churn-b", 1, ())
    ]

    markdown = datasheet_to_markdown(sheet)
    assert front_matter(markdown)["models"] == ["churn:1", "churn-b:1"]
    assert "## Models built from it" in markdown and "| churn | v1 | champion |" in markdown
    page = datasheet_to_html(sheet)
    assert "<script" not in page and "<link" not in page and "churn-b" in page
    assert json.loads(json.dumps(datasheet_to_dict(sheet)))["splits"] == {"train": 2}


def test_a_datasheet_shows_other_versions_of_the_dataset(keel_client: Keel) -> None:
    register_version(keel_client, auc=0.9, seed=1)
    register_version(keel_client, auc=0.9, seed=2)
    sheet = service(keel_client).datasheet("churn-train@latest")
    assert sheet.version == 2 and [v[0] for v in sheet.other_versions] == [1]
    assert [(m.name, m.version) for m in sheet.models] == [("churn", 2)]
