"""The users and workflows charts write amounts as every page does
(`usage.reporting.formatting.money`): rounded half up to the cent, a minus sign before
a credit."""

from decimal import Decimal

from usage.reporting.dimensions import users_chart, workflows_chart


def test_user_and_workflow_amounts_use_the_sites_money_format():
    users = users_chart(
        [
            {"user_login": "octocat", "net_amount": Decimal("0.125")},
            {"user_login": "", "net_amount": Decimal("-1234.5")},
        ]
    )
    assert users.rows == [["octocat", "$0.13"], ["(no user)", "−$1,234.50"]]
    assert users.summary == "octocat spent the most: $0.13 net."
    workflows = workflows_chart(
        [
            {
                "key": "acme/app/.github/workflows/ci.yml",
                "repository": "acme/app",
                "workflow": ".github/workflows/ci.yml",
                "net_amount": Decimal("2.005"),
            }
        ]
    )
    assert workflows.rows == [[".github/workflows/ci.yml", "acme/app", "$2.01"]]


def test_bars_carry_their_words_in_the_hover_only_not_printed_on_each_bar():
    chart = users_chart([{"user_login": "octocat", "net_amount": Decimal("3")}])
    (trace,) = chart.figure["data"]
    assert "text" not in trace  # plotly.js printed "net" on every bar
    assert trace["customdata"] == ["net"] and "%{customdata}" in trace["hovertemplate"]
