"""The one defusing of CSV text cells (`usage.reporting.formatting.csv_text`), used by
the usage, report-items and Copilot exports."""

import csv

from usage.reporting.formatting import FORMULA_START, Echo, csv_text


def test_text_a_spreadsheet_would_run_gets_an_apostrophe():
    for start in FORMULA_START:
        assert csv_text(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"
    assert csv_text("acme/app") == "acme/app" and csv_text("") == ""


def test_echo_gives_each_line_to_a_streamed_response():
    assert csv.writer(Echo()).writerow(["a", "b,c"]) == 'a,"b,c"\r\n'
