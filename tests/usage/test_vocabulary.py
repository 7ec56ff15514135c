"""`usage.vocabulary`: every spelling GitHub uses maps to one identifier; unknown values
pass through normalised, never dropped; people get readable names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usage import vocabulary
from usage.vocabulary import product_id, product_label, sku_id, sku_label, unit_id, unit_label


@pytest.mark.parametrize(
    ("spelling", "identifier"),
    [
        ("Actions", "actions"),  # the REST description's example
        ("actions", "actions"),  # real answers, the CSV
        ("Git LFS", "git_lfs"),
        ("git_lfs", "git_lfs"),
        ("Copilot", "copilot"),
        ("GitHub Advanced Security", "ghas"),
        ("  Packages ", "packages"),
    ],
)
def test_products(spelling, identifier):
    assert product_id(spelling) == identifier


@pytest.mark.parametrize(
    ("spelling", "identifier"),
    [
        ("Actions Linux", "actions_linux"),  # REST usage report
        ("actions_linux", "actions_linux"),  # summary, budgets, CSV
        ("Actions storage", "actions_storage"),
        ("Actions Linux 4-core", "actions_linux_4_core"),
        ("Actions macOS 12-core", "actions_macos_l"),
        ("Copilot Business", "copilot_for_business"),
        ("Copilot for Business", "copilot_for_business"),
        ("copilot_for_business", "copilot_for_business"),
        ("Copilot Premium Request", "copilot_premium_request"),
        ("Copilot AI Credits", "copilot_ai_credit"),  # the ai_credit endpoint's example
        ("copilot_ai_credits", "copilot_ai_credit"),  # GitHub's SKU list
        ("copilot_ai_credit", "copilot_ai_credit"),  # the reports
        ("spark_ai_credits", "spark_ai_credit"),
        ("Packages data transfer", "packages_bandwidth"),
        ("Codespaces compute 2-core", "codespaces_compute_d2"),
        ("Codespaces compute (16-core)", "codespaces_compute_d16"),
        ("Git LFS storage", "git_lfs_storage"),
    ],
)
def test_skus(spelling, identifier):
    assert sku_id(spelling) == identifier


@pytest.mark.parametrize(
    ("spelling", "identifier"),
    [
        ("Minutes", "minutes"),
        ("minutes", "minutes"),
        ("GigabyteHours", "gigabyte-hours"),
        ("gigabyte-hours", "gigabyte-hours"),
        ("UserMonths", "user-months"),
        ("user-months", "user-months"),
        ("Requests", "requests"),
        ("credits", "ai-credits"),  # the ai_credit endpoint's example
        ("ai-credits", "ai-credits"),
        ("AICredits", "ai-credits"),
        ("Gigabytes", "gigabytes"),
        ("Hours", "hours"),
        ("GB-hours", "gigabyte-hours"),
    ],
)
def test_units(spelling, identifier):
    assert unit_id(spelling) == identifier


def test_unknown_values_pass_through_normalised():
    assert product_id("Quantum Compute") == "quantum_compute"
    assert sku_id("Quantum Compute 128-qubit") == "quantum_compute_128_qubit"
    assert unit_id("QubitSeconds") == "qubit-seconds"
    assert sku_id("Déploiement Été") == "déploiement_été"  # letters of any script kept
    assert product_label("quantum_compute") == "Quantum compute"
    assert sku_label("Quantum Compute 128-qubit") == "Quantum compute 128 qubit"
    assert unit_label("QubitSeconds") == "qubit-seconds"


def test_labels_for_people():
    assert product_label("git_lfs") == "Git LFS"
    assert product_label("Actions") == "Actions"
    assert sku_label("actions_linux") == "Actions Linux"
    assert sku_label("Copilot Business") == "Copilot Business"
    assert sku_label("copilot_ai_credits") == "Copilot AI credits"
    assert unit_label("GigabyteHours") == "GB-hours"
    assert unit_label("Minutes") == "minutes"
    assert unit_label("credits") == "AI credits"


def test_the_tables_are_written_in_their_own_spelling():
    """Every identifier the tables name is what the normaliser makes of it (so a stored
    identifier is stable), and every alias leads to an identifier of the table."""
    for identifier in vocabulary.PRODUCTS:
        assert product_id(identifier) == identifier
    for identifier in vocabulary.SKUS:
        assert sku_id(identifier) == identifier
        assert sku_id(vocabulary.SKUS[identifier]) == identifier, identifier
    for identifier in vocabulary.UNITS:
        assert unit_id(identifier) == identifier


@given(st.text(max_size=40))
def test_normalising_is_idempotent_and_never_empties_a_name(text):
    for normalise in (product_id, sku_id, unit_id):
        once = normalise(text)
        assert normalise(once) == once
        if text.strip():
            assert once
